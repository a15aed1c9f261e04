"""The score in the monthly reports: the workbook's 考核得分 and 扣分明细 sheets and the PDF's section 五
hold the score marts' figures (docs/decisions.md D-135..D-139)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import openpyxl
import pypdf
import pytest

from kefu import cli, rulebook
from kefu.reports import workbook
from kefu.reports.score import PDF_LOWEST_TECHNICIANS

MONTH = "2026-03"
GRAIN_ZH = {"片区": "district", "片区负责人": "district_head", "维修人员": "technician"}


@pytest.fixture(scope="module")
def warehouse(built_demo) -> Path:
    return built_demo(1, 3)[0]


@pytest.fixture(scope="module")
def out(warehouse, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("score_reports")
    assert cli.main(["report", "--month", MONTH, "--warehouse", str(warehouse), "--out", str(folder)]) == 0
    return folder


def query(warehouse: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def sheet_rows(book, prefix: str) -> list[dict]:
    ws = next(ws for ws in book.worksheets if ws.title.startswith(prefix))
    keys = [c.value for c in ws[workbook.HEADER_ROWS]]
    return [dict(zip(keys, r)) for r in ws.iter_rows(min_row=workbook.HEADER_ROWS + 1, values_only=True)]


def test_the_score_sheet_holds_every_scored_unit_with_its_rank_and_year_to_date(out, warehouse):
    book = openpyxl.load_workbook(out / f"assessment_{MONTH}.xlsx")
    shown = {(GRAIN_ZH[r["Grain"]], r["Unit ID"]): r for r in sheet_rows(book, "考核得分")}
    marts = query(
        warehouse,
        """
        select s.grain, s.unit_id, s.score, s.score_rank, y.score_average_ytd, y.rank_ytd, s.measures_failed
        from marts.kpi_score_monthly s join marts.kpi_score_yearly y using (grain, unit_id, period_month)
        where s.period_month = ?""",
        [MONTH],
    )
    assert {(g, u) for g, u, *_ in marts} == set(shown)
    assert {g for g, _ in shown} == {"district", "district_head", "technician"}
    for grain, unit, score, rank, ytd, rank_ytd, failed in marts:
        row = shown[(grain, unit)]
        assert (row["Score"], row["Rank"], row["Rank YTD"], row["Measures failed"]) == (score, rank, rank_ytd, failed)
        assert row["Average YTD"] == pytest.approx(ytd)


def test_the_deductions_sheet_adds_up_to_each_units_deductions(out, warehouse):
    book = openpyxl.load_workbook(out / f"assessment_{MONTH}.xlsx")
    points: dict[tuple[str, str], float] = {}
    for r in sheet_rows(book, "扣分明细"):
        key = (GRAIN_ZH[r["Grain"]], r["Unit ID"])
        points[key] = points.get(key, 0.0) + r["Points"]
        assert r["Points"] == rulebook.score_scheme().deduction(r["Rule"])
    marts = {
        (g, u): d * m
        for g, u, d, m in query(
            warehouse,
            "select grain, unit_id, deductions_uncapped, members from marts.kpi_score_monthly "
            "where period_month = ? and measures_failed > 0",
            [MONTH],
        )
    }
    assert points.keys() == marts.keys()
    assert all(points[k] == pytest.approx(marts[k]) for k in marts)


def test_the_pdf_score_section_lists_every_district_and_head_and_the_lowest_technicians(out, warehouse):
    pages = [p.extract_text() for p in pypdf.PdfReader(out / f"service_report_{MONTH}.pdf").pages]
    text = "\n".join(re.sub(r"[ \t\u00a0]+", " ", line).strip() for p in pages for line in p.splitlines())
    section = text[text.index("五、考核得分") :]
    scheme = rulebook.score_scheme()
    assert f"每月最多扣 {scheme.cap:g} 分" in section
    for grain in ("district", "district_head"):
        for unit, score, rank, measurable, scored in query(
            warehouse,
            "select unit_id, score, score_rank, measures_measurable, measures_scored "
            "from marts.kpi_score_monthly where period_month = ? and grain = ?",
            [MONTH, grain],
        ):
            assert re.search(rf"^{rank} .*{unit} {score:g} {measurable} / {scored} ", section, re.M), (grain, unit)
    technicians = query(
        warehouse,
        "select unit_id, score from marts.kpi_score_monthly where period_month = ? "
        "and grain = 'technician' and score is not null order by score, unit_id",
        [MONTH],
    )
    tech_part = section[section.index("维修人员得分") :]
    listed = [u for u, _ in technicians if re.search(rf" {u} ", tech_part)]
    assert listed == [u for u, _ in technicians][:PDF_LOWEST_TECHNICIANS]

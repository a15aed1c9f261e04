"""The monthly assessment workbook: its values equal the marts, its formats are there, and no
text from the warehouse ever becomes a live formula."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from kefu.reports import data, workbook
from kefu.reports.data import GRAINS, RESULTS

MONTH = "2026-03"
HEADER_ROWS = workbook.HEADER_ROWS


@pytest.fixture(scope="module")
def warehouse(built_demo) -> Path:
    return built_demo(1, 3)[0]


def _write(warehouse: Path, path: Path, month: str = MONTH) -> Path:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return workbook.write(data.load_month(con, month), path)
    finally:
        con.close()


@pytest.fixture(scope="module")
def book(warehouse, tmp_path_factory) -> openpyxl.Workbook:
    return openpyxl.load_workbook(_write(warehouse, tmp_path_factory.mktemp("wb") / "a.xlsx"))


def query(warehouse: Path, sql: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def sheet_rows(ws) -> list[dict]:
    """Data rows keyed by the English header (row 3)."""
    keys = [c.value for c in ws[HEADER_ROWS]]
    return [dict(zip(keys, r)) for r in ws.iter_rows(min_row=HEADER_ROWS + 1, values_only=True)]


def sheet(book, prefix: str):
    return next(ws for ws in book.worksheets if ws.title.startswith(prefix))


def test_every_grain_sheet_equals_kpi_rule_results(book, warehouse):
    expected = query(
        warehouse,
        "select grain, measure_id, unit_id, numerator, denominator, value, threshold, passed "
        "from marts.kpi_rule_results where period_month = $m",
        {"m": MONTH},
    )
    assert expected
    grains = {g for g, *_ in expected}
    for grain in grains:
        got = {(r["Rule"], r["Unit ID"]): r for r in sheet_rows(sheet(book, GRAINS[grain][0] + " "))}
        want = {(rule, unit): rest for g, rule, unit, *rest in expected if g == grain}
        assert got.keys() == want.keys(), grain
        for key, (num, den, value, threshold, passed) in want.items():
            row = got[key]
            assert (row["Numerator"], row["Denominator"]) == (num, den), key
            assert row["Value"] == pytest.approx(value, rel=1e-12), key
            assert row["Threshold"] == (pytest.approx(threshold, rel=1e-12) if threshold is not None else None), key
            assert row["Result"] == RESULTS[passed], key


def test_summary_sheet_holds_the_company_value_and_failed_units(book, warehouse):
    rows = {r["Rule"]: r for r in sheet_rows(sheet(book, "概览"))}
    company = query(
        warehouse,
        "select measure_id, value, passed from marts.kpi_rule_results where period_month = $m and grain = 'company'",
        {"m": MONTH},
    )
    for rule, value, passed in company:
        assert rows[rule]["Company value"] == pytest.approx(value, rel=1e-12)
        assert rows[rule]["Company result"] == RESULTS[passed]
    failed = query(
        warehouse,
        "select measure_id, count(*) filter (where not passed) from marts.kpi_rule_results "
        "where period_month = $m and grain <> 'company' group by 1",
        {"m": MONTH},
    )
    for rule, n in failed:
        assert rows[rule]["Units failed"] == n, rule


def test_district_assessment_sheet_equals_the_mart(book, warehouse):
    got = {r["District ID"]: r for r in sheet_rows(sheet(book, "片区考核"))}
    cur = duckdb.connect(str(warehouse), read_only=True)
    mart = cur.execute("select * from marts.kpi_district_monthly where period_month = $m", {"m": MONTH})
    cols = [d[0] for d in mart.description]
    rows = [dict(zip(cols, r)) for r in mart.fetchall()]
    cur.close()
    assert got.keys() == {r["district_id"] for r in rows}
    for r in rows:
        g = got[r["district_id"]]
        assert g["District"] == r["district_name"]
        for rule in ("a1", "a2", "a3", "a4", "a6"):
            rid = rule.upper()
            assert g[f"{rid} numerator"] == r[f"{rule}_numerator"]
            assert g[f"{rid} value"] == (pytest.approx(r[f"{rule}_value"]) if r[f"{rule}_value"] is not None else None)
            judged = r[f"{rule}_value"] is not None
            assert g[f"{rid} result"] == (RESULTS[r[f"{rule}_passed"]] if judged else None)
        assert g["Rules failed"] == r["rules_failed"]


def test_year_to_date_sheet_counts_months_passed_and_failed(book, warehouse):
    want = query(
        warehouse,
        """
        select measure_id, grain, unit_id, count(*), count(*) filter (where passed), count(*) filter (where not passed)
        from marts.kpi_rule_results
        where left(period_month, 4) = $y and period_month <= $m and threshold is not null
        group by all""",
        {"m": MONTH, "y": MONTH[:4]},
    )
    labels = {zh: g for g, (zh, _) in GRAINS.items()}
    got = {
        (r["Rule"], labels[r["Grain"]], r["Unit ID"]): (r["Months judged"], r["Months passed"], r["Months failed"])
        for r in sheet_rows(sheet(book, "年度累计"))
    }
    assert got == {(rule, grain, unit): tuple(n) for rule, grain, unit, *n in want}
    assert max(n for *_, n in want) > 0  # the demo has units that failed in several months


def test_ticket_sheet_lists_every_late_ticket_behind_the_red_cells(book, warehouse):
    # a red cell's late tickets number denominator - numerator (analyst guide); the districts partition them
    want = dict(
        query(
            warehouse,
            "select measure_id, sum(denominator - numerator) from marts.kpi_rule_results "
            "where period_month = $m and grain = 'district' and measure_id in "
            "(select measure_id from marts.fct_ticket_sla) group by 1",
            {"m": MONTH},
        )
    )
    got: dict[str, int] = {}
    for r in sheet_rows(sheet(book, "未达标工单")):
        got[r["Rule"]] = got.get(r["Rule"], 0) + 1
    assert got == {k: v for k, v in want.items() if v}


def test_regulation_sheet_quotes_the_rulebook_seed(book, warehouse):
    want = dict(query(warehouse, "select measure_id, wording from rulebook.rulebook_measures"))
    got = {r["Measure"]: r["Regulation wording"] for r in sheet_rows(sheet(book, "规定原文"))}
    assert got == want


def test_every_sheet_has_frozen_headers_an_autofilter_and_coloured_results(book):
    for ws in book.worksheets:
        assert ws.freeze_panes and ws.freeze_panes.endswith(str(HEADER_ROWS + 1)), ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A3:"), ws.title
        assert ws[1][0].value and ws[2][0].value, ws.title  # title row, Chinese header
        results = [i for i, c in enumerate(ws[HEADER_ROWS]) if c.value and "esult" in c.value]
        if results:
            rules = [(str(rng.sqref), rule) for rng in ws.conditional_formatting for rule in rng.rules]
            red = [r for rng, r in rules if r.type == "cellIs" and r.formula == [f'"{RESULTS[False]}"']]
            assert len(red) >= len(results), ws.title
            assert all(r.dxf.fill is not None for r in red), ws.title


def test_first_month_of_the_data_has_no_last_month(warehouse, tmp_path):
    wb = openpyxl.load_workbook(_write(warehouse, tmp_path / "jan.xlsx", "2026-01"))
    rows = sheet_rows(sheet(wb, GRAINS["district"][0] + " "))
    assert rows and all(r["Last month"] is None and r["Last month result"] is None for r in rows)


PLANTED = {
    # unit names come from marts.dim_unit (D-152)
    (
        "marts.dim_unit",
        "unit_name",
        "grain = 'district' and unit_id = 'D01'",
    ): '=HYPERLINK("http://example.com","点我")',
    ("marts.dim_unit", "unit_name", "grain = 'technician' and unit_id = 'W00002'"): "@SUM(1+1)",
    ("rulebook.rulebook_measures", "wording", "measure_id = 'T1'"): "+1+2 投诉内容",
    ("rulebook.rulebook_measures", "name_zh", "measure_id = 'T2'"): "-3+4 工单摘要",
}


def test_text_that_looks_like_a_formula_stays_text(warehouse, tmp_path):
    copy = tmp_path / "kefu.duckdb"
    shutil.copyfile(warehouse, copy)
    con = duckdb.connect(str(copy))
    for (table, column, where), text in PLANTED.items():
        con.execute(f"update {table} set {column} = $t where {where}", {"t": text})
    con.close()
    path = _write(copy, tmp_path / "planted.xlsx")
    wb = openpyxl.load_workbook(path)
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} became a formula: {c.value!r}"
                if c.value in PLANTED.values():
                    found[c.value] = c.data_type
    assert found == dict.fromkeys(PLANTED.values(), "s")
    with zipfile.ZipFile(path) as z:
        assert not [n for n in z.namelist() if n.startswith("xl/worksheets/") and b"<f>" in z.read(n)]

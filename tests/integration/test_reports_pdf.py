"""`kefu report`: the 服务监督报告 PDF and the weekly summaries are Chinese text with an embedded
CJK font, and every figure they print equals the marts. Renders page 1 to docs/img/report_page1.png."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pypdf
import pytest

from kefu import cli
from kefu.reports.data import GRAINS, RESULTS
from kefu.reports.pdf import WORST_PER_GRAIN, fmt_value

MONTH, PREV = "2026-03", "2026-02"


@pytest.fixture(scope="module")
def warehouse(built_demo) -> Path:
    return built_demo(1, 3)[0]


@pytest.fixture(scope="module")
def out(warehouse, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("reports")
    assert cli.main(["report", "--month", MONTH, "--warehouse", str(warehouse), "--out", str(folder)]) == 0
    return folder


def query(warehouse: Path, sql: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def text_of(pdf: Path) -> str:
    """The PDF's text, whitespace runs collapsed to one space per line."""
    pages = [p.extract_text() for p in pypdf.PdfReader(pdf).pages]
    return "\n".join(re.sub(r"[ \t\u00a0]+", " ", line).strip() for p in pages for line in p.splitlines())


@pytest.fixture(scope="module")
def report_text(out) -> str:
    return text_of(out / f"service_report_{MONTH}.pdf")


def test_the_report_writes_workbook_pdf_and_one_weekly_summary_per_friday_meeting(out, warehouse):
    (as_of,) = query(warehouse, "select max(as_of_date) from intermediate.int_tickets_as_of")[0]
    first = date.fromisoformat(MONTH + "-01")
    fridays = [
        first + timedelta(days=i)
        for i in range(31)
        if (first + timedelta(days=i)).month == first.month
        and (first + timedelta(days=i)).weekday() == 4
        and first + timedelta(days=i) <= as_of + timedelta(days=1)
    ]
    assert fridays
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"assessment_{MONTH}.xlsx", f"service_report_{MONTH}.pdf"] + [f"weekly_summary_{d}.pdf" for d in fridays]
    )


def test_pdf_text_extracts_as_chinese(report_text):
    assert "服务监督报告" in report_text and "2026年3月" in report_text and "未达标规则明细" in report_text
    han = sum("\u4e00" <= ch <= "\u9fff" for ch in report_text)
    assert han > 2000


def test_every_pdf_embeds_a_cjk_font(out):
    for pdf in out.glob("*.pdf"):
        embedded = set()
        for page in pypdf.PdfReader(pdf).pages:
            for font in page["/Resources"]["/Font"].values():
                font = font.get_object()
                for desc in font.get("/DescendantFonts", []):
                    fd = desc.get_object()["/FontDescriptor"].get_object()
                    if any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                        embedded.add(str(font["/BaseFont"]))
        assert any("CJK" in name for name in embedded), (pdf.name, embedded)


def test_headline_figures_equal_the_marts(report_text, warehouse):
    ((judged, failed),) = query(
        warehouse,
        "select count(*) filter (where threshold is not null), "
        "count(*) filter (where not passed) from marts.kpi_rule_results "
        "where period_month = $m",
        {"m": MONTH},
    )
    ((prev_failed,),) = query(
        warehouse,
        "select count(*) filter (where not passed) from marts.kpi_rule_results where period_month = $m",
        {"m": PREV},
    )
    ((late,),) = query(
        warehouse,
        "select count(*) from marts.fct_ticket_sla where period_month = $m and is_judged and not is_met",
        {"m": MONTH},
    )
    assert f"{failed} / {judged}" in report_text
    assert f"上月 {prev_failed} 项次" in report_text
    assert f"{late:,} 项" in report_text


def test_every_company_figure_and_its_change_equal_kpi_rule_results(report_text, warehouse):
    rows = query(
        warehouse,
        """
        select r.measure_id, r.name_zh, r.value, r.threshold, r.passed, m.value_kind
        from marts.kpi_rule_results as r join rulebook.rulebook_measures as m on m.measure_id = r.measure_id
        where r.period_month = $m and r.grain = 'company'""",
        {"m": MONTH},
    )
    assert len(rows) > 20
    for rule, name, value, threshold, passed, kind in rows:
        line = f"{rule} {name} {fmt_value(value, kind)} {fmt_value(threshold, kind)} {RESULTS[passed]}"
        assert line in report_text, line


def test_failed_rules_show_their_worst_units_and_late_tickets_from_the_marts(report_text, warehouse):
    section = report_text.split("三、未达标规则明细")[1].split("四、与上月对比")[0]
    results = {
        (rule, grain, unit): (num, den, value, passed, kind)
        for rule, grain, unit, num, den, value, passed, kind in query(
            warehouse,
            """
                   select r.measure_id, r.grain, r.unit_id, r.numerator, r.denominator, r.value, r.passed, m.value_kind
                   from marts.kpi_rule_results as r join rulebook.rulebook_measures as m on m.measure_id = r.measure_id
                   where r.period_month = $m""",
            {"m": MONTH},
        )
    }
    labels = {zh: g for g, (zh, _) in GRAINS.items()}
    unit_row = re.compile(rf"^({'|'.join(labels)}) \S+ (\S+) ([\d,]+) / ([\d,]+) (\S+) ")
    shown: dict[tuple[str, str], int] = {}
    blocks: dict[str, str] = {}
    rule = None
    for line in section.splitlines():
        if m := re.match(r"^([A-Z]\d+(?:\.\d+)?) ", line):
            rule = m.group(1)
        blocks[rule] = blocks.get(rule, "") + line + "\n"
        if m := unit_row.match(line):
            grain = labels[m.group(1)]
            num, den, value, passed, kind = results[(rule, grain, m.group(2))]
            assert (f"{num:,}", f"{den:,}", fmt_value(value, kind)) == m.group(3, 4, 5), line
            assert passed is False, line
            shown[(rule, grain)] = shown.get((rule, grain), 0) + 1
    failed = query(
        warehouse,
        "select measure_id, grain, count(*) filter (where not passed) from marts.kpi_rule_results "
        "where period_month = $m and grain <> 'company' group by all "
        "having count(*) filter (where not passed) > 0",
        {"m": MONTH},
    )
    assert shown == {(r, g): min(n, WORST_PER_GRAIN) for r, g, n in failed}
    for r, g, n in failed:
        assert f"{GRAINS[g][0]}未达标 {n} /" in blocks[r], (r, g)
    for r, n in query(
        warehouse,
        "select measure_id, count(*) from marts.fct_ticket_sla where period_month = $m "
        "and is_judged and not is_met group by 1",
        {"m": MONTH},
    ):
        assert f"本规则本月共 {n} 项" in blocks[r], r


def test_trends_against_last_month_equal_the_marts(report_text, warehouse):
    section = report_text.split("四、与上月对比")[1]
    rows = query(
        warehouse,
        """
        select r.grain, count(*), count(*) filter (where not r.passed), count(*) filter (where not p.passed),
               count(*) filter (where not r.passed and p.passed), count(*) filter (where r.passed and not p.passed)
        from marts.kpi_rule_results as r
        left join marts.kpi_rule_results as p
            on p.measure_id = r.measure_id and p.grain = r.grain and p.unit_id = r.unit_id and p.period_month = $p
        where r.period_month = $m and r.threshold is not null group by 1""",
        {"m": MONTH, "p": PREV},
    )
    for grain, *n in rows:
        line = f"{GRAINS[grain][0]} {GRAINS[grain][1]} " + " ".join(str(x) for x in n)
        assert line in section, line


def test_weekly_summaries_count_the_ticket_items_judged_in_their_week(out, warehouse):
    weeklies = sorted(out.glob("weekly_summary_*.pdf"))
    assert weeklies
    for pdf in weeklies:
        meeting = datetime.fromisoformat(pdf.stem.removeprefix("weekly_summary_"))
        text = text_of(pdf)
        assert "客户服务周报" in text
        rows = query(
            warehouse,
            """
            select measure_id, any_value(name_zh), count(*), count(*) filter (where is_met), count(*) filter (where not is_met)
            from marts.fct_ticket_sla
            where is_judged and outcome_at >= $start and outcome_at < $end group by 1""",
            {"start": meeting - timedelta(days=7), "end": meeting},
        )
        assert rows
        for rule, name, judged, met, late in rows:
            line = f"{rule} {name} {judged:,} {met:,} {late:,} {fmt_value(met / judged)}"
            assert line in text, (pdf.name, line)
        late_total = sum(r[4] for r in rows)
        assert not late_total or f"本周共 {late_total} 项超时" in text


def test_cli_refuses_a_month_the_warehouse_does_not_hold(warehouse, tmp_path, capsys):
    assert cli.main(["report", "--month", "2031-07", "--warehouse", str(warehouse), "--out", str(tmp_path)]) == 1
    assert "no rule results for 2031-07" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="pdftoppm (poppler-utils) not installed")
def test_page_one_renders_to_the_readme_picture(out, root):
    target = root / "docs" / "img" / "report_page1.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "110",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(out / f"service_report_{MONTH}.pdf"),
            str(target.with_suffix("")),
        ],
        check=True,
    )
    head = target.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert abs(width - 210 / 25.4 * 110) <= 1 and abs(height - 297 / 25.4 * 110) <= 1  # one A4 page at 110 dpi

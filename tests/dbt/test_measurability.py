"""A rule input an export lacks is not a rejection: the file loads, and the rules that read the column
are *not measurable* for that source and month, with the reason (issue 17 items 2 and 4, D-90..D-94).

Hand-written ticket exports (not the generator's): February's lacks 业务类型 (product), March's lacks
所属片区 / 处理人工号 / 最后更新时间 / 投诉有效性 (district_id, technician_id, updated_at, and the optional
complaint_validity of A2, D-119). They go through the
loader and dbt on a tiny warehouse; T9's company figure is computed by hand below."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from generator import samples
from ingest import config
from ingest.loader import ingest
from kefu import contract, rulebook

FEB, MAR = date(2026, 2, 27), date(2026, 3, 2)
TICKETS = contract.entity("tickets")


def _ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


# ticket, type, district, technician, opened, first reply: T9 = replied within 24 h of opening
FEB_ROWS = [
    ("GD-F1", "consultation", "D01", "T0001", "2026-02-25 09:00", "2026-02-25 10:00"),  # 1 h: met
    ("GD-F2", "consultation", "D02", "T0002", "2026-02-25 09:00", "2026-02-26 12:00"),  # 27 h: breached
    ("GD-F3", "fault", "D01", "T0001", "2026-02-26 09:00", "2026-02-26 09:30"),  # 30 min: met
]
MAR_ROWS = [
    ("GD-M1", "consultation", None, None, "2026-03-01 08:00", "2026-03-01 09:00"),  # met
    ("GD-M2", "consultation", None, None, "2026-03-01 08:00", "2026-03-02 07:59"),  # 23 h 59 min: met
    ("GD-M3", "consultation", None, None, "2026-03-01 09:00", "2026-03-02 09:01"),  # 24 h 1 min: breached
    ("GD-M4", "complaint", None, None, "2026-03-01 10:00", "2026-03-01 10:05"),  # met
]


def _write_tickets(path: Path, rows: list[tuple], drop: set[str]) -> Path:
    """A ticket export with the contract's Chinese headers, less the columns in `drop`."""
    cols = [c for c in TICKETS.columns if c.name not in drop and not c.pii]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([c.zh for c in cols])
        for tid, kind, district, tech, opened, reply in rows:
            v = {
                "ticket_id": tid,
                "ticket_type": TICKETS.column("ticket_type").label(kind),
                "product": "宽带",
                "customer_id": "C1",
                "customer_tier": "普通",
                "customer_kind": "个人",
                "district_id": district,
                "area_type": "城区",
                "technician_id": tech,
                "channel": "热线",
                "status": "处理中",
                "opened_at": opened + ":00",
                "first_reply_at": reply + ":00",
                "updated_at": reply + ":00",
                "reopen_count": "0",
            }
            w.writerow([v.get(c.name) or "" for c in cols])
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, dbt_scratch) -> Path:
    # loaded and built at the worker's dbt_scratch path (dbt's parsed project is reused, D-183), then
    # copied to a path of its own: the dashboard tests below keep a connection to it open (D-199)
    out = tmp_path_factory.mktemp("measurable")
    landing, wh = out / "landing", out / "kefu.duckdb"
    scratch, target = dbt_scratch()
    samples.write_day(landing, FEB, {"districts": 5, "technicians": 10})
    _write_tickets(landing / FEB.isoformat() / f"工单明细_{FEB:%Y%m%d}.csv", FEB_ROWS, {"product"})
    _write_tickets(
        landing / MAR.isoformat() / f"工单明细_{MAR:%Y%m%d}.csv",
        MAR_ROWS,
        {"district_id", "technician_id", "updated_at", "complaint_validity"},
    )
    summary = ingest(landing, scratch, config.load(None, demo_key=True), progress=False)
    assert summary.count("rejected") == 0, str(summary)
    from kefu import build

    build.build(scratch, target_path=target, exclude="resource_type:unit_test")  # D-181
    assert not scratch.with_name(scratch.name + ".wal").exists()  # dbt closed and checkpointed it
    shutil.copyfile(scratch, wh)
    return wh


def _q(wh: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_measurability_names_the_first_missing_column_of_each_measure():
    present = set(TICKETS.column_names) - {"product"}
    got = rulebook.measurability("tickets", present, source="ticket_system")
    assert got["T1"] == (False, "column tickets.product missing from ticket_system")
    assert got["T2"] == (False, "column tickets.product missing from ticket_system")
    assert got["T9"] == (True, None)
    assert "H1" not in got  # reads calls only
    no_district = set(TICKETS.column_names) - {"district_id"}
    assert rulebook.measurability("tickets", no_district)["T9"] == (True, None)  # company grain
    assert rulebook.measurability("tickets", no_district, grain="district")["T9"] == (
        False,
        "column tickets.district_id missing",
    )


def test_an_export_without_an_identity_column_is_still_rejected(tmp_path):
    landing = tmp_path / "landing"
    _write_tickets(landing / FEB.isoformat() / f"工单明细_{FEB:%Y%m%d}.csv", FEB_ROWS, {"opened_at"})
    summary = ingest(landing, tmp_path / "w.duckdb", config.load(None, demo_key=True), progress=False)
    assert summary.count("rejected") == 1
    assert "identity column(s) missing for tickets: opened_at (受理时间)" in summary.results[0].message


def test_an_export_lacking_rule_inputs_loads_and_records_the_absent_columns(warehouse):
    assert _q(
        warehouse,
        "select entity, rows_read, rows_loaded, rows_quarantined from audit.load_log "
        "where entity = 'tickets' order by export_date",
    ) == [("tickets", 3, 3, 0), ("tickets", 4, 4, 0)]
    absent = _q(
        warehouse,
        "select business_date, column_name from audit.source_columns "
        "where entity = 'tickets' and not present order by 1, 2",
    )
    assert (FEB, "product") in absent and (FEB, "district_id") not in absent
    assert {(MAR, "district_id"), (MAR, "technician_id"), (MAR, "updated_at")} <= set(absent)
    assert (MAR, "product") not in absent
    assert _q(warehouse, "select count(*) from raw.tickets where product is not null and _export_date = ?", [FEB]) == [
        (0,)
    ]
    per_file = _q(warehouse, "select file_id, count(*) from audit.source_columns group by 1")
    assert all(
        n == len(contract.entity(e).columns)
        for (fid, n), (e,) in zip(
            per_file,
            [_q(warehouse, "select entity from audit.load_log where file_id = ?", [fid])[0] for fid, _ in per_file],
        )
    )


def test_rules_reading_an_absent_column_are_not_measurable_with_the_reason(warehouse):
    rows = {
        (m, g, p): (ok, why)
        for m, g, p, ok, why in _q(
            warehouse, "select measure_id, grain, period_month, measurable, reason from marts.kpi_rule_measurability"
        )
    }
    for grain in ("company", "district", "technician"):
        assert rows[("T1", grain, "2026-02")] == (False, "column tickets.product missing from ticket_system")
    assert rows[("T9", "company", "2026-02")] == (True, None)
    assert rows[("T9", "company", "2026-03")] == (True, None)
    assert rows[("T9", "district", "2026-03")] == (False, "column tickets.district_id missing from ticket_system")
    assert rows[("A3", "district", "2026-03")] == (False, "column tickets.district_id missing from ticket_system")
    assert rows[("V1", "technician", "2026-03")][1] == "column tickets.technician_id missing from ticket_system"
    assert rows[("T1", "company", "2026-03")] == (True, None)  # March's export has product
    # rules fed by other entities are untouched
    assert rows[("H1", "company", "2026-03")] == (True, None)
    # kpi_rule_results never shows a figure for a not-measurable measure x grain x month
    shown = _q(
        warehouse,
        "select r.measure_id, r.grain, r.period_month from marts.kpi_rule_results r "
        "join marts.kpi_rule_measurability m on m.measure_id = r.measure_id and m.grain = r.grain "
        "and m.period_month = r.period_month where not m.measurable",
    )
    assert shown == []
    assert _q(
        warehouse,
        "select count(*) from marts.kpi_rule_results where measure_id = 'T9' and grain = 'district' "
        "and period_month = '2026-03'",
    ) == [(0,)]


def test_the_company_figure_is_computed_without_district_and_technician_columns(warehouse):
    # by hand: February 2 of 3 tickets replied within 24 h; March 3 of 4
    got = {
        p: (n, d, v, ok)
        for p, n, d, v, ok in _q(
            warehouse,
            "select period_month, numerator, denominator, value, passed from marts.kpi_rule_results "
            "where measure_id = 'T9' and grain = 'company' order by 1",
        )
    }
    assert got["2026-02"] == (2, 3, pytest.approx(2 / 3), False)
    assert got["2026-03"] == (3, 4, pytest.approx(3 / 4), False)
    # February's export has districts: D01 2/2, D02 0/1
    assert _q(
        warehouse,
        "select unit_id, numerator, denominator from marts.kpi_rule_results where measure_id = 'T9' "
        "and grain = 'district' and period_month = '2026-02' order by 1",
    ) == [("D01", 2, 2), ("D02", 0, 1)]


def test_data_coverage_lists_rows_per_date_missing_dates_and_absent_columns(warehouse):
    rows = _q(
        warehouse,
        "select business_date, arrived, rows_loaded, absent_columns from marts.data_coverage "
        "where entity = 'tickets' order by 1",
    )
    assert [r[0] for r in rows] == [FEB, date(2026, 2, 28), date(2026, 3, 1), MAR]
    assert rows[1] == (date(2026, 2, 28), False, None, None)  # never arrived
    assert rows[2] == (date(2026, 3, 1), False, None, None)
    assert rows[0][1:3] == (True, 3) and "product" in rows[0][3].split(", ")
    assert rows[3][1:3] == (True, 4) and {"district_id", "technician_id", "updated_at"} <= set(rows[3][3].split(", "))
    # reference lists are not expected daily: only the date they came
    assert _q(warehouse, "select business_date, arrived from marts.data_coverage where entity = 'districts'") == [
        (FEB, True)
    ]
    rules = {
        (m, g): (ok, since, why)
        for m, g, ok, since, why in _q(
            warehouse,
            "select measure_id, grain, measurable, measurable_since, reason from marts.data_coverage_rules "
            "where entity = 'tickets' and source_system = 'ticket_system'",
        )
    }
    assert rules[("T1", "company")] == (True, MAR, None)  # product came back on 2 March
    assert rules[("T9", "company")] == (True, FEB, None)
    assert rules[("T9", "district")] == (False, None, "column tickets.district_id missing from ticket_system")


def test_a_missing_optional_column_keeps_a2_measurable_with_a_note(warehouse):
    """D-119: March's export lacks 投诉有效性: A2 is measurable (every complaint counts) and says so, in the
    measurability mart (company and district grain alike) and on the data coverage rows of the source."""
    note = (
        "column tickets.complaint_validity missing from ticket_system: every complaint counts as valid"
        " (有效投诉未导出,全部投诉计入)"
    )
    rows = {
        (g, p): (ok, why, n)
        for g, p, ok, why, n in _q(
            warehouse,
            "select grain, period_month, measurable, reason, note from marts.kpi_rule_measurability "
            "where measure_id = 'A2'",
        )
    }
    assert rows[("company", "2026-03")] == (True, None, note)
    assert rows[("district", "2026-03")] == (False, "column tickets.district_id missing from ticket_system", note)
    assert rows[("company", "2026-02")] == (True, None, None)  # February's export has the column
    assert _q(
        warehouse, "select count(*) from marts.kpi_rule_measurability where note is not null and measure_id <> 'A2'"
    ) == [(0,)]
    coverage = _q(
        warehouse,
        "select grain, measurable, note from marts.data_coverage_rules where measure_id = 'A2' "
        "and source_system = 'ticket_system' order by 1",
    )
    assert coverage == [("company", True, note), ("district", False, note)]


def test_without_updated_at_the_later_export_wins(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "w.duckdb"
    first = [("GD-X", "consultation", "D01", "T0001", "2026-02-25 09:00", "2026-02-25 10:00")]
    second = [("GD-X", "consultation", "D02", "T0001", "2026-02-25 09:00", "2026-02-25 11:00")]
    samples.write_day(landing, FEB, {"districts": 5, "technicians": 10})
    _write_tickets(landing / FEB.isoformat() / f"工单明细_{FEB:%Y%m%d}.csv", first, {"updated_at"})
    _write_tickets(landing / MAR.isoformat() / f"工单明细_{MAR:%Y%m%d}.csv", second, {"updated_at"})
    ingest(landing, wh, config.load(None, demo_key=True), progress=False)
    assert _q(wh, "select district_id, first_reply_at from raw.tickets") == [("D02", _ts("2026-02-25 11:00"))]
    assert _q(wh, "select district_id from raw.tickets_superseded") == [("D01",)]


def _app(warehouse: Path, monkeypatch, page: str | None = None, **filters):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KEFU_PUBLISHED", str(warehouse))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py"), default_timeout=180)
    at.run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    for key, value in filters.items():
        at.selectbox(key=key).set_value(value).run()
    assert not at.exception, at.exception
    return at


def _texts(at) -> list[str]:
    return [m.value for m in at.markdown]


def test_the_dashboard_shows_a_not_measurable_rule_grey_with_its_reason(warehouse, monkeypatch):
    at = _app(warehouse, monkeypatch, month="2026-02")
    grey = [t for t in _texts(at) if t.startswith(":gray[") and "T1 " in t]
    assert grey and "无数据 · not measurable: tickets.product missing from ticket_system" in grey[0]
    # a rule that is measurable is not listed grey; March's company T9 has its figure
    assert not [t for t in _texts(at) if t.startswith(":gray[") and "T9 " in t]
    # A3 is judged by district only: the company overview still says why it has no figure
    at = _app(warehouse, monkeypatch, month="2026-03")
    assert [t for t in _texts(at) if t.startswith(":gray[") and "A3 " in t and "tickets.district_id missing" in t]
    assert not [t for t in _texts(at) if t.startswith(":gray[") and "T9 " in t]  # company T9 has its figure
    at = _app(warehouse, monkeypatch, month="2026-03", district="D01")
    grey = [t for t in _texts(at) if t.startswith(":gray[") and "T9 " in t]
    assert grey and "（片区）· 无数据 · not measurable: tickets.district_id missing from ticket_system" in grey[0]


def test_the_data_coverage_page_lists_missing_dates_and_not_measurable_rules(warehouse, monkeypatch):
    at = _app(warehouse, monkeypatch, "coverage")
    gaps = [d.value for d in at.dataframe if "arrived" in d.value.columns and not d.value["arrived"].any()]
    assert gaps and sorted(str(d)[:10] for d in gaps[0].loc[gaps[0]["entity"] == "tickets", "business_date"]) == [
        "2026-02-28",
        "2026-03-01",
    ]
    assert any("T9 " in t and "tickets.district_id missing from ticket_system" in t for t in _texts(at))


def test_the_monthly_workbook_and_pdf_list_the_not_measurable_rules(warehouse, tmp_path):
    import openpyxl
    import pypdf

    from kefu.reports import data, pdf, workbook

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        month = data.load_month(con, "2026-02")
    finally:
        con.close()
    expected = {
        (m, g)
        for m, g in _q(
            warehouse,
            "select measure_id, grain from marts.kpi_rule_measurability "
            "where period_month = '2026-02' and not measurable",
        )
    }
    assert ("T1", "company") in expected
    book = openpyxl.load_workbook(workbook.write(month, tmp_path / "m.xlsx"))
    ws = next(w for w in book.worksheets if w.title.startswith("无法计算"))
    rows = list(ws.iter_rows(min_row=workbook.HEADER_ROWS + 1, values_only=True))
    grain_zh = {zh: g for g, (zh, _) in data.GRAINS.items()}
    assert {(r[0], grain_zh[r[2]]) for r in rows} == expected
    t1 = next(r for r in rows if r[0] == "T1" and r[2] == "全公司")
    assert t1[3] == "无数据 · not measurable: tickets.product missing from ticket_system"
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(pdf.monthly(month, tmp_path / "m.pdf")).pages)
    assert "无数据的规则" in text and "tickets.product missing from ticket_system" in text.replace("\n", " ")


def test_measurability_lists_every_missing_column():
    present = set(TICKETS.column_names) - {"product", "severity"}
    assert rulebook.measurability("tickets", present, source="x")["T1"] == (
        False,
        "column tickets.product missing from x; column tickets.severity missing from x",
    )

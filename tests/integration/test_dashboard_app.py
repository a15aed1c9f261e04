"""The dashboard, page by page (Streamlit AppTest): after a filter change each page shows the
value the mart holds for that filter. Every expected value is queried from the demo warehouse."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import data, ui
from kefu import rulebook

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


@pytest.fixture(scope="module")
def warehouse(built_demo) -> Path:
    return built_demo(1, 3)[0]


@pytest.fixture(scope="module")
def months(warehouse) -> list[str]:
    return mart(warehouse, "select distinct period_month from marts.kpi_rule_results order by 1")[
        "period_month"
    ].tolist()


def mart(warehouse: Path, sql: str, params=()) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).df()


def one(warehouse: Path, sql: str, params=()):
    frame = mart(warehouse, sql, params)
    assert len(frame) == 1, frame
    return frame.iloc[0, 0]


def open_page(warehouse: Path, monkeypatch, page: str | None = None, **filters) -> AppTest:
    """The app on a page, then each filter set in turn (a real widget change and rerun)."""
    monkeypatch.setenv("KEFU_PUBLISHED", str(warehouse))
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    for key, value in filters.items():
        at.selectbox(key=key).set_value(value).run()
    assert not at.exception, at.exception
    return at


def kind(measure_id: str) -> str:
    """rate or ratio: how the dashboard formats the rule's value."""
    return rulebook.load()[measure_id].value


def card(at: AppTest, measure_id: str) -> str:
    (metric,) = [m for m in at.metric if m.label.startswith(f"{measure_id} ")]
    return metric.value


def table(at: AppTest, *columns: str) -> pd.DataFrame:
    """The one table on the page that has these columns."""
    (frame,) = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    return frame


# ------------------------------------------------------------------ overview


def test_overview_lists_every_company_rule_of_the_latest_month_with_its_change(warehouse, months, monkeypatch):
    at = open_page(warehouse, monkeypatch)
    shown = table(at, "measure_id", "unit_id").set_index(["measure_id", "unit_id"])
    expected = mart(
        warehouse,
        """
        select r.measure_id, r.unit_id, r.value, r.value - p.value as change
        from marts.kpi_rule_results r
        left join marts.kpi_rule_results p on p.measure_id = r.measure_id and p.grain = r.grain
            and p.unit_id = r.unit_id and p.period_month = ?
        where r.period_month = ? and r.grain in ('company', 'brand_group')""",
        [months[-2], months[-1]],
    ).set_index(["measure_id", "unit_id"])
    assert sorted(shown.index) == sorted(expected.index)
    joined = shown.join(expected.add_suffix("_mart"))
    kinds = [kind(rule) for rule, _ in joined.index]
    assert joined["value"].tolist() == [ui.fmt(v, k) for v, k in zip(joined["value_mart"], kinds)]
    assert joined["change"].tolist() == [ui.fmt_change(v, k) or "—" for v, k in zip(joined["change_mart"], kinds)]


def test_overview_district_and_month_filters_show_that_districts_rules(warehouse, months, monkeypatch):
    at = open_page(warehouse, monkeypatch, month=months[0], district="D02")
    shown = table(at, "measure_id", "unit_id")
    district_rows = shown[shown["unit_id"] == "D02"].set_index("measure_id")["value"]
    expected = mart(
        warehouse,
        "select measure_id, value from marts.kpi_rule_results "
        "where grain = 'district' and unit_id = 'D02' and period_month = ?",
        [months[0]],
    ).set_index("measure_id")["value"]
    assert sorted(district_rows.index) == sorted(expected.index)
    assert district_rows.loc[expected.index].tolist() == [ui.fmt(v, kind(r)) for r, v in expected.items()]


def test_overview_shows_the_regulation_wording_of_the_picked_rule(warehouse, monkeypatch):
    at = open_page(warehouse, monkeypatch)
    picker = at.selectbox(key="overview_rule")
    picker.set_value(next(label for label in picker.options if label.startswith("H1 "))).run()
    wording = one(warehouse, "select wording from rulebook.rulebook_measures where measure_id = 'H1'")
    assert [i.value for i in at.info] == [wording]


def test_overview_table_shows_each_rows_status_as_a_tag_in_its_colour_with_its_name(warehouse, months, monkeypatch):
    at = open_page(warehouse, monkeypatch)
    (grid,) = [d for d in at.dataframe if {"measure_id", "unit_id", "status"} <= set(d.value.columns)]
    shown = grid.value.set_index(["measure_id", "unit_id"])["status"]
    statuses = data.rule_results(warehouse, months[-1]).set_index(["measure_id", "unit_id"])["status"]
    assert [list(s) for s in shown] == [[statuses.loc[i]] for i in shown.index]
    assert {"green", "red"} <= {s[0] for s in shown}
    # the tag's colour and label are the grid's column configuration: drawn by the grid, no glyph
    options = json.loads(grid.proto.columns)["status"]["type_config"]["options"]
    assert options == [
        {"value": "green", "label": "达标", "color": "#2e7d32"},
        {"value": "amber", "label": "临界未达标", "color": "#ef8f00"},
        {"value": "red", "label": "未达标", "color": "#c62828"},
        {"value": "none", "label": "仅统计", "color": "#9e9e9e"},
    ]


def test_overview_at_company_scope_says_c8_is_judged_at_the_quarter_end(warehouse, months, monkeypatch):
    at = open_page(warehouse, monkeypatch, month=months[0])  # January: C8 is judged in the quarter's last month
    (note,) = [c.value for c in at.caption if c.value.startswith("本范围未显示的规则")]
    reasons = dict(part.split("：", 1) for part in note.split("：", 1)[1].split("；"))
    c8 = next(reason for ids, reason in reasons.items() if "C8" in ids.split("、"))
    # the build's data reach 31 March, so the quarter has ended: the note points to March
    assert data.as_of(warehouse) == "2026-04-01 00:00"
    assert c8 == "按季度考核，在季末月 2026-03 考核 (judged per quarter, in its last month 2026-03)"
    district_only = next(ids for ids, reason in reasons.items() if reason.startswith("只在片区层级考核"))
    assert set(district_only.split("、")) == {"A1", "A3", "A4"}
    assert "C8" not in one(
        warehouse, "select list(distinct measure_id) from marts.kpi_rule_results where period_month = ?", [months[0]]
    )
    # March is the quarter's last month and complete in this build: C8 is judged and shown
    at = open_page(warehouse, monkeypatch, month=months[-1])
    assert "C8" in set(table(at, "measure_id", "unit_id")["measure_id"])
    assert not any("C8" in c.value for c in at.caption if c.value.startswith("本范围未显示的规则"))


def test_status_colour_is_green_when_passed_amber_within_the_margin_red_beyond(warehouse, months):
    shown = data.rule_results(warehouse, months[-1])
    expected = mart(
        warehouse,
        "select measure_id, grain, unit_id, value, threshold, passed "
        "from marts.kpi_rule_results where period_month = ?",
        [months[-1]],
    )
    joined = shown.merge(expected, on=["measure_id", "grain", "unit_id"], suffixes=("", "_mart"))
    assert len(joined) == len(expected)

    def colour(r):
        if pd.isna(r.passed_mart):
            return "none"
        if r.passed_mart:
            return "green"
        return (
            "amber"
            if abs(r.value_mart - r.threshold_mart) <= rulebook.amber_margin() * abs(r.threshold_mart)
            else "red"
        )

    assert joined["status"].tolist() == [colour(r) for r in joined.itertuples()]
    assert {"green", "amber", "red"} <= set(joined["status"])


# ------------------------------------------------------------------ districts and technicians


def test_districts_page_ranks_the_month_and_shows_a_picked_district(warehouse, months, monkeypatch):
    at = open_page(warehouse, monkeypatch, "districts", month=months[0])
    shown = table(at, "rank", "a2_value")
    expected = mart(
        warehouse,
        "select district_id, a2_value, rules_failed from marts.kpi_district_monthly "
        "where period_month = ? order by rules_failed, a2_value, district_id",
        [months[0]],
    )
    assert shown["district_id"].tolist() == expected["district_id"].tolist()
    assert shown["a2_value"].tolist() == [ui.fmt(v) for v in expected["a2_value"]]
    yearly = table(at, "months_all_passed")
    assert (
        yearly["months_all_passed"].tolist()
        == mart(
            warehouse,
            "select months_all_passed from marts.kpi_district_yearly where period_year = ? order by district_id",
            [months[0][:4]],
        )["months_all_passed"].tolist()
    )

    at.selectbox(key="district").set_value("D05").run()
    a1 = one(
        warehouse,
        "select a1_value from marts.kpi_district_monthly where district_id = 'D05' and period_month = ?",
        [months[0]],
    )
    assert card(at, "A1") == ui.fmt(a1, "ratio")


def test_technician_filter_shows_the_scorecard_and_a_red_cell_its_tickets(warehouse, months, monkeypatch):
    month = months[-1]
    technician, rule, missed = mart(
        warehouse,
        """
        select r.unit_id, r.measure_id, r.denominator - r.numerator
        from marts.kpi_rule_results r
        where r.grain = 'technician' and r.period_month = ? and not r.passed
          and r.measure_id in (select measure_id from marts.fct_ticket_sla)
        order by r.denominator - r.numerator desc, r.unit_id, r.measure_id limit 1""",
        [month],
    ).iloc[0]
    at = open_page(warehouse, monkeypatch, "technicians", technician=technician)
    scorecard = table(at, "measures_failed")
    assert scorecard["technician_id"].tolist() == [technician]
    expected = mart(
        warehouse,
        f"select {rule.lower()}_value as v, measures_failed from marts.kpi_technician_monthly "
        "where technician_id = ? and period_month = ?",
        [technician, month],
    ).iloc[0]
    assert scorecard[rule].iloc[0] == ui.fmt(expected["v"])
    assert scorecard["measures_failed"].iloc[0] == expected["measures_failed"]

    key = next(d.key for d in at.dataframe if d.key.startswith("scorecards_"))
    at.session_state[key] = {"selection": {"cells": [[0, rule]]}}  # the manager clicks the red cell
    at.run()
    tickets = table(at, "ticket_id", "deadline_at")
    behind = mart(
        warehouse,
        "select ticket_id from marts.fct_ticket_sla where measure_id = ? and technician_id = ? "
        "and period_month = ? and not is_met order by deadline_at, ticket_id",
        [rule, technician, month],
    )["ticket_id"].tolist()
    assert tickets["ticket_id"].tolist() == behind
    assert len(behind) == missed


def test_early_warning_counts_follow_the_district_and_tier_filters(warehouse, monkeypatch):
    district, tier = mart(
        warehouse,
        "select district_id, customer_tier from marts.rpt_early_warning group by all order by count(*) desc limit 1",
    ).iloc[0]
    at = open_page(warehouse, monkeypatch, "warning", district=district, tier=tier)
    expected = mart(
        warehouse,
        "select ticket_id, warning_level from marts.rpt_early_warning where district_id = ? and customer_tier = ?",
        [district, tier],
    )
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["已超时"] == f"{(expected['warning_level'] == 'overdue').sum()} 项"
    assert metrics["涉及工单"] == f"{expected['ticket_id'].nunique()} 张"
    assert len(table(at, "warning_level")) == len(expected)


# ------------------------------------------------------------------ service pages


def test_hotline_tier_filter_shows_the_tiers_queue_and_coverage(warehouse, months, monkeypatch):
    month = months[-1]
    at = open_page(warehouse, monkeypatch, "hotline", tier="red_vip")  # a VIP tier: the vip queue
    h21 = one(
        warehouse,
        "select value from marts.kpi_hotline_monthly where measure_id = 'H2.1' and grain = 'queue' "
        "and unit_id = 'vip' and period_month = ?",
        [month],
    )
    assert card(at, "H2.1") == ui.fmt(h21)
    coverage = table(at, "hours_uncovered")
    hours = mart(
        warehouse,
        "select count(*) as n, count(*) filter (where is_uncovered) as u "
        "from marts.kpi_hotline_coverage_hourly where queue = 'vip' and period_month = ?",
        [month],
    ).iloc[0]
    assert (coverage["hours_with_calls"].sum(), coverage["hours_uncovered"].sum()) == (hours["n"], hours["u"])

    at.selectbox(key="district").set_value("D17").run()
    h1 = one(
        warehouse,
        "select value from marts.kpi_hotline_monthly where measure_id = 'H1' and grain = 'district' "
        "and unit_id = 'D17' and period_month = ?",
        [month],
    )
    assert card(at, "H1") == ui.fmt(h1)


def test_satisfaction_tier_filter_shows_the_tiers_brand_group(warehouse, months, monkeypatch):
    at = open_page(warehouse, monkeypatch, "satisfaction", tier="gotone")
    s1 = one(
        warehouse,
        "select satisfaction_rate from marts.kpi_satisfaction_monthly where measure_id = 'S1' "
        "and unit_id = 'gotone' and period_month = ?",
        [months[-1]],
    )
    assert card(at, "S1") == ui.fmt(s1)


def test_callbacks_district_and_tier_filters(warehouse, months, monkeypatch):
    month = months[-1]
    at = open_page(warehouse, monkeypatch, "callbacks", district="D04", tier="vip")
    c1 = one(
        warehouse,
        "select c1_value from marts.kpi_callbacks_monthly where grain = 'district' "
        "and unit_id = 'D04' and period_month = ?",
        [month],
    )
    p1 = one(
        warehouse,
        "select value from marts.kpi_contact_policy_monthly where grain = 'tier_group' "
        "and unit_id = 'vip' and period_month = ?",
        [month],
    )
    assert (card(at, "C1"), card(at, "P1")) == (ui.fmt(c1), ui.fmt(p1))


def test_vip_page_district_filter(warehouse, months, monkeypatch):
    at = open_page(warehouse, monkeypatch, "vip", month=months[0], district="D08")
    v2 = one(
        warehouse,
        "select v2_value from marts.kpi_vip_service_monthly where grain = 'district' "
        "and unit_id = 'D08' and period_month = ?",
        [months[0]],
    )
    assert card(at, "V2") == ui.fmt(v2)


def test_hall_page_month_filter(warehouse, months, monkeypatch):
    at = open_page(warehouse, monkeypatch, "hall", month=months[0])
    b1 = one(
        warehouse,
        "select value from marts.kpi_hall_monthly where measure_id = 'B1' and grain = 'company' and period_month = ?",
        [months[0]],
    )
    assert card(at, "B1") == ui.fmt(b1)


def test_notices_page_district_filter(warehouse, months, monkeypatch):
    month = months[-1]
    at = open_page(warehouse, monkeypatch, "notices", district="D01")
    n2 = one(
        warehouse,
        "select n2_value from marts.kpi_notices_monthly where grain = 'district' "
        "and unit_id = 'D01' and period_month = ?",
        [month],
    )
    assert card(at, "N2") == ui.fmt(n2)
    late = one(
        warehouse,
        "select count(*) from marts.fct_notices where district_id = 'D01' and period_month = ? "
        "and not is_notified_in_time",
        [month],
    )
    assert len(table(at, "lead_hours")) == late


@pytest.mark.parametrize(
    "page",
    [
        "overview",
        "districts",
        "technicians",
        "warning",
        "hotline",
        "satisfaction",
        "callbacks",
        "vip",
        "hall",
        "notices",
        "score",
    ],
)
def test_every_page_runs_and_offers_each_table_as_csv_and_excel(warehouse, monkeypatch, page):
    at = open_page(warehouse, monkeypatch, page)
    labels = [b.proto.label for b in at.get("download_button")]
    assert at.dataframe and labels.count("下载 CSV") == labels.count("下载 Excel") == len(at.dataframe)


# ------------------------------------------------------------------ reading the published file


def test_a_publish_replacing_the_file_shows_the_new_figures_on_the_next_run(warehouse, months, tmp_path, monkeypatch):
    published = tmp_path / "published" / "kefu.duckdb"
    published.parent.mkdir()
    shutil.copy(warehouse, published)
    at = open_page(published, monkeypatch)
    before = one(
        published,
        "select value from marts.kpi_rule_results where measure_id = 'T1' and grain = 'company' and period_month = ?",
        [months[-1]],
    )
    assert card(at, "T1") == ui.fmt(before)

    nightly = tmp_path / "nightly.duckdb"  # the next night's warehouse: one figure differs
    shutil.copy(warehouse, nightly)
    with duckdb.connect(str(nightly)) as con:
        con.execute(
            "update marts.kpi_rule_results set value = value / 2 "
            "where measure_id = 'T1' and grain = 'company' and period_month = ?",
            [months[-1]],
        )
    os.replace(nightly, published)
    at.run()
    assert not at.exception
    assert card(at, "T1") == ui.fmt(before / 2)


def test_a_missing_warehouse_is_explained_not_a_stack_trace(tmp_path, monkeypatch):
    monkeypatch.setenv("KEFU_PUBLISHED", str(tmp_path / "none.duckdb"))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "none.duckdb" in at.error[0].value


def test_excel_download_keeps_formula_like_text_as_text():
    frame = pd.DataFrame({"工单内容": ['=HYPERLINK("http://x")', "+1", "@SUM(A1)"], "n": [1, 2, 3]})
    sheet = openpyxl.load_workbook(io.BytesIO(ui.excel_bytes(frame))).active
    cells = [sheet.cell(row=r, column=1) for r in (2, 3, 4)]
    assert [c.value for c in cells] == frame["工单内容"].tolist()
    assert {c.data_type for c in cells} == {"s"}


def test_dashboard_subcommand_refuses_a_warehouse_that_is_not_there(tmp_path, capsys):
    import argparse

    from dashboards import cli

    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["dashboard", "--warehouse", str(tmp_path / "missing.duckdb"), "--port", "8599"])
    assert args.func(args) == 2
    assert "missing.duckdb" in capsys.readouterr().err


# ------------------------------------------------------------------ text a browser must be able to draw

EMOJI = [(0x1F000, 0x1FFFF), (0x2600, 0x27BF), (0x2B00, 0x2BFF), (0xFE00, 0xFE0F)]


def dashboard_text() -> set[str]:
    """Every non-ASCII character the dashboard can show: its source, and the rulebook's names and wording."""
    root = Path(__file__).resolve().parents[2]
    chars = {c for p in (root / "dashboards").rglob("*.py") for c in p.read_text(encoding="utf-8")}
    chars |= {c for m in rulebook.load().values() for c in m.name_zh + m.wording}
    return {c for c in chars if ord(c) > 127}


def noto_cjk_charset() -> list[tuple[int, int]] | None:
    """The code point ranges of Noto Sans CJK SC (fontconfig's charset of the installed font), or None."""
    if not shutil.which("fc-match") or not shutil.which("fc-query"):
        return None
    import subprocess

    match = subprocess.run(
        ["fc-match", "-f", "%{family}\n%{file}", "Noto Sans CJK SC"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    if len(match) < 2 or "Noto Sans CJK" not in match[0]:
        return None
    text = subprocess.run(
        ["fc-query", "--index", "0", "--format=%{charset}", match[1]], capture_output=True, text=True, check=True
    ).stdout
    return [(int(a, 16), int(b or a, 16)) for a, _, b in (r.partition("-") for r in text.split())]


def test_the_dashboard_shows_no_emoji_a_cjk_only_browser_would_draw_as_a_box():
    emoji = sorted(c for c in dashboard_text() if any(a <= ord(c) <= b for a, b in EMOJI))
    assert emoji == [], f"emoji need a colour-emoji font CI's Chromium lacks: {emoji}"


def test_every_character_the_dashboard_shows_is_in_noto_sans_cjk():
    ranges = noto_cjk_charset()
    if ranges is None:
        pytest.skip("Noto Sans CJK SC is not installed (fonts-noto-cjk)")
    missing = sorted(c for c in dashboard_text() if not any(a <= ord(c) <= b for a, b in ranges))
    assert missing == [], [f"U+{ord(c):04X} {c}" for c in missing]


def test_the_emoji_check_catches_the_old_status_dots():
    assert [c for c in "🟢 达标 ⚪ 仅统计" if any(a <= ord(c) <= b for a, b in EMOJI)] == ["🟢", "⚪"]


def test_a_rule_missing_at_a_scope_says_why():
    m = rulebook.load()
    company = {"company", "brand_group"}
    assert ui.unshown_reason(m["A1"], "2026-01", company, None).startswith("只在片区层级考核")
    # C8 is judged at the company, in the quarter's last month: before the quarter ends, it says so
    for month, as_of in (
        ("2026-01", "2026-02-01 00:00"),
        ("2026-02", "2026-03-01 00:00"),
        ("2026-03", "2026-03-20 00:00"),
        ("2026-03", None),
    ):
        assert ui.unshown_reason(m["C8"], month, company, as_of) == (
            "按季度考核，2026 年第 1 季度尚未结束，季末月 2026-03 考核 (judged per quarter: the quarter has not ended yet)"
        )
    assert ui.unshown_reason(m["C8"], "2026-11", company, "2026-12-01 00:00").startswith(
        "按季度考核，2026 年第 4 季度尚未结束，季末月 2026-12 考核"
    )
    # after the quarter: January points to March; a missing C8 in March had nothing to judge
    assert ui.unshown_reason(m["C8"], "2026-01", company, "2026-04-01 00:00") == (
        "按季度考核，在季末月 2026-03 考核 (judged per quarter, in its last month 2026-03)"
    )
    assert ui.unshown_reason(m["C8"], "2026-03", company, "2026-04-01 00:00").startswith("本月该范围没有考核对象")
    # C7's first-year projects are judged monthly: not a quarterly duty
    assert ui.unshown_reason(m["C7"], "2026-01", company, None).startswith("本月该范围没有考核对象")


def test_the_note_groups_the_unshown_rules_by_reason():
    note = ui.unshown_note(["A1", "A3", "C8", "T1"], {"T1"}, "2026-02", {"company", "brand_group"}, None)
    assert note == (
        "本范围未显示的规则 · not shown at this scope："  # reasons in rulebook order (C before A)
        "C8：按季度考核，2026 年第 1 季度尚未结束，季末月 2026-03 考核 (judged per quarter: the quarter has not ended yet)；"
        "A1、A3：只在片区层级考核 (judged at other levels only)"
    )
    assert ui.unshown_note(["T1"], {"T1"}, "2026-02", {"company"}, None) is None

"""Issue 21's written definitions: the rulebook settings they read are valid, reach dbt as seeds, and
the export words for complaint validity map to the contract (docs/decisions.md D-113..D-122)."""

from __future__ import annotations

import csv
import io

import pytest

from ingest import mapping_tools
from kefu import build, contract, rulebook


def test_p1_counted_purposes_are_outbound_purposes_and_leave_notices_out():
    purposes = rulebook.p1_counted_purposes()
    assert purposes <= set(contract.entity("outbound").column("purpose").values)
    assert "notice" not in purposes  # D-118: notices are a duty of N1 / N2, not a disturbance


def test_h1_vip_caller_is_the_callers_tier_and_short_abandon_is_5s():
    assert rulebook.h1_vip_caller() == "tier"
    assert "calls.customer_tier" in rulebook.load()["H1"].reads
    assert rulebook.load()["H1"].limit("short_abandon").duration.total_seconds() == 5


def test_an_unknown_setting_is_refused_with_the_settings_it_has():
    with pytest.raises(KeyError, match=r"P1 has no setting 'purposes'.*counted_purposes"):
        rulebook.setting("P1", "purposes")


def test_optional_reads_name_optional_contract_columns_never_needed_ones():
    for m in rulebook.load().values():
        for read in m.optional_reads:
            entity, column = read.split(".", 1)
            col = contract.entity(entity).column(column)
            assert not col.required and not col.identity, read
            assert read not in m.reads, f"{m.id}: {read} is both needed and optional"
    assert set(rulebook.load()["A2"].optional_reads) == {"tickets.complaint_validity"}


def test_settings_and_optional_reads_reach_dbt_as_seeds():
    files = build.seed_files()
    settings = list(csv.DictReader(io.StringIO(files["rulebook_settings.csv"])))
    assert {(r["measure_id"], r["setting"], r["setting_value"]) for r in settings} == {
        ("H1", "vip_caller", "tier"),
        ("P1", "counted_purposes", "marketing"),
        ("P1", "counted_purposes", "care"),
        ("P1", "counted_purposes", "other"),
    }
    optional = list(csv.DictReader(io.StringIO(files["rulebook_optional_reads.csv"])))
    assert [(r["measure_id"], r["entity"], r["column_name"]) for r in optional] == [
        ("A2", "tickets", "complaint_validity")
    ]
    for name in ("rulebook_settings.csv", "rulebook_optional_reads.csv"):  # the committed copies are current
        assert (build.GENERATED / name).read_text(encoding="utf-8") == files[name], name


def test_a_missing_optional_column_gives_a_note_and_keeps_the_measure_measurable():
    present = set(contract.entity("tickets").column_names) - {"complaint_validity"}
    assert rulebook.measurability("tickets", present, "ticket_system")["A2"] == (True, None)
    assert rulebook.optional_notes("tickets", present, "ticket_system") == {
        "A2": "column tickets.complaint_validity missing from ticket_system: every complaint counts as valid"
        " (有效投诉未导出,全部投诉计入)"
    }
    assert rulebook.optional_notes("tickets", present | {"complaint_validity"}) == {}


@pytest.mark.parametrize("header", ["是否有效", "有效投诉", "投诉是否成立", "投诉有效性", "Complaint upheld"])
def test_complaint_validity_headers_are_recognised(header):
    matched = mapping_tools.match_headers(["工单编号", header], contract.entity("tickets"))
    assert matched[1][0] == "complaint_validity", matched


@pytest.mark.parametrize(
    "word,value",
    [
        ("有效", "valid"),
        ("无效", "invalid"),
        ("是", "valid"),
        ("否", "invalid"),
        ("成立", "valid"),
        ("不成立", "invalid"),
        ("属实", "valid"),
    ],
)
def test_complaint_validity_words_map_to_the_contract_values(word, value):
    col = contract.entity("tickets").column("complaint_validity")
    assert mapping_tools.propose_value(col, word)[0] == value


def test_the_monthly_report_lists_a_measure_computed_without_its_optional_column():
    """D-119: the report's 计算口径说明 lists A2 once (not once per grain) with the note; a not-measurable row
    or another month is not listed."""
    import duckdb

    from kefu.reports.data import measured_with_notes

    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("""create table marts.kpi_rule_measurability as select * from (values
        ('A2', 'A2', '片区月投诉率', 'District monthly complaint rate', 'company', '2026-03', true, 'column n'),
        ('A2', 'A2', '片区月投诉率', 'District monthly complaint rate', 'district', '2026-03', true, 'column n'),
        ('A2', 'A2', '片区月投诉率', 'District monthly complaint rate', 'company', '2026-02', true, 'column old'),
        ('T1', 'T1', 'x', 'x', 'company', '2026-03', false, null))
        as t(measure_id, measure_id, name_zh, name_en, grain, period_month, measurable, note)""")
    got = measured_with_notes(con, "2026-03", {"A2": 0})
    assert [(r["measure_id"], r["label"]) for r in got] == [("A2", "注 · note: n")]

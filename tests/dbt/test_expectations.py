"""Great Expectations gates (expectations/) on the demo warehouse.

The data-contract gate passes on the demo warehouse and fails, naming suite, table and
expectation, on copies corrupted the ways ingest cannot see (a code no reference list holds,
a deleted reference row, a duplicated mart key, an empty daily export, an audit row that does
not add up, a rate above 1). The threshold suites report exactly the kpi_rule_results rows
that dbt marked failed; breaches are recorded idempotently; the committed suites are fresh.
"""

import json
import shutil
from datetime import date, timedelta

import duckdb
import pytest

from expectations import gates  # expectations.generate imports Great Expectations: imported where used
from kefu.pipeline import months_touched

SEED, MONTHS = 1, 3


@pytest.fixture(scope="module")
def demo(built_demo):
    """(warehouse, business date of its last export, the two months a night on that date touches)."""
    warehouse, _ = built_demo(SEED, MONTHS)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        day = con.execute("select max(export_date) from audit.load_log where status = 'loaded'").fetchone()[0]
    finally:
        con.close()
    return warehouse, day, months_touched(day)


def copy_of(warehouse, tmp_path):
    target = tmp_path / "kefu.duckdb"
    shutil.copyfile(warehouse, target)
    return target


def contract_expectations() -> int:
    return sum(len(s["expectations"]) for s in gates.load_suites("contract"))


def test_committed_suites_are_generated_from_contract_and_rulebook():
    from expectations import generate

    assert generate.stale() == [], "run: python -m expectations.generate"


def test_threshold_suites_carry_every_rulebook_target():
    """Every numeric measure has a verdict expectation in its family's suite."""
    from kefu import rulebook

    covered = {
        e["meta"]["measure_id"]
        for s in gates.load_suites("thresholds")
        for e in s["expectations"]
        if "measure_id" in (e.get("meta") or {})
    }
    assert covered == {m.id for m in rulebook.numeric_measures()}


def test_threshold_suites_read_the_marts_verdict_and_type_no_threshold():
    """D-151: the suites check kpi_rule_results.passed / status, they do not compare value with a
    number of their own: no expectation of a threshold suite carries a min or max value."""
    for s in gates.load_suites("thresholds"):
        for e in s["expectations"]:
            kwargs = e["kwargs"]
            assert not {"min_value", "max_value"} & set(kwargs), (s["name"], e["type"], kwargs)
            if "measure_id" in (e.get("meta") or {}):
                assert kwargs["column"] == "passed" and kwargs["value_set"] == [True], (s["name"], e)


@pytest.mark.slow
def test_contract_gate_passes_on_the_demo_warehouse(demo, tmp_path):
    warehouse, day, _ = demo
    res = gates.run_contract_gate(warehouse, day, tmp_path / "docs")
    assert res.success, res.message()
    assert res.evaluated == contract_expectations()
    assert res.docs_index == (tmp_path / "docs" / "index.html").resolve() and res.docs_index.is_file()
    assert "contract.stg_tickets" in res.docs_index.read_text(encoding="utf-8")


@pytest.mark.slow
def test_contract_gate_fails_naming_suite_table_and_expectation(demo, tmp_path):
    warehouse, day, _ = demo
    target = copy_of(warehouse, tmp_path)
    month = day.strftime("%Y-%m")
    con = duckdb.connect(str(target))
    q = lambda sql, *p: con.execute(sql, list(p)).fetchall()  # noqa: E731
    # 1. a ticket of the day points at a district no reference list holds (staging is a view over raw)
    ticket = q("select min(ticket_id) from raw.tickets where _export_date = ?", day)[0][0]
    q("update raw.tickets set district_id = 'D_NOWHERE' where ticket_id = ?", ticket)
    # 2. a technician who worked that day's tickets is deleted from the technicians list
    tech = q("select min(technician_id) from raw.tickets where _export_date = ? and technician_id is not null", day)[0][
        0
    ]
    q("delete from raw.technicians where technician_id = ?", tech)
    # 3. a key of the KPI mart is duplicated (a rule other than T9, whose rows step 7 deletes)
    q(
        "insert into marts.kpi_rule_results select * from marts.kpi_rule_results "
        "where period_month = ? and measure_id <> 'T9' limit 1",
        month,
    )
    # 4. the day's call export is empty
    q("delete from raw.calls where _export_date = ?", day)
    # 5. an audit row whose rows read do not add up
    file_id = q("select min(file_id) from audit.load_log where status = 'loaded'")[0][0]
    q("update audit.load_log set rows_read = rows_read + 1 where file_id = ?", file_id)
    # 6. a rate above 1
    q(
        """update marts.kpi_rule_results set numerator = denominator + 1, value = (denominator + 1.0) / denominator
         where period_month = ? and measure_id = 'T1' and grain = 'company'""",
        month,
    )
    # 7. a measure judged the month before vanishes from the month that just ended
    assert day.month != (day + timedelta(days=1)).month, "the demo ends on a month's last day"
    q("delete from marts.kpi_rule_results where period_month = ? and measure_id = 'T9'", month)
    con.close()

    res = gates.run_contract_gate(target, day, tmp_path / "docs")
    assert not res.success
    failed = {(f.suite, f.table, f.expectation, f.kwargs.get("column")) for f in res.failures}
    expected = {
        ("contract.stg_tickets", "staging.stg_tickets", "expect_column_values_to_be_null", "unknown_district_id"),
        ("contract.stg_tickets", "staging.stg_tickets", "expect_column_values_to_be_null", "unknown_technician_id"),
        ("contract.kpi_rule_results", "marts.kpi_rule_results", "expect_compound_columns_to_be_unique", None),
        ("contract.stg_calls", "staging.stg_calls", "expect_table_row_count_to_be_between", None),
        ("contract.audit_load_log", "audit.load_log", "expect_column_pair_values_to_be_equal", None),
        ("contract.kpi_rule_results", "marts.kpi_rule_results", "expect_column_values_to_be_between", "value"),
        (
            "contract.kpi_rule_results",
            "marts.kpi_rule_results",
            "expect_column_pair_values_a_to_be_greater_than_b",
            None,
        ),
        (
            "contract.kpi_rule_results",
            "marts.kpi_rule_results",
            "expect_column_distinct_values_to_contain_set",
            "measure_id",
        ),
    }
    assert failed == expected, res.message()
    msg = res.message()
    for suite, table, expectation, _ in expected:
        assert any(suite in line and table in line and expectation in line for line in msg.splitlines())
    assert "'D_NOWHERE'" in msg and repr(tech) in msg and ticket in msg and "missing: 'T9'" in msg
    assert res.docs_index.is_file()


@pytest.mark.slow
def test_a_reference_list_is_validated_by_its_rows_of_the_day_and_its_orphans(demo, tmp_path):
    """A customers list of millions is not read whole every night: the gate reads the rows
    (re-)exported on the business date, plus any older row that points at a district no list
    holds any more (a newer districts list can orphan it)."""
    warehouse, day, _ = demo
    target = copy_of(warehouse, tmp_path)
    con = duckdb.connect(str(target))
    q = lambda sql, *p: con.execute(sql, list(p)).fetchall()  # noqa: E731
    total, of_day = q("select count(*), count(*) filter (where export_date = ?) from staging.stg_customers", day)[0]
    assert 0 < of_day < total
    spec = next(s for s in gates.load_suites("contract") if s["name"] == "contract.stg_customers")
    frame = gates._query(con, spec["meta"]["kefu"]["query"], {"day": day})
    assert len(frame) == of_day
    old = q("select min(customer_id) from raw.customers where _export_date < ?", day)[0][0]
    q("update raw.customers set district_id = 'D_GONE' where customer_id = ?", old)
    assert len(gates._query(con, spec["meta"]["kefu"]["query"], {"day": day})) == of_day + 1
    con.close()

    res = gates.run_contract_gate(target, day, None)
    failed = {(f.suite, f.expectation, f.kwargs.get("column")) for f in res.failures}
    assert failed == {("contract.stg_customers", "expect_column_values_to_be_null", "unknown_district_id")}
    assert "'D_GONE'" in res.message() and old in res.message()


@pytest.fixture(scope="module")
def thresholds(demo, tmp_path_factory):
    warehouse, _, months = demo
    docs = tmp_path_factory.mktemp("threshold_docs")
    res, breaches = gates.run_threshold_suites(warehouse, months, docs)
    return res, breaches, docs


@pytest.mark.slow
def test_threshold_breaches_are_exactly_the_failed_kpi_rows(demo, thresholds):
    warehouse, _, months = demo
    res, breaches, docs = thresholds
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        failed = con.execute(
            """
            select rule_id, measure_id, period_month, grain, unit_id,
                   value, threshold, comparison
            from marts.kpi_rule_results where not passed and list_contains(?, period_month)
            order by measure_id, period_month, grain, unit_id""",
            [months],
        ).df()
    finally:
        con.close()
    assert len(failed) > 0
    assert list(breaches.columns) == gates.BREACH_COLUMNS
    key = ["measure_id", "period_month", "grain", "unit_id"]
    assert breaches[key].values.tolist() == failed[key].values.tolist()
    assert (
        breaches[["measure_id", "comparison"]].values.tolist() == failed[["measure_id", "comparison"]].values.tolist()
    )
    assert (breaches["value"] == failed["value"]).all()
    assert ((breaches["threshold"] - failed["threshold"]).abs() < 1e-12).all()
    assert not res.success and res.evaluated == sum(len(s["expectations"]) for s in gates.load_suites("thresholds"))
    assert (docs / "index.html").is_file()


@pytest.mark.slow
def test_record_breaches_replaces_the_business_dates_rows(demo, thresholds, tmp_path):
    warehouse, day, _ = demo
    _, breaches, _ = thresholds
    target = copy_of(warehouse, tmp_path)
    earlier = date.fromordinal(day.toordinal() - 1)

    def stored(sql, *params):
        con = duckdb.connect(str(target), read_only=True)
        try:
            return con.execute(sql, list(params)).fetchall()
        finally:
            con.close()

    per_date = "select business_date, count(*) from audit.kpi_breaches group by 1"
    assert gates.record_breaches(target, "run_a", day, breaches) == len(breaches)
    assert gates.record_breaches(target, "run_b", earlier, breaches.head(3)) == 3
    assert gates.record_breaches(target, "run_c", day, breaches) == len(breaches)  # rerun of the date
    assert dict(stored(per_date)) == {day: len(breaches), earlier: 3}
    assert stored("select distinct run_id from audit.kpi_breaches where business_date = ?", day) == [("run_c",)]
    cols = ["measure_id", "period_month", "grain", "unit_id", "value", "threshold"]
    assert stored(
        f"select {', '.join(cols)} from audit.kpi_breaches where business_date = ? order by all", day
    ) == sorted(tuple(r) for r in breaches[cols].itertuples(index=False))
    assert gates.record_breaches(target, "run_d", earlier, breaches.head(0)) == 0  # a rerun with no breach left
    assert dict(stored(per_date)) == {day: len(breaches)}


def test_suite_files_are_gx_expectation_suites():
    """Each committed file loads as a GX ExpectationSuite and says which data it judges."""
    import great_expectations as gx

    from expectations import generate

    for p in sorted(generate.SUITES_DIR.glob("*.json")):
        data = json.loads(p.read_text(encoding="utf-8"))
        suite = gx.ExpectationSuite(**data)
        assert suite.name == p.stem and suite.expectations
        assert {"gate", "table", "query", "row_id"} <= set(data["meta"]["kefu"])

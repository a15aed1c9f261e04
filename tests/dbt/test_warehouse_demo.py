"""The warehouse built from the demo preset (seed 1, 3 months), checked as a whole.

kpi_rule_results equals the answer key; the analyst guide's queries run and trace
red cells to their tickets; and the tickets family (time-limit engine,
fct_tickets, fct_ticket_sla) keeps its integrity.

What the dbt tests cannot check on their own: whole-table integrity between models
(no ticket dropped, every KPI cell traceable to its tickets with one query) and the
SQL working-day deadlines against the Python calendar (kefu.workcal) on every ticket.
Uses the demo warehouse built once per session by the `built_demo` fixture.
"""

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from kefu import exactness, rulebook, workcal

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "analyst-guide.md"

SEED, MONTHS = 1, 3


@pytest.fixture(scope="module")
def con(built_demo):
    warehouse, _ = built_demo(SEED, MONTHS)
    c = duckdb.connect(str(warehouse), read_only=True)
    yield c
    c.close()


def scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


@pytest.mark.slow
def test_every_staged_ticket_is_in_fct_tickets_once(con):
    assert scalar(con, "select count(*) from staging.stg_tickets") == scalar(
        con, "select count(*) from marts.fct_tickets"
    )
    assert scalar(con, "select count(distinct ticket_id) from marts.fct_tickets") == scalar(
        con, "select count(*) from marts.fct_tickets"
    )


@pytest.mark.slow
def test_fct_ticket_sla_holds_every_engine_row_plus_its_same_as_copies(con):
    engine = scalar(con, "select count(*) from intermediate.int_ticket_clock")
    copies = scalar(
        con,
        """
        select count(*) from intermediate.int_ticket_clock c
        join rulebook.rulebook_measures m on m.same_as = c.measure_id""",
    )
    assert scalar(con, "select count(*) from marts.fct_ticket_sla") == engine + copies


@pytest.mark.slow
def test_every_ticket_kpi_cell_traces_to_its_tickets_with_one_query(con):
    """numerator / denominator of kpi_rule_results = met / judged rows of fct_ticket_sla for that unit."""
    mismatches = con.execute("""
        with traced as (
            select measure_id, period_month, 'company' as grain, 'ALL' as unit_id,
                   count(*) as denominator, sum(case when is_met then 1 else 0 end) as numerator
            from marts.fct_ticket_sla where is_judged group by all
            union all
            select measure_id, period_month, 'district', district_id, count(*), sum(case when is_met then 1 else 0 end)
            from marts.fct_ticket_sla where is_judged and district_id is not null group by all
            union all
            select measure_id, period_month, 'technician', technician_id, count(*), sum(case when is_met then 1 else 0 end)
            from marts.fct_ticket_sla where is_judged and technician_id is not null group by all
        )
        select k.measure_id, k.period_month, k.grain, k.unit_id, k.numerator, k.denominator, t.numerator, t.denominator
        from marts.kpi_rule_results k
        join intermediate.int_kpi__tickets i using (measure_id, period_month, grain, unit_id)
        left join traced t using (measure_id, period_month, grain, unit_id)
        where k.measure_id <> 'S3'
          and (t.denominator is null or t.denominator <> k.denominator or t.numerator <> k.numerator)
    """).fetchall()
    assert mismatches == []
    assert scalar(con, "select count(*) from marts.kpi_rule_results where measure_id = 'T1'") > 0


@pytest.mark.slow
def test_working_day_deadlines_equal_the_python_calendar(con):
    rows = con.execute("""
        select measure_id, clock_start_at, limit_text, base_deadline_at
        from intermediate.int_ticket_deadlines
        where limit_text like '%wd' and clock_start_at is not null
    """).fetchall()
    assert rows, "no working-day limits in the demo data"
    wrong = [r for r in rows if r[3] != workcal.end_of_nth_working_day(r[1], int(r[2].removesuffix("wd")))]
    assert wrong == [], wrong[:5]


@pytest.mark.slow
def test_kpi_rule_results_equals_the_answer_key_for_the_demo_preset(built_demo):
    warehouse, key = built_demo(SEED, MONTHS)
    diff = exactness.compare(warehouse, key)
    assert diff.empty, exactness.summary(diff) + "\n" + diff.head(20).to_string()
    assert {m.id for m in rulebook.numeric_measures()} <= set(pd.read_csv(key).measure_id)


@pytest.mark.slow
def test_every_query_of_the_analyst_guide_runs(con):
    queries = re.findall(r"```sql\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    assert len(queries) >= 8
    for q in queries:
        assert con.execute(q).fetchall(), f"the guide's query returns nothing on the demo:\n{q}"


@pytest.mark.slow
def test_the_guide_traces_a_red_t9_cell_to_exactly_its_breached_tickets(con):
    guide = GUIDE.read_text(encoding="utf-8")
    trace = next(q for q in re.findall(r"```sql\n(.*?)```", guide, re.S) if "from marts.fct_ticket_sla" in q)
    num, den, passed = con.execute(
        "select numerator, denominator, passed from marts.kpi_rule_results "
        "where measure_id = 'T9' and grain = 'district' and unit_id = 'D02' and period_month = '2026-01'"
    ).fetchone()
    assert passed is False
    assert len(con.execute(trace).fetchall()) == den - num

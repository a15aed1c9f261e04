"""Every query of the manager dashboard (管理看板), in one module shared by the pages, tests and benchmark.

Reading. The dashboard reads the *published* warehouse read-only through
`kefu.home.connect_published`. A nightly run replaces that file with `os.replace`, so every
result is cached (st.cache_data) under the file's identity — inode, mtime and size — and the
process keeps one connection per identity (`_Published`): the first query after a publish
closes the old connection and opens the new file, so a result of the old file is never
served under the new identity.

Figures. Values, thresholds and pass/fail come from the marts (`marts.kpi_rule_results` and
the marts built on it), wording from the rulebook seeds (`rulebook.rulebook_measures`).
Nothing here types a threshold or judges a rule.

Status colours (红黄绿) are the marts' `status` (marts.kpi_rule_results.status, decided there
with the rulebook's amber_margin, D-146): green (绿, 达标) passed; amber (黄, 临界未达标) failed
within the margin of its threshold; red (红, 未达标) failed by more; grey (灰, 仅统计) a measured
rule without a threshold (R3). The month before, the district ranking and the year-to-date tally
are marts too (kpi_rule_results.previous_value, kpi_district_monthly.district_rank,
kpi_rule_results_ytd): nothing here decides or tallies.

Not measurable (无数据): a rule whose inputs an export lacked has no figure at all; the reason
comes from `marts.kpi_rule_measurability` (:func:`not_measurable`) and is shown grey (D-92).

Amber is a near miss, still a failure in the assessment: pass/fail is never recomputed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from kefu import rulebook, sandbox
from kefu.access import Access, ScopeError, scoped_sql
from kefu.home import connect_published

log = logging.getLogger(__name__)

STATUSES = {"green": "达标", "amber": "临界未达标", "red": "未达标", "none": "仅统计"}

# A scope picks, per rule, the most specific rows the filters select: (grain, unit_id or "*", priority).
Scope = tuple[tuple[str, str, int], ...]


# ------------------------------------------------------------------ reading the published file


def stamp(path: str | Path) -> tuple[int, int, int]:
    """The identity of the file now at `path`: a publish (os.replace) changes it."""
    s = os.stat(path)
    return (s.st_ino, s.st_mtime_ns, s.st_size)


class _Published:
    """The one open connection to the published file, shared by every session of this process.

    While a connection to a path is open, DuckDB gives a new connection to that path the *same*
    database instance, even after the file was replaced (duckdb/duckdb#15912): a fresh connection
    after a publish could still read the old file. So the connection is replaced only when no
    query runs on it, and the old one is closed before the new file is opened. Each query runs
    on its own cursor (a DuckDB connection is not shared between threads)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._key: tuple[str, tuple[int, int, int]] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._running = 0

    @contextmanager
    def cursor(self, path: str, file_stamp: tuple[int, int, int]):
        key = (path, file_stamp)
        with self._changed:
            while self._key != key and self._running:
                self._changed.wait()
            if self._key != key:
                if self._con is not None:
                    self._con.close()
                    self._con, self._key = None, None
                self._con, self._key = connect_published(path), key
            self._running += 1
            con = self._con
        try:
            with sandbox.cursor(con, path) as cur:
                yield cur
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    def close(self) -> None:
        """Close the connection once no query runs on it (the next query opens the file again)."""
        with self._changed:
            while self._running:
                self._changed.wait()
            if self._con is not None:
                self._con.close()
            self._con, self._key = None, None


_PUBLISHED = _Published()
close = _PUBLISHED.close


def run_sql(
    path: str | Path, sql: str, params: Sequence = (), file_stamp: tuple[int, int, int] | None = None
) -> pd.DataFrame:
    """Run one query, uncached, on the published file with identity `file_stamp` (default: the file now)."""
    started = time.perf_counter()
    with _PUBLISHED.cursor(str(path), file_stamp or stamp(path)) as cur:
        frame = cur.execute(sql, list(params)).df()
    log.debug("query", extra={"sql": sql, "seconds": time.perf_counter() - started})
    return frame


@st.cache_data(max_entries=1024, show_spinner=False)
def _cached(path: str, file_stamp: tuple[int, int, int], sql: str, params: tuple) -> pd.DataFrame:
    return run_sql(path, sql, params, file_stamp)


# Outside a dashboard session (tests, the benchmark, scripts) queries are not scoped.
UNSCOPED = Access("kefu (no dashboard session)", "manager")


def current_access() -> Access:
    """The signed-in user's scope (st.session_state["access"], set by dashboards/app.py before any
    query). In a dashboard session without one, no query runs at all."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return UNSCOPED
    access = st.session_state.get("access")
    if not isinstance(access, Access):
        raise ScopeError("no signed-in user: no data / 未登录，不显示数据")
    return access


def query(path: str | Path, sql: str, params: Sequence = (), access: Access | None = None) -> pd.DataFrame:
    """A query result, scoped to the user's scope in SQL (kefu.access.scoped_sql: every relation the
    query names is replaced by the rows the scope may see), cached under the file's identity (a new
    publish is a new key) and the scoped SQL (another scope is another key). Every query of the
    dashboard — filter choices, tables, charts, drill-downs, downloads — goes through here."""
    return _cached(str(path), stamp(path), scoped_sql(sql, access or current_access()), tuple(params))


def clear_cache() -> None:
    _cached.clear()


# ------------------------------------------------------------------ labels


@lru_cache(maxsize=1)
def rule_order() -> dict[str, int]:
    """Measures in the rulebook's display order (families T, N, C, V, H, S, P, B, A, R)."""
    return rulebook.display_order()


@lru_cache(maxsize=1)
def group_labels() -> dict[tuple[str, str], str]:
    """(grain, unit_id) -> Chinese name of the units that are groups, not places or people (the
    rulebook's and the data contract's labels; the same rows as marts.dim_unit holds)."""
    return {(grain, unit): name for grain, unit, name in rulebook.group_units()}


# ------------------------------------------------------------------ filters' choices


def months(path) -> list[str]:
    """Months the warehouse judged, newest first."""
    return query(path, "select distinct period_month from marts.kpi_rule_results order by 1 desc")[
        "period_month"
    ].tolist()


def districts(path) -> pd.DataFrame:
    return query(
        path,
        "select district_id, arg_max(district_name, period_month) as district_name "
        "from marts.dim_district group by district_id order by district_id",
    )


def technicians(path, month: str, district: str | None = None) -> pd.DataFrame:
    """Technicians assigned in the month (to the district, if given), with masked names."""
    return query(
        path,
        """
        select t.technician_id, arg_max(t.district_id, t.valid_from) as district_id,
               arg_max(t.technician_name_masked, t.valid_from) as technician_name
        from marts.dim_technician as t
        join marts.dim_month as m on m.period_month = ?
        where t.valid_from <= m.month_end and (t.valid_to is null or t.valid_to >= m.month_start)
          and (? is null or t.district_id = ?)
        group by t.technician_id order by t.technician_id""",
        [month, district, district],
    )


def tiers(path) -> pd.DataFrame:
    """Customer tiers with their tier group (P1, hotline queues) and brand group (S1), from the rulebook seed."""
    return query(path, "select tier, tier_group, brand_group from rulebook.rulebook_tiers")


def as_of(path) -> str | None:
    """The as-of time of the open-ticket figures (24:00 of the last business date, decisions D-07)."""
    frame = query(path, "select max(as_of_at) as as_of from marts.rpt_early_warning")
    value = frame["as_of"].iloc[0]
    return None if pd.isna(value) else f"{value:%Y-%m-%d %H:%M}"


# ------------------------------------------------------------------ rule results


def unit_names(path) -> dict[tuple[str, str], str]:
    """(grain, unit_id) -> the unit's name from marts.dim_unit (D-152): districts and halls by name,
    technicians by masked name (no clear personal data), groups by their labels. Read once per publish."""
    frame = query(path, "select grain, unit_id, unit_name from marts.dim_unit")
    return {**group_labels(), **dict(zip(zip(frame["grain"], frame["unit_id"]), frame["unit_name"]))}


def rule_results(path, month: str, rules: Sequence[str] | None = None, scope: Scope | None = None) -> pd.DataFrame:
    """kpi_rule_results of a month with name, wording, status and the change from last month.

    rules: measure ids (None: all). scope: for each rule keep only the rows of the best
    (lowest) priority that matches; None keeps every unit.
    """
    scope = scope or (("*", "*", 0),)
    values = ", ".join("(?, ?, ?)" for _ in scope)
    params: list = [x for s in scope for x in s] + [month, rules is None, list(rules or [])]
    frame = query(
        path,
        f"""
        with scope(grain, unit_id, priority) as (values {values}),
        results as (
            select r.*, rank() over (partition by r.measure_id order by s.priority) as scope_rank
            from marts.kpi_rule_results as r
            join scope as s on (s.grain = '*' or s.grain = r.grain) and (s.unit_id = '*' or s.unit_id = r.unit_id)
            where r.period_month = ? and (? or list_contains(?, r.measure_id))
        )
        select r.measure_id, m.name_zh, r.grain, r.unit_id,
               r.numerator, r.denominator, r.value, r.comparison, r.threshold, r.passed, r.status,
               r.previous_value, r.change,
               m.value_kind, m.source, m.wording, r.period_month
        from results as r
        join rulebook.rulebook_measures as m on m.measure_id = r.measure_id
        where r.scope_rank = 1""",
        params,
    )
    names = unit_names(path)
    frame.insert(4, "unit_name", [names.get((g, u), u) for g, u in zip(frame["grain"], frame["unit_id"])])
    order = frame["measure_id"].map(rule_order())
    return frame.assign(_o=order).sort_values(["_o", "grain", "unit_id"]).drop(columns="_o").reset_index(drop=True)


def not_measurable(path, month: str, rules: Sequence[str] | None = None) -> pd.DataFrame:
    """The measure x grain pairs of a month the exports cannot measure, with the reason (D-90):
    `column tickets.product missing from ticket_system`."""
    frame = query(
        path,
        """
        select measure_id, name_zh, grain, reason
        from marts.kpi_rule_measurability
        where period_month = ? and not measurable and (? or list_contains(?, measure_id))""",
        [month, rules is None, list(rules or [])],
    )
    order = frame["measure_id"].map(rule_order())
    return frame.assign(_o=order).sort_values(["_o", "grain"]).drop(columns="_o").reset_index(drop=True)


def not_measurable_label(reason: str) -> str:
    """The grey label of a not-measurable rule: 无数据 · not measurable: tickets.product missing from ticket_system."""
    return "无数据 · not measurable: " + reason.removeprefix("column ")


def coverage_rules(path) -> pd.DataFrame:
    """Per entity and source: which measures its latest export makes measurable, since when (D-94)."""
    frame = query(
        path,
        """
        select c.entity, e.name_zh as entity_zh, c.source_system, c.measure_id, c.name_zh, c.grain,
               c.measurable, c.measurable_since, c.first_date, c.last_date, c.reason, c.note
        from marts.data_coverage_rules as c
        join rulebook.contract_entities as e on e.entity = c.entity""",
    )
    order = frame["measure_id"].map(rule_order())
    return (
        frame.assign(_o=order)
        .sort_values(["entity", "source_system", "_o", "grain"])
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def coverage_daily(path) -> pd.DataFrame:
    """Per entity, source and business date: files and rows that arrived, absent columns, missing dates."""
    return query(
        path,
        """
        select entity, entity_zh, source_system, business_date, arrived, files, rows_read, rows_loaded,
               rows_quarantined, absent_columns
        from marts.data_coverage order by entity, source_system, business_date""",
    )


def rule_trend(path, measure_id: str, grain: str, unit_id: str) -> pd.DataFrame:
    """One unit's value and threshold of a rule, month by month (thresholds from the mart: C6 moves)."""
    return query(
        path,
        """
        select period_month, value, threshold, passed, status
        from marts.kpi_rule_results where measure_id = ? and grain = ? and unit_id = ? order by period_month""",
        [measure_id, grain, unit_id],
    )


def scope_for(district: str | None, technician: str | None, tier: str | None, tier_row: dict | None) -> Scope:
    """The most specific units the filters select: technician, then district, then the tier's
    groups (hotline queue, tier group, brand group), then the company; S1, judged by brand group
    only, falls back to every brand group."""
    scope: list[tuple[str, str, int]] = []
    if technician:
        scope.append(("technician", technician, 1))
    if district:
        scope.append(("district", district, 2))
    if tier and tier_row:
        scope += [
            ("queue", tier_row["tier_group"], 3),
            ("tier_group", tier_row["tier_group"], 3),
            ("brand_group", tier_row["brand_group"], 3),
        ]
    scope += [("company", rulebook.company_unit(), 4), ("brand_group", "*", 5)]
    return tuple(scope)


# ------------------------------------------------------------------ districts (A1–A6)


def district_assessment(path, month: str) -> pd.DataFrame:
    """kpi_district_monthly of a month in the mart's ranking (district_rank: fewest failed rules
    first, then lowest complaint rate A2), with each rule's status from the mart."""
    return query(
        path,
        """
        select district_rank as rank, * from marts.kpi_district_monthly
        where period_month = ? order by district_rank""",
        [month],
    )


def district_yearly(path, year: str) -> pd.DataFrame:
    return query(path, "select * from marts.kpi_district_yearly where period_year = ? order by district_id", [year])


# ------------------------------------------------------------------ technicians


def technician_scorecards(
    path, month: str, district: str | None = None, technician: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The technician scorecards of a month: (values, statuses), one row per technician and a
    column per measure judged at the technician grain — kpi_technician_monthly's values, with
    each cell's status from the kpi_rule_results row behind it."""
    frame = query(
        path,
        """
        select s.technician_id, t.technician_name, t.district_id, s.measures_judged, s.measures_failed,
               r.measure_id, r.value, r.status
        from marts.kpi_technician_monthly as s
        join marts.kpi_rule_results as r
            on r.grain = 'technician' and r.unit_id = s.technician_id and r.period_month = s.period_month
        left join (select technician_id, arg_max(district_id, valid_from) as district_id,
                          arg_max(technician_name_masked, valid_from) as technician_name
                   from marts.dim_technician group by technician_id) as t on t.technician_id = s.technician_id
        where s.period_month = ? and (? is null or t.district_id = ?) and (? is null or s.technician_id = ?)""",
        [month, district, district, technician, technician],
    )
    keys = ["technician_id", "technician_name", "district_id", "measures_judged", "measures_failed"]
    columns = sorted(frame["measure_id"].unique(), key=rule_order().get)
    values = frame.pivot(index=keys, columns="measure_id", values="value").reindex(columns=columns)
    statuses = frame.pivot(index=keys, columns="measure_id", values="status").reindex(columns=columns)
    order = values.reset_index().sort_values(["measures_failed", "technician_id"], ascending=[False, True]).index
    values, statuses = values.reset_index().loc[order], statuses.reset_index().loc[order]
    values.columns.name = statuses.columns.name = None
    return values.reset_index(drop=True), statuses.reset_index(drop=True)


def failed_tickets(
    path,
    measure_id: str,
    month: str,
    technician: str | None = None,
    district: str | None = None,
    tier: str | None = None,
) -> pd.DataFrame:
    """The tickets behind a red cell: judged in the month, not met (marts.fct_ticket_sla)."""
    return query(
        path,
        """
        select ticket_id, measure_id, name_zh, ticket_type, customer_tier, district_id, technician_id,
               opened_at, clock_start_at, deadline_at, completed_at, round(paused_seconds / 3600.0, 1) as paused_hours, state
        from marts.fct_ticket_sla
        where measure_id = ? and period_month = ? and is_judged and not is_met
          and (? is null or technician_id = ?) and (? is null or district_id = ?) and (? is null or customer_tier = ?)
        order by deadline_at, ticket_id""",
        [measure_id, month, technician, technician, district, district, tier, tier],
    )


# ------------------------------------------------------------------ hotline, callbacks, notices


def coverage_heatmap(path, month: str, queue: str | None = None) -> pd.DataFrame:
    """H5 7×24 coverage by weekday (0 = Monday) × hour: hours with fault calls asking for a human,
    hours none was answered (uncovered), the calls offered and answered."""
    return query(
        path,
        """
        select weekday_index, hour_of_day, count(*) as hours_with_calls,
               count(*) filter (where is_uncovered) as hours_uncovered,
               sum(fault_calls_offered) as calls_offered, cast(sum(fault_calls_answered) as bigint) as calls_answered
        from marts.kpi_hotline_coverage_hourly
        where period_month = ? and (? is null or queue = ?)
        group by all order by weekday_index, hour_of_day""",
        [month, queue, queue],
    )


def contact_policy(path, month: str) -> pd.DataFrame:
    """P1 do-not-disturb by unit: customers called, undisturbed, phone calls and breaching calls."""
    return query(
        path,
        """
        select grain, unit_id, customers_called, customers_undisturbed,
               cast(phone_calls as bigint) as phone_calls, cast(breaching_calls as bigint) as breaching_calls,
               value, threshold, passed
        from marts.kpi_contact_policy_monthly where period_month = ? order by grain, unit_id""",
        [month],
    )


def satisfaction_by_tier(path, month: str) -> pd.DataFrame:
    """Valid survey answers and the satisfied share by customer tier and channel (measured, no threshold)."""
    return query(
        path,
        """
        select customer_tier, channel, count(*) as valid_answers,
               count(*) filter (where is_satisfied) as satisfied_answers,
               count(*) filter (where is_satisfied) / count(*) as satisfaction_rate
        from marts.fct_surveys where period_month = ? and is_valid
        group by all order by customer_tier, channel""",
        [month],
    )


def late_notices(path, month: str, district: str | None = None) -> pd.DataFrame:
    """Notices (N1, N2) given later than the rule requires, in the month."""
    return query(
        path,
        """
        select measure_id, notice_kind, district_id, event_at, notice_at,
               round(notice_lead_seconds / 3600.0, 1) as lead_hours, required_lead_seconds / 3600.0 as required_hours
        from marts.fct_notices
        where period_month = ? and not is_notified_in_time and (? is null or district_id = ?)
        order by measure_id, event_at""",
        [month, district, district],
    )


# ------------------------------------------------------------------ early warning


def early_warning(
    path, district: str | None = None, technician: str | None = None, tier: str | None = None
) -> pd.DataFrame:
    """Open tickets overdue or due within the warning window (rpt_early_warning), soonest first."""
    return query(
        path,
        """
        select ticket_id, measure_id, name_zh, warning_level, round(hours_left, 1) as hours_left, deadline_at, district_id, technician_id,
               ticket_type, customer_tier, limit_text, opened_at
        from marts.rpt_early_warning
        where (? is null or district_id = ?) and (? is null or technician_id = ?) and (? is null or customer_tier = ?)
        order by hours_left, ticket_id""",
        [district, district, technician, technician, tier, tier],
    )

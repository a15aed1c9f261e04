"""What the reports show, read from the warehouse marts over a read-only connection.

Every figure comes from `marts.kpi_rule_results` (and the per-audience marts that pivot it),
every traced ticket from `marts.fct_ticket_sla`, every threshold and wording from the
`rulebook.*` seeds. Nothing here computes a rule: it selects, joins names and sorts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from kefu import contract, rulebook

# The units a rule is judged at, as the reports name them (Chinese, English).
GRAINS: dict[str, tuple[str, str]] = {
    "company": ("全公司", "Company"),
    "district": ("片区", "District"),
    "technician": ("维修人员", "Technician"),
    "queue": ("热线队列", "Hotline queue"),
    "brand_group": ("品牌", "Brand group"),
    "tier_group": ("客户等级", "Tier group"),
    "hall": ("营业厅", "Business hall"),
}
RESULTS = {True: "达标", False: "未达标", None: "仅统计"}  # passed / failed / measured (no threshold)
STATES = {"met": "按时", "breached": "超时", "open_overdue": "未办结已超时", "open_within_limit": "办理中"}


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or {})
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def month_before(con: duckdb.DuckDBPyConnection, month: str) -> str:
    """The month before `month`, as marts.dim_month holds it (D-149)."""
    found = con.execute("select previous_month from marts.dim_month where period_month = ?", [month]).fetchone()
    if found is None:
        raise LookupError(f"marts.dim_month has no month {month}")
    return found[0]


def as_of(con: duckdb.DuckDBPyConnection) -> datetime:
    """24:00 of the last business date the warehouse holds (decisions D-07)."""
    day = con.execute("select max(as_of_date) from intermediate.int_tickets_as_of").fetchone()[0]
    return datetime.combine(day + timedelta(days=1), datetime.min.time())


def unit_names(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """(grain, unit_id) -> the unit's name, from marts.dim_unit (D-152): districts and halls by their
    names, technicians by their masked names (no clear personal data), groups by their contract /
    rulebook labels; a unit keeps its latest name."""
    return {
        (grain, uid): name
        for grain, uid, name in con.execute("select grain, unit_id, unit_name from marts.dim_unit").fetchall()
    }


def _rule_order() -> dict[str, int]:
    return rulebook.display_order()


def late_tickets(con: duckdb.DuckDBPyConnection, names: dict, until: datetime, where: str, params: dict) -> list[dict]:
    """Ticket items judged and not met (marts.fct_ticket_sla) that match `where`, with their district
    and technician names and how late they were (to completion, or to the as-of time if still open)."""
    tickets = rows(
        con,
        f"""
        select measure_id, name_zh, ticket_id, district_id, technician_id, ticket_type, severity, customer_tier,
               opened_at, deadline_at, completed_at, state,
               date_diff('minute', deadline_at, coalesce(completed_at, $until)) / 60.0 as hours_late
        from marts.fct_ticket_sla
        where is_judged and not is_met and {where}
        """,
        params | {"until": until},
    )
    for t in tickets:
        t["district_name"] = names.get(("district", t["district_id"]), t["district_id"])
        t["technician_name"] = names.get(("technician", t["technician_id"]), t["technician_id"])
    return tickets


@dataclass(frozen=True)
class MonthData:
    month: str
    prev_month: str
    as_of: datetime
    results: list[dict]  # kpi_rule_results of the month, with unit_name, value_kind, prev_value, prev_passed
    measures: list[dict]  # rulebook_measures with targets, in rulebook order
    yearly: list[dict]  # months judged / passed / failed per rule × grain × unit, year to date
    tickets: list[dict]  # fct_ticket_sla items judged and not met in the month
    district: list[dict]  # kpi_district_monthly of the month
    technician: list[dict]  # kpi_technician_monthly of the month
    history: list[dict]  # per month of the year: unit results judged / failed
    not_measurable: list[dict] = field(default_factory=list)  # measure x grain the exports cannot measure (D-90)
    notes: list[dict] = field(default_factory=list)  # measured without an optional column, and how (D-119)
    scores: list[dict] = field(default_factory=list)  # the score 考核得分 per unit (kefu/reports/score.py)
    deductions: list[dict] = field(default_factory=list)  # the failed lines behind the scores
    signoff: Any = None  # kefu.appeals_adjust.SignoffView: draft / signed, raw vs final, appeals (issue 21)

    def by_rule(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for r in self.results:
            out.setdefault(r["measure_id"], []).append(r)
        return out


def load_month(con: duckdb.DuckDBPyConnection, month: str) -> MonthData:
    until = as_of(con)
    order = _rule_order()
    names = unit_names(con)

    def sort_key(r: dict) -> tuple:
        return (order.get(r["measure_id"], len(order)), list(GRAINS).index(r["grain"]), r["unit_id"])

    results = rows(
        con,
        """
        select r.*, m.value_kind, r.previous_value as prev_value, r.previous_passed as prev_passed
        from marts.kpi_rule_results as r
        inner join rulebook.rulebook_measures as m on m.measure_id = r.measure_id
        where r.period_month = $m
        """,
        {"m": month},
    )
    if not results:
        held = [
            m for (m,) in con.execute("select distinct period_month from marts.kpi_rule_results order by 1").fetchall()
        ]
        raise LookupError(f"the warehouse has no rule results for {month} (it holds {', '.join(held) or 'none'})")
    prev = month_before(con, month)
    for r in results:
        r["unit_name"] = names.get((r["grain"], r["unit_id"]), r["unit_id"])
    results.sort(key=sort_key)

    measures = rows(
        con,
        """
        select m.*, string_agg(case when t.target_key = '*' then cast(t.target as varchar)
                                    else t.target_key || ': ' || cast(t.target as varchar) end, '; '
                               order by t.target_key) as targets
        from rulebook.rulebook_measures as m
        left join rulebook.rulebook_targets as t on t.measure_id = m.measure_id
        group by all
        """,
    )
    measures.sort(key=lambda r: order.get(r["measure_id"], len(order)))

    # the year's tally, the one the monthly DAG freezes (marts.kpi_rule_results_ytd, D-148)
    yearly = rows(
        con,
        """
        select measure_id, grain, unit_id, months_judged, months_passed, months_failed, first_month, last_month
        from marts.kpi_rule_results_ytd
        where period_month = $m
        """,
        {"m": month},
    )
    for r in yearly:
        r["unit_name"] = names.get((r["grain"], r["unit_id"]), r["unit_id"])
    yearly.sort(key=sort_key)

    tickets = late_tickets(con, names, until, "period_month = $m", {"m": month})
    tickets.sort(key=lambda t: (order.get(t["measure_id"], len(order)), -t["hours_late"], t["ticket_id"]))

    district = rows(
        con,
        "select * from marts.kpi_district_monthly where period_month = $m order by district_rank, district_id",
        {"m": month},
    )  # the mart's ranking (D-147)
    technician = rows(
        con,
        "select * from marts.kpi_technician_monthly where period_month = $m "
        "order by measures_failed desc, technician_id",
        {"m": month},
    )
    technician = [
        {
            "technician_id": t["technician_id"],
            "technician_name": names.get(("technician", t["technician_id"]), t["technician_id"]),
            **t,
        }
        for t in technician
    ]

    history = rows(
        con,
        """
        select period_month, count(*) filter (where threshold is not null) as judged,
               count(*) filter (where not passed) as failed,
               count(distinct measure_id) filter (where not passed) as rules_failed
        from marts.kpi_rule_results
        where left(period_month, 4) = $y and period_month <= $m
        group by period_month order by period_month
        """,
        {"m": month, "y": month[:4]},
    )
    not_measurable = rows(
        con,
        """
        select measure_id, rule_id, name_zh, name_en, grain, reason
        from marts.kpi_rule_measurability
        where period_month = $m and not measurable
        """,
        {"m": month},
    )
    for r in not_measurable:
        r["grain_zh"], r["grain_en"] = GRAINS.get(r["grain"], (r["grain"], r["grain"]))
        r["label"] = "无数据 · not measurable: " + r["reason"].removeprefix("column ")
    not_measurable.sort(key=lambda r: (order.get(r["measure_id"], len(order)), list(GRAINS).index(r["grain"])))
    notes = measured_with_notes(con, month, order)
    from kefu.reports import score

    return MonthData(
        month,
        prev,
        until,
        results,
        measures,
        yearly,
        tickets,
        district,
        technician,
        history,
        not_measurable,
        notes,
        score.load_scores(con, month, names),
        score.load_deductions(con, month, names),
    )


def measured_with_notes(con, month: str, order: dict[str, int]) -> list[dict]:
    """Measures of the month computed without an optional column the export lacked, one row per
    measure and note (D-119: A2 without complaint_validity counts every complaint)."""
    found = rows(
        con,
        """
        select measure_id, any_value(name_zh) as name_zh, any_value(name_en) as name_en, note
        from marts.kpi_rule_measurability
        where period_month = $m and measurable and note is not null
        group by measure_id, note
        """,
        {"m": month},
    )
    for r in found:
        r["label"] = "注 · note: " + r["note"].removeprefix("column ")
    return sorted(found, key=lambda r: order.get(r["measure_id"], len(order)))


def summary_rows(data: MonthData) -> list[dict]:
    """One row per measure judged this month: the company figure and how many units failed."""
    out = []
    by_rule = data.by_rule()
    for m in data.measures:
        results = by_rule.get(m["measure_id"])
        if not results:
            continue
        company = next((r for r in results if r["grain"] == "company"), {})
        units = [r for r in results if r["grain"] != "company"]
        out.append(
            {
                "measure_id": m["measure_id"],
                "name_zh": m["name_zh"],
                "name_en": m["name_en"],
                "value_kind": m["value_kind"],
                "comparison": m["comparison"],
                "source": m["source"],
                "value": company.get("value"),
                "threshold": company.get("threshold"),
                "passed": company.get("passed"),
                "prev_value": company.get("prev_value"),
                "units_judged": sum(r["threshold"] is not None for r in units),
                "units_failed": sum(r["passed"] is False for r in units),
            }
        )
    return out


def month_days(month: str) -> tuple[date, date]:
    """First and last day of a month 'YYYY-MM'."""
    first = date.fromisoformat(month + "-01")
    return first, (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)


# --- weekly summary (R2) -------------------------------------------------------------------------


def meeting_days(month: str, until: datetime) -> list[date]:
    """The Fridays of the month whose week is complete in the warehouse (R2: 每周五下午部门例会)."""
    first = date.fromisoformat(month + "-01")
    day = first + timedelta(days=(4 - first.weekday()) % 7)
    out = []
    while day.strftime("%Y-%m") == month and datetime.combine(day, datetime.min.time()) <= until:
        out.append(day)
        day += timedelta(days=7)
    return out


@dataclass(frozen=True)
class WeekData:
    meeting: date
    start: datetime  # the Friday before, 00:00
    end: datetime  # the meeting day, 00:00 (exclusive): seven whole days the warehouse holds
    rules: list[dict]  # per ticket rule: judged, met, not_met, value, threshold, passed, prev_value
    opened: list[dict]  # tickets opened in the week by type
    tickets: list[dict]  # the week's items not met, latest first
    not_met: int


def week_window(meeting: date) -> tuple[datetime, datetime]:
    end = datetime.combine(meeting, datetime.min.time())
    return end - timedelta(days=7), end


def load_week(con: duckdb.DuckDBPyConnection, meeting: date) -> WeekData:
    """One R2 week: ticket items judged (decisions D-06: met at completion, breached at the deadline)
    between the previous Friday 00:00 and the meeting Friday 00:00, as marts.kpi_ticket_rules_weekly
    judged them against the rulebook thresholds (D-150)."""
    start, end = week_window(meeting)
    order = _rule_order()
    rules = rows(
        con,
        """
        select measure_id, name_zh, judged, met, not_met, value, value_kind, comparison, threshold, passed,
               status, previous_value as prev_value
        from marts.kpi_ticket_rules_weekly where meeting_date = $meeting
        """,
        {"meeting": meeting},
    )
    rules.sort(key=lambda r: order.get(r["measure_id"], len(order)))
    types = contract.entity("tickets").column("ticket_type").values
    opened = rows(
        con,
        """
        select ticket_type, count(*) as tickets, count(*) filter (where is_vip) as vip_tickets
        from marts.fct_tickets where opened_at >= $start and opened_at < $end
        group by ticket_type order by tickets desc, ticket_type
        """,
        {"start": start, "end": end},
    )
    for o in opened:
        o["label"] = types.get(o["ticket_type"], o["ticket_type"])
    tickets = late_tickets(
        con, unit_names(con), as_of(con), "outcome_at >= $start and outcome_at < $end", {"start": start, "end": end}
    )
    tickets.sort(key=lambda t: (-t["hours_late"], t["ticket_id"], t["measure_id"]))
    return WeekData(meeting, start, end, rules, opened, tickets, len(tickets))

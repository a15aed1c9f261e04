"""The answer key (generator/oracle.py) follows docs/decisions.md on hand-made rows."""

from __future__ import annotations

import ast
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from generator.oracle import AnswerKey
from kefu import contract, rulebook

DT = datetime
TS_COLUMNS = (
    "opened_at",
    "formalities_complete_at",
    "first_reply_at",
    "dispatched_at",
    "appointment_at",
    "arrived_at",
    "resolved_at",
    "feedback_at",
    "closed_at",
    "entered_at",
    "approval_submitted_at",
    "approval_done_at",
)


def make_row(entity: str, **cols) -> dict:
    names = contract.entity(entity).column_names
    unknown = set(cols) - set(names)
    assert not unknown, f"{entity} has no column {unknown}"
    row = dict.fromkeys(names)
    row.update(cols)
    return row


class Scenario:
    """Rows grouped by export day, fed to an AnswerKey day by day like the generator does."""

    def __init__(self, start: date = date(2026, 1, 1), end: date = date(2026, 1, 31)) -> None:
        self.start, self.end = start, end
        self.days: dict[date, list[tuple[str, dict]]] = defaultdict(list)
        self.key: AnswerKey | None = None

    def add(self, day: date | datetime, entity: str, **cols) -> dict:
        day = day.date() if isinstance(day, datetime) else day
        row = make_row(entity, **cols)
        self.days[day].append((entity, row))
        return row

    def ticket(self, tid: str, ttype: str, opened: datetime, day: date | None = None, **cols) -> dict:
        base = dict(
            ticket_id=tid,
            ticket_type=ttype,
            product="digital_tv",
            customer_id="C1",
            customer_tier="ordinary",
            customer_kind="individual",
            district_id="D1",
            area_type="urban",
            technician_id="K1",
            channel="hotline",
            status="open",
            opened_at=opened,
            reopen_count=0,
        )
        base.update(cols)
        if base.get("updated_at") is None:
            base["updated_at"] = max(base[c] for c in TS_COLUMNS if base.get(c) is not None)
        if base.get("resolved_at") is not None and base["status"] == "open":
            base["status"] = "resolved"
        export_day = day or base["updated_at"].date()
        if export_day > opened.date():  # the opening-day export: the state at the end of that day
            first = {
                k: (None if k in TS_COLUMNS and v is not None and v.date() > opened.date() else v)
                for k, v in base.items()
            }
            first.update(status="open", updated_at=max(first[c] for c in TS_COLUMNS if first.get(c) is not None))
            self.add(opened, "tickets", **first)
        return self.add(export_day, "tickets", **base)

    def call(self, cid: str, arrived: datetime, **cols) -> dict:
        base = dict(
            call_id=cid,
            caller_phone="13800000000",
            customer_tier="ordinary",
            district_id="D1",
            queue="ordinary",
            call_type="consultation",
            arrived_at=arrived,
            human_requested=False,
            ended_at=arrived + timedelta(minutes=3),
            abandoned=False,
            transfer_type="none",
        )
        base.update(cols)
        return self.add(arrived, "calls", **base)

    def callback(self, cbid: str, at: datetime, **cols) -> dict:
        base = dict(
            callback_id=cbid,
            customer_id="C1",
            district_id="D1",
            reason="post_repair",
            channel="phone",
            callback_at=at,
            outcome="reached",
        )
        base.update(cols)
        return self.add(at, "callbacks", **base)

    def run(self) -> list[dict]:
        self.key = AnswerKey(self.start, self.end)
        d = self.start
        while d <= self.end:
            for entity, row in self.days.get(d, []):
                self.key.feed(entity, row)
            self.key.end_of_day(d)
            d += timedelta(days=1)
        return self.key.finish()


def cell(rows: list[dict], rule: str, month: str, grain: str = "company", unit: str = "ALL"):
    hits = [
        (r["numerator"], r["denominator"])
        for r in rows
        if (r["measure_id"], r["period_month"], r["grain"], r["unit_id"]) == (rule, month, grain, unit)
    ]
    assert len(hits) <= 1
    return hits[0] if hits else None


def rule_rows(rows: list[dict], rule: str) -> list[dict]:
    return [r for r in rows if r["measure_id"] == rule]


# ---------------------------------------------------------------- hours clock, midnight, versions


def test_reply_at_exactly_24h_is_on_time_and_one_at_24h01_is_not():
    s = Scenario()
    s.ticket("T-1", "consultation", DT(2026, 1, 5, 10), first_reply_at=DT(2026, 1, 6, 10))
    s.ticket("T-2", "consultation", DT(2026, 1, 5, 10), first_reply_at=DT(2026, 1, 6, 10, 1))
    rows = s.run()
    assert cell(rows, "T9", "2026-01") == (1, 2)
    assert cell(rows, "A3", "2026-01", "district", "D1") == (1, 2)
    assert cell(rows, "T9", "2026-01", "district", "D1") == (1, 2)


def test_deadline_at_midnight_belongs_to_the_day_before():
    s = Scenario(end=date(2026, 2, 28))
    s.ticket("T-1", "consultation", DT(2026, 1, 31, 0, 0))  # never replied: due 24:00 on 31 January
    rows = s.run()
    assert cell(rows, "T9", "2026-01") == (0, 1)
    assert cell(rows, "T9", "2026-02") is None


def test_reexported_ticket_newest_version_wins():
    s = Scenario()
    common = dict(severity="general", first_reply_at=DT(2026, 1, 5, 10, 30))
    s.ticket("T-1", "fault", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 5, 12), **common)  # met on day 1
    # reopened: resolved again three days later, past its 24 h limit
    s.ticket("T-1", "fault", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 8, 9), status="reopened", **common)
    # an older version fed after a newer one does not win
    s.ticket("T-2", "fault", DT(2026, 1, 12, 10), resolved_at=DT(2026, 1, 14, 9), day=date(2026, 1, 14), **common)
    s.ticket(
        "T-2",
        "fault",
        DT(2026, 1, 12, 10),
        resolved_at=DT(2026, 1, 12, 12),
        day=date(2026, 1, 14),
        updated_at=DT(2026, 1, 12, 12),
        **common,
    )
    rows = s.run()
    assert cell(rows, "T2", "2026-01") == (0, 2)


def test_same_updated_at_later_feed_wins():
    s = Scenario()
    kw = dict(severity="general", updated_at=DT(2026, 1, 5, 20), day=date(2026, 1, 5))
    s.ticket("T-1", "fault", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 7, 12), **kw)
    s.ticket("T-1", "fault", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 5, 12), **kw)
    assert cell(s.run(), "T2", "2026-01") == (1, 1)


# ---------------------------------------------------------------- working days


def test_t3_deadline_across_spring_festival_lands_after_the_holiday():
    s = Scenario(start=date(2026, 2, 1), end=date(2026, 3, 31))
    opened = DT(2026, 2, 13, 9)  # Friday before Spring Festival: 5 wd = 14 Feb (调休) + 24..27 Feb
    s.ticket("T-1", "new_install", opened, resolved_at=DT(2026, 2, 27, 23, 59), needs_survey=True)
    s.ticket("T-2", "new_install", opened, resolved_at=DT(2026, 2, 28, 0, 1), needs_survey=True)
    rows = s.run()
    assert cell(rows, "T3", "2026-02") == (1, 2)  # the breach is judged at its deadline, 24:00 on 27 Feb
    assert cell(rows, "T3", "2026-03") is None


def test_rural_installation_gets_the_rural_working_day_limit():
    s = Scenario(start=date(2026, 3, 1), end=date(2026, 3, 31))
    s.ticket(
        "T-1", "new_install", DT(2026, 3, 2, 9), area_type="rural", needs_survey=True, resolved_at=DT(2026, 3, 13, 12)
    )  # 9th working day: late for urban (5), fine for rural (10)
    assert cell(s.run(), "T3", "2026-03") == (1, 1)


def test_make_up_saturday_counts_as_a_working_day():
    s = Scenario(start=date(2026, 2, 1), end=date(2026, 3, 31))
    vip = dict(customer_tier="vip", severity="general", first_reply_at=DT(2026, 2, 13, 8, 30))
    # repaired Friday 13 Feb: 1 wd = Saturday 14 Feb (调休), so a Sunday callback is late
    s.ticket("T-1", "fault", DT(2026, 2, 13, 8), resolved_at=DT(2026, 2, 13, 10), **vip)
    s.callback("CB-1", DT(2026, 2, 14, 20), ticket_id="T-1")
    s.ticket("T-2", "fault", DT(2026, 2, 13, 8), resolved_at=DT(2026, 2, 13, 10), **vip)
    s.callback("CB-2", DT(2026, 2, 15, 9), ticket_id="T-2")
    # repaired Friday 27 Feb: 1 wd = Saturday 28 Feb (调休)
    s.ticket("T-3", "fault", DT(2026, 2, 27, 8), resolved_at=DT(2026, 2, 27, 10), **vip)
    s.callback("CB-3", DT(2026, 2, 28, 18), ticket_id="T-3")
    rows = s.run()
    assert cell(rows, "C2", "2026-02") == (2, 3)


# ---------------------------------------------------------------- pauses


def test_pause_overlapping_the_deadline_extends_it():
    s = Scenario()
    kw = dict(severity="general", first_reply_at=DT(2026, 1, 5, 10, 30))
    # 24 h limit from 5 Jan 10:00; a 6 h pause that straddles the old deadline moves it to 6 Jan 16:00
    s.ticket("T-1", "fault", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 6, 15, 59), **kw)
    s.add(
        DT(2026, 1, 6),
        "ticket_pauses",
        pause_id="P-1",
        ticket_id="T-1",
        reason="force_majeure",
        paused_at=DT(2026, 1, 6, 8),
        resumed_at=DT(2026, 1, 6, 14),
    )
    s.ticket("T-2", "fault", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 6, 16, 1), **kw)
    s.add(
        DT(2026, 1, 6),
        "ticket_pauses",
        pause_id="P-2",
        ticket_id="T-2",
        reason="force_majeure",
        paused_at=DT(2026, 1, 6, 8),
        resumed_at=DT(2026, 1, 6, 14),
    )
    assert cell(s.run(), "T2", "2026-01") == (1, 2)


def test_overlapping_pauses_are_merged_before_they_are_subtracted():
    s = Scenario()
    s.ticket("T-1", "fault", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 6, 16, 1), severity="general")
    for pid, a, b in (("P-1", 8, 12), ("P-2", 10, 14)):  # 8:00–14:00 = 6 h, not 8 h
        s.add(
            DT(2026, 1, 6),
            "ticket_pauses",
            pause_id=pid,
            ticket_id="T-1",
            reason="force_majeure",
            paused_at=DT(2026, 1, 6, a),
            resumed_at=DT(2026, 1, 6, b),
        )
    assert cell(s.run(), "T2", "2026-01") == (0, 1)


def test_pause_pushes_a_working_day_deadline():
    s = Scenario(start=date(2026, 3, 1), end=date(2026, 3, 31))
    # 5 wd from Monday 2 Mar = 24:00 Mon 9 Mar; a 2-day pause pushes it to 24:00 Wed 11 Mar
    s.ticket("T-1", "new_install", DT(2026, 3, 2, 9), needs_survey=True, resolved_at=DT(2026, 3, 11, 20))
    s.add(
        DT(2026, 3, 5),
        "ticket_pauses",
        pause_id="P-1",
        ticket_id="T-1",
        reason="formalities_incomplete",
        paused_at=DT(2026, 3, 3, 9),
        resumed_at=DT(2026, 3, 5, 9),
    )
    assert cell(s.run(), "T3", "2026-03") == (1, 1)


def _unreachable(s: Scenario, tid: str, a: datetime, b: datetime) -> None:
    s.add(
        b, "ticket_pauses", pause_id=f"P-{tid}", ticket_id=tid, reason="customer_unreachable", paused_at=a, resumed_at=b
    )


def test_t2_customer_unreachable_visit_excuses_only_its_own_time():
    """D-05 (issue 21): general fault (24 h) opened Monday 5 Jan 10:00, due 6 Jan 10:00. The unreachable
    visit stops the clock for as long as the customer was unreachable; it never makes the ticket met."""
    s = Scenario()
    # short pause (1 h): due 6 Jan 11:00; resolved 9 Jan = breach (the old rule called it met)
    s.ticket("T-short", "fault", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 9, 10), severity="general")
    _unreachable(s, "T-short", DT(2026, 1, 5, 12), DT(2026, 1, 5, 13))
    # long pause (48 h): due 8 Jan 10:00; resolved 8 Jan 09:00 = met
    s.ticket("T-long", "fault", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 8, 9), severity="general")
    _unreachable(s, "T-long", DT(2026, 1, 5, 12), DT(2026, 1, 7, 12))
    # the unreachable visit came after the limit (6 Jan 12:00 > 10:00): it excuses nothing
    s.ticket("T-after", "fault", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 6, 15), severity="general")
    _unreachable(s, "T-after", DT(2026, 1, 6, 12), DT(2026, 1, 6, 14))
    # still open, an old 1 h unreachable pause: an open overdue breach (due 6 Jan 11:00)
    s.ticket("T-open", "fault", DT(2026, 1, 5, 10), severity="general")
    _unreachable(s, "T-open", DT(2026, 1, 5, 12), DT(2026, 1, 5, 13))
    assert cell(s.run(), "T2", "2026-01") == (1, 4)


def test_breach_of_an_hours_clock_with_pauses_takes_the_month_of_the_extended_deadline():
    """D-114: T2 general opened 30 Jan 20:00 (due 31 Jan 20:00); a 6 h pause moves the deadline to
    1 Feb 02:00: an open ticket is a February breach. Without the pause it is a January breach."""
    s = Scenario(end=date(2026, 2, 28))
    s.ticket("T-1", "fault", DT(2026, 1, 30, 20), severity="general")
    s.add(
        DT(2026, 1, 31),
        "ticket_pauses",
        pause_id="P-1",
        ticket_id="T-1",
        reason="force_majeure",
        paused_at=DT(2026, 1, 31, 10),
        resumed_at=DT(2026, 1, 31, 16),
    )
    s.ticket("T-2", "fault", DT(2026, 1, 30, 20), severity="general")
    rows = s.run()
    assert cell(rows, "T2", "2026-01") == (0, 1)
    assert cell(rows, "T2", "2026-02") == (0, 1)


def test_pause_across_a_weekend_extends_a_working_day_limit_in_calendar_time():
    """D-115: T3 urban (5 wd) from Thursday 5 Mar 10:00 is due 24:00 of Thu 12 Mar; a pause Friday 18:00 to
    Monday 09:00 (63 h) moves it to Sunday 15 Mar 15:00: done on Saturday 14 Mar is met, Monday 16 Mar not."""
    s = Scenario(start=date(2026, 3, 1), end=date(2026, 3, 31))
    for tid, done in (("T-sat", DT(2026, 3, 14, 12)), ("T-mon", DT(2026, 3, 16, 9))):
        s.ticket(tid, "new_install", DT(2026, 3, 5, 10), needs_survey=True, resolved_at=done)
        s.add(
            DT(2026, 3, 9),
            "ticket_pauses",
            pause_id=f"P-{tid}",
            ticket_id=tid,
            reason="formalities_incomplete",
            paused_at=DT(2026, 3, 6, 18),
            resumed_at=DT(2026, 3, 9, 9),
        )
    assert cell(s.run(), "T3", "2026-03") == (1, 2)


def test_clock_starts_when_formalities_are_complete():
    s = Scenario()
    s.ticket(
        "T-1",
        "restoration",
        DT(2026, 1, 5, 10),
        restoration_kind="arrears_paid",
        formalities_complete_at=DT(2026, 1, 7, 9),
        resolved_at=DT(2026, 1, 8, 9),
    )
    assert cell(s.run(), "T6", "2026-01") == (1, 1)


# ---------------------------------------------------------------- month attribution of open items


def test_open_overdue_ticket_is_a_breach_in_its_deadline_month():
    s = Scenario(end=date(2026, 2, 28))
    s.ticket("T-1", "line_survey", DT(2026, 1, 31, 20))  # never answered: due 2 Feb 20:00
    rows = s.run()
    assert cell(rows, "T5", "2026-01") is None
    assert cell(rows, "T5", "2026-02") == (0, 1)


def test_open_ticket_within_its_limit_is_not_judged():
    s = Scenario(end=date(2026, 2, 28))
    s.ticket("T-1", "line_survey", DT(2026, 2, 28, 10), first_reply_at=DT(2026, 2, 28, 11))
    rows = s.run()
    assert rule_rows(rows, "T5") == []
    assert cell(rows, "T9", "2026-02") == (1, 1)  # its reply is already known


def test_late_completion_is_judged_in_the_deadline_month_not_the_completion_month():
    s = Scenario(end=date(2026, 2, 28))
    s.ticket("T-1", "line_survey", DT(2026, 1, 29, 10), resolved_at=DT(2026, 2, 3, 10))
    rows = s.run()
    assert cell(rows, "T5", "2026-01") == (0, 1)  # due 31 Jan 10:00


# ---------------------------------------------------------------- complaints and VIP field service


def test_vip_complaint_closed_next_day_with_explanation_meets_t7():
    s = Scenario()
    kw = dict(customer_tier="vip", first_reply_at=DT(2026, 1, 5, 22, 30))
    s.ticket("T-1", "complaint", DT(2026, 1, 5, 22), resolved_at=DT(2026, 1, 6, 9), explanation_filed=True, **kw)
    s.ticket("T-2", "complaint", DT(2026, 1, 5, 22), resolved_at=DT(2026, 1, 6, 9), explanation_filed=False, **kw)
    assert cell(s.run(), "T7", "2026-01") == (1, 2)


def test_v5_repeat_fault_within_30_days_breaches_at_the_new_ticket():
    s = Scenario(end=date(2026, 3, 31))
    kw = dict(customer_tier="vip", severity="general", first_reply_at=DT(2026, 1, 5, 10, 5))
    s.ticket("T-1", "fault", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 5, 12), customer_id="V1", **kw)
    s.ticket(
        "T-2",
        "fault",
        DT(2026, 2, 3, 10),
        resolved_at=DT(2026, 2, 3, 12),
        customer_id="V1",
        **{**kw, "first_reply_at": DT(2026, 2, 3, 10, 5)},
    )
    rows = s.run()
    assert cell(rows, "V5", "2026-02") == (0, 1)  # T-1 breached when T-2 was opened
    assert cell(rows, "V5", "2026-03") == (1, 1)  # T-2 met at its window's end, 5 Mar


def test_v6_complaint_about_a_vip_job_breaches():
    s = Scenario(end=date(2026, 3, 31))
    s.ticket(
        "T-1", "new_install", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 6, 12), customer_tier="vip", needs_survey=True
    )
    s.ticket("T-2", "complaint", DT(2026, 1, 20, 10), related_ticket_id="T-1", customer_tier="vip")
    rows = s.run()
    assert cell(rows, "V6", "2026-01") == (0, 1)


# ---------------------------------------------------------------- hotline


def test_vip_call_answered_at_20s_is_within_h1_and_an_abandon_at_19s_counts_in_the_denominator():
    s = Scenario()
    q = DT(2026, 1, 5, 10)
    s.call(
        "K-1",
        q,
        queue="vip",
        customer_tier="vip",
        human_requested=True,
        queued_at=q,
        answered_at=q + timedelta(seconds=20),
    )
    s.call(
        "K-2",
        q,
        queue="vip",
        customer_tier="vip",
        human_requested=True,
        queued_at=q,
        ended_at=q + timedelta(seconds=19),
        abandoned=True,
    )
    s.call(
        "K-3",
        q,
        queue="vip",
        customer_tier="vip",
        human_requested=True,
        queued_at=q,
        answered_at=q + timedelta(seconds=21),
    )
    s.call("K-4", q, queue="ordinary", human_requested=True, queued_at=q, answered_at=q)  # not a VIP queue call
    rows = s.run()
    assert cell(rows, "H1", "2026-01") == (1, 3)
    assert cell(rows, "H1", "2026-01", "district", "D1") == (1, 3)


def test_h1_counts_vip_callers_in_any_queue_and_drops_abandons_shorter_than_the_threshold():
    """D-116: H1's VIP is the caller's tier, whatever the queue; D-117: an abandon < short_abandon is out."""
    short = rulebook.load()["H1"].limit("short_abandon").duration
    assert short == timedelta(seconds=5)  # the rulebook default this test was computed for
    s = Scenario()
    q = DT(2026, 1, 5, 10)
    s.call(
        "V-ord-queue",
        q,
        queue="ordinary",
        customer_tier="red_vip",
        human_requested=True,
        queued_at=q,
        answered_at=q + timedelta(seconds=40),
    )  # a VIP routed to the ordinary queue: counts, late
    s.call(
        "O-vip-queue",
        q,
        queue="vip",
        customer_tier="szx",
        human_requested=True,
        queued_at=q,
        answered_at=q + timedelta(seconds=5),
    )  # not a VIP caller: out
    s.call(
        "A-2s",
        q,
        queue="vip",
        customer_tier="vip",
        human_requested=True,
        queued_at=q,
        ended_at=q + timedelta(seconds=2),
        abandoned=True,
    )  # short abandon: out
    s.call(
        "A-5s",
        q,
        queue="vip",
        customer_tier="vip",
        human_requested=True,
        queued_at=q,
        ended_at=q + timedelta(seconds=5),
        abandoned=True,
    )  # exactly the threshold: counts, not within
    s.call(
        "OK",
        q,
        queue="vip",
        customer_tier="gotone_vip",
        human_requested=True,
        queued_at=q,
        answered_at=q + timedelta(seconds=3),
    )
    assert cell(s.run(), "H1", "2026-01") == (1, 3)


def test_h5_hour_with_fault_calls_and_none_answered_fails():
    s = Scenario()
    s.call(
        "K-1",
        DT(2026, 1, 5, 3, 10),
        call_type="fault",
        human_requested=True,
        queued_at=DT(2026, 1, 5, 3, 10),
        abandoned=True,
    )
    s.call(
        "K-2",
        DT(2026, 1, 5, 3, 50),
        call_type="fault",
        human_requested=True,
        queued_at=DT(2026, 1, 5, 3, 50),
        abandoned=True,
    )
    s.call(
        "K-3",
        DT(2026, 1, 5, 4, 10),
        call_type="fault",
        human_requested=True,
        queued_at=DT(2026, 1, 5, 4, 10),
        abandoned=True,
    )
    s.call(
        "K-4",
        DT(2026, 1, 5, 4, 20),
        call_type="fault",
        human_requested=True,
        queued_at=DT(2026, 1, 5, 4, 20),
        answered_at=DT(2026, 1, 5, 4, 21),
    )
    s.call(
        "K-5",
        DT(2026, 1, 5, 5, 0),
        call_type="consultation",
        human_requested=True,
        queued_at=DT(2026, 1, 5, 5, 0),
        abandoned=True,
    )  # not a fault call: hour not judged
    rows = s.run()
    assert cell(rows, "H5", "2026-01") == (1, 2)
    assert cell(rows, "H5", "2026-01", "queue", "ordinary") == (1, 2)


def test_transfers_are_counted_by_type_and_outcome():
    s = Scenario()
    t = DT(2026, 1, 5, 10)
    answered = dict(queued_at=t, answered_at=t + timedelta(seconds=5), human_requested=True)
    s.call(
        "K-1",
        t,
        transfer_type="expert",
        transfer_requested=True,
        transfer_queued_at=t + timedelta(minutes=1),
        transfer_answered_at=t + timedelta(minutes=1, seconds=20),
        transfer_outcome="success",
        **answered,
    )
    s.call(
        "K-2",
        t,
        transfer_type="expert",
        transfer_requested=True,
        transfer_queued_at=t + timedelta(minutes=1),
        transfer_answered_at=t + timedelta(minutes=1, seconds=21),
        transfer_outcome="misrouted",
        **answered,
    )
    s.call("K-3", t, transfer_type="self_service", transfer_outcome="success", queue="vip", **answered)
    s.call("K-4", t, queue="vip", **answered)
    rows = s.run()
    assert cell(rows, "H2.1", "2026-01") == (1, 2)
    assert cell(rows, "H2.2", "2026-01") == (1, 2)
    assert cell(rows, "H3.1", "2026-01", "queue", "vip") == (1, 1)
    assert cell(rows, "H3.3", "2026-01") == (1, 4)
    assert cell(rows, "H4", "2026-01") == (1, 2)  # the unrequested self-service transfer of a VIP-queue call


def test_repeat_call_within_7_days_same_type_is_a_repeat():
    s = Scenario()
    s.call("K-1", DT(2026, 1, 5, 10), customer_id="C1", call_type="fault")
    s.call("K-2", DT(2026, 1, 12, 10), customer_id="C1", call_type="fault")  # exactly 168 h later
    s.call("K-3", DT(2026, 1, 12, 11), customer_id="C1", call_type="complaint")  # other type
    s.call("K-4", DT(2026, 1, 20, 10), customer_id="C1", call_type="fault")  # 8 days later
    s.call("K-5", DT(2026, 1, 20, 10), call_type="fault")  # unidentified
    assert cell(s.run(), "R3", "2026-01") == (1, 4)


# ---------------------------------------------------------------- satisfaction


def test_s1_is_judged_per_brand_group_against_its_own_target():
    s = Scenario()
    answers = {
        "gotone_vip": ["score_5"] * 9 + ["score_3"],
        "gotone": ["score_4"] * 17 + ["score_1"] * 3,
        "mzone": ["score_4"] * 3 + ["score_2"] * 2 + ["unreachable", "refused"],
    }
    n = 0
    for tier, given in answers.items():
        for a in given:
            n += 1
            s.add(
                DT(2026, 1, 5),
                "surveys",
                survey_id=f"S-{n}",
                channel="hotline",
                customer_id="C1",
                customer_tier=tier,
                district_id="D1",
                surveyed_at=DT(2026, 1, 5, 12),
                answer=a,
            )
    rows = s.run()
    s1 = rulebook.load()["S1"]
    assert cell(rows, "S1", "2026-01", "brand_group", "gotone_vip") == (9, 10)
    assert cell(rows, "S1", "2026-01", "brand_group", "gotone") == (17, 20)
    assert cell(rows, "S1", "2026-01", "brand_group", "other") == (3, 5)
    verdict = {r["unit_id"]: s1.passes(r["value"], r["unit_id"]) for r in rule_rows(rows, "S1")}
    assert verdict == {"gotone_vip": True, "gotone": True, "other": False}
    assert cell(rows, "S1", "2026-01") is None  # S1 has no company grain


# ---------------------------------------------------------------- callbacks and contact policy


def test_c3_repeat_fault_customer_needs_a_callback_in_the_last_week():
    s = Scenario(end=date(2026, 2, 28))
    kw = dict(customer_tier="vip", severity="general")
    s.ticket("T-1", "fault", DT(2026, 1, 5, 10), customer_id="V1", **kw)  # two faults in January
    s.ticket("T-2", "fault", DT(2026, 1, 15, 10), customer_id="V1", **kw)
    s.callback("CB-1", DT(2026, 1, 28, 10), customer_id="V1", reason="repeat_fault")
    s.ticket("T-3", "fault", DT(2026, 1, 20, 10), customer_id="V2", **kw)  # January and February
    s.ticket("T-4", "fault", DT(2026, 2, 3, 10), customer_id="V2", **kw)
    s.callback("CB-2", DT(2026, 2, 10, 10), customer_id="V2", reason="repeat_fault")  # not the last week
    s.ticket("T-5", "fault", DT(2026, 1, 20, 10), customer_id="V3", **kw)  # one fault: not due
    s.ticket("T-6", "fault", DT(2026, 1, 6, 10), customer_id="C9", severity="general")  # not VIP
    s.ticket("T-7", "fault", DT(2026, 1, 7, 10), customer_id="C9", severity="general")
    rows = s.run()
    assert cell(rows, "C3", "2026-01") == (1, 1)
    assert cell(rows, "C3", "2026-02") == (0, 1)


def test_c1_callback_must_reach_the_customer_within_72h():
    s = Scenario()
    for i, (hours, outcome) in enumerate([(72, "reached"), (73, "reached"), (10, "unreachable")]):
        tid = f"T-{i}"
        s.ticket(tid, "fault", DT(2026, 1, 5, 10), resolved_at=DT(2026, 1, 5, 12), severity="general")
        s.callback(f"CB-{i}", DT(2026, 1, 5, 12) + timedelta(hours=hours), ticket_id=tid, outcome=outcome)
    assert cell(s.run(), "C1", "2026-01") == (1, 3)


def test_v1_clock_starts_at_opening_and_c2_at_resolution():
    """D-121: V1 runs from opened_at (not formalities complete, not dispatch) to arrived_at: an arrival exactly
    1 h after opening is met, 1 min later is not, although both came 40 min after dispatch. D-120: C2 runs
    from resolved_at: a VIP repair resolved Friday 9 Jan 15:00 is due 24:00 Monday 12 Jan (1 wd)."""
    s = Scenario()
    for tid, arrived, cb in (
        ("T-on", DT(2026, 1, 9, 11), DT(2026, 1, 12, 20)),
        ("T-late", DT(2026, 1, 9, 11, 1), DT(2026, 1, 13, 9)),
    ):
        s.ticket(
            tid,
            "fault",
            DT(2026, 1, 9, 10),
            severity="emergency",
            customer_tier="vip",
            formalities_complete_at=DT(2026, 1, 9, 10, 20),
            dispatched_at=arrived - timedelta(minutes=40),
            arrived_at=arrived,
            resolved_at=DT(2026, 1, 9, 15),
        )
        s.callback(f"CB-{tid}", cb, ticket_id=tid)
    rows = s.run()
    assert cell(rows, "V1", "2026-01") == (1, 2)
    assert cell(rows, "C2", "2026-01") == (1, 2)


def test_c5_cutover_callback_by_the_second_working_day():
    s = Scenario(start=date(2026, 3, 1), end=date(2026, 3, 31))
    s.add(
        DT(2026, 3, 5),
        "works",
        work_id="W-1",
        work_kind="cutover",
        district_id="D1",
        start_at=DT(2026, 3, 5, 1),
        end_at=DT(2026, 3, 5, 5),
    )  # Thursday: 2nd wd = Monday 9 Mar
    for cust, notified in (("C1", DT(2026, 3, 2, 9)), ("C2", DT(2026, 3, 4, 9)), ("C3", None)):
        s.add(DT(2026, 3, 5), "work_notices", work_id="W-1", customer_id=cust, notified_at=notified)
    s.callback("CB-1", DT(2026, 3, 9, 20), customer_id="C1", reason="cutover", work_id="W-1")
    s.callback("CB-2", DT(2026, 3, 10, 9), customer_id="C2", reason="cutover", work_id="W-1")
    rows = s.run()
    assert cell(rows, "C5", "2026-03") == (1, 3)
    assert cell(rows, "N2", "2026-03") == (1, 3)  # only C1 was told 48 h ahead


def test_c6_is_reported_year_to_date_against_a_linear_pace():
    s = Scenario(end=date(2026, 2, 28))
    for i in range(12):
        s.add(
            DT(2026, 1, 1),
            "customers",
            customer_id=f"R{i}",
            tier="red_vip",
            district_id="D1",
            customer_kind="individual",
            is_project=False,
            opened_date=date(2020, 1, 1),
        )
    s.callback("CB-1", DT(2026, 1, 10, 9), customer_id="R0", reason="red_vip_sms", channel="sms")
    s.callback("CB-2", DT(2026, 1, 11, 9), customer_id="R1", reason="red_vip_sms", channel="phone")  # not SMS
    s.callback("CB-3", DT(2026, 1, 12, 9), customer_id="R2", reason="red_vip_sms", channel="sms", outcome="unreachable")
    s.callback("CB-4", DT(2026, 2, 12, 9), customer_id="R3", reason="red_vip_sms", channel="sms")
    s.callback("CB-5", DT(2026, 2, 13, 9), customer_id="R0", reason="red_vip_sms", channel="sms")  # again
    rows = s.run()
    assert cell(rows, "C6", "2026-01") == (1, 12)
    assert cell(rows, "C6", "2026-02") == (2, 12)
    jan = [r["value"] for r in rule_rows(rows, "C6") if r["period_month"] == "2026-01" and r["grain"] == "company"]
    assert jan[0] >= 1 / 12  # on the linear pace for January


def test_do_not_disturb_window_runs_across_a_month_boundary():
    s = Scenario(end=date(2026, 2, 28))
    for i, day in enumerate([date(2026, 1, 20), date(2026, 2, 5), date(2026, 2, 10)]):  # 3rd call in 21 days
        s.add(
            day,
            "outbound",
            contact_id=f"O-{i}",
            customer_id="C1",
            customer_tier="ordinary",
            purpose="marketing",
            channel="phone",
            contacted_at=DT(day.year, day.month, day.day, 10),
            answered=False,
        )
    s.add(
        date(2026, 2, 6),
        "outbound",
        contact_id="O-S",
        customer_id="C1",
        customer_tier="ordinary",
        purpose="notice",
        channel="sms",
        contacted_at=DT(2026, 2, 6, 10),
        answered=True,
    )  # SMS is not a call
    for i, day in enumerate([date(2026, 1, 1), date(2026, 1, 31)]):  # VIP: exactly 720 h apart is inside
        s.add(
            day,
            "outbound",
            contact_id=f"V-{i}",
            customer_id="V1",
            customer_tier="vip",
            purpose="care",
            channel="phone",
            contacted_at=DT(day.year, day.month, day.day, 10),
            answered=True,
        )
    rows = s.run()
    assert cell(rows, "P1", "2026-01", "tier_group", "ordinary") == (1, 1)
    assert cell(rows, "P1", "2026-02", "tier_group", "ordinary") == (0, 1)
    assert cell(rows, "P1", "2026-01", "tier_group", "vip") == (0, 1)


def test_p1_limit_follows_the_customers_group_of_the_month_and_notices_do_not_count():
    """D-44 / D-118: a customer ordinary at their first counted call of March is judged by the ordinary
    limit for the whole month (their VIP-tier second call does not breach) and counts as ordinary; notices
    are not counted. In April their first call is VIP: the April call breaches (the window sees 10 March)."""
    assert rulebook.p1_counted_purposes() == {"marketing", "care", "other"}
    s = Scenario(start=date(2026, 3, 1), end=date(2026, 4, 30))
    calls = [
        ("A1", "ordinary", "marketing", DT(2026, 3, 2, 10)),
        ("A2", "vip", "care", DT(2026, 3, 10, 10)),
        ("A3", "vip", "notice", DT(2026, 3, 15, 10)),
        ("A4", "vip", "care", DT(2026, 4, 5, 10)),
        ("B1", "red_vip", "marketing", DT(2026, 3, 2, 11)),
        ("B2", "ordinary", "other", DT(2026, 3, 20, 10)),
    ]
    for cid, tier, purpose, at in calls:
        s.add(
            at,
            "outbound",
            contact_id=cid,
            customer_id="K4" if cid[0] == "A" else "K5",
            customer_tier=tier,
            purpose=purpose,
            channel="phone",
            contacted_at=at,
            answered=True,
        )
    rows = s.run()
    assert cell(rows, "P1", "2026-03", "tier_group", "ordinary") == (1, 1)  # K4, no breach
    assert cell(rows, "P1", "2026-03", "tier_group", "vip") == (0, 1)  # K5: its 2nd call breaches the VIP limit
    assert cell(rows, "P1", "2026-04", "tier_group", "vip") == (0, 1)  # K4 in April
    assert cell(rows, "P1", "2026-04", "tier_group", "ordinary") is None


# ---------------------------------------------------------------- district assessment


def test_district_of_4500_households_passes_a2_with_no_complaint_and_fails_with_one():
    s = Scenario()
    for d in ("D1", "D2"):
        s.add(
            DT(2026, 1, 31),
            "district_households",
            district_id=d,
            month="2026-01",
            households=4500,
            households_target=4600,
        )
    s.ticket("T-1", "complaint", DT(2026, 1, 10, 9), district_id="D2")
    rows = s.run()
    a2 = rulebook.load()["A2"]
    assert cell(rows, "A2", "2026-01", "district", "D1") == (0, 4500)
    assert cell(rows, "A2", "2026-01", "district", "D2") == (1, 4500)
    verdict = {r["unit_id"]: a2.passes(r["value"], r["unit_id"]) for r in rule_rows(rows, "A2")}
    assert verdict == {"ALL": False, "D1": True, "D2": False}


def test_a2_counts_valid_complaints_and_every_complaint_when_validity_is_not_exported():
    """D-119: an invalid complaint (无效投诉) does not count; a valid or undecided one does; a row from an
    export without the validity column counts."""
    s = Scenario()
    for d in ("D1", "D2"):
        s.add(
            DT(2026, 1, 31),
            "district_households",
            district_id=d,
            month="2026-01",
            households=4500,
            households_target=4600,
        )
    s.ticket("T-valid", "complaint", DT(2026, 1, 10, 9), complaint_validity="valid")
    s.ticket("T-invalid", "complaint", DT(2026, 1, 11, 9), complaint_validity="invalid")
    s.ticket("T-undecided", "complaint", DT(2026, 1, 12, 9))
    s.ticket("T-d2-invalid", "complaint", DT(2026, 1, 12, 9), district_id="D2", complaint_validity="invalid")
    row = s.ticket("T-no-column", "complaint", DT(2026, 1, 13, 9), district_id="D2")
    del row["complaint_validity"]  # an export that lacks the column
    rows = s.run()
    assert cell(rows, "A2", "2026-01", "district", "D1") == (2, 4500)
    assert cell(rows, "A2", "2026-01", "district", "D2") == (1, 4500)
    assert cell(rows, "A2", "2026-01") == (3, 9000)


def test_a1_staffing_allows_the_tolerance_and_counts_technicians_on_the_last_day():
    s = Scenario()
    s.add(DT(2026, 1, 1), "districts", district_id="D1", district_name="城东", area_type="urban")
    s.add(DT(2026, 1, 1), "districts", district_id="D2", district_name="城西", area_type="urban")
    techs = [
        ("K1", "D1", date(2025, 1, 1), None),
        ("K2", "D1", date(2025, 1, 1), None),
        ("K3", "D2", date(2025, 1, 1), None),
        ("K4", "D2", date(2025, 1, 1), None),
    ]
    for tid, d, vf, vt in techs:
        s.add(
            DT(2026, 1, 1),
            "technicians",
            technician_id=tid,
            technician_name="x",
            technician_phone="x",
            district_id=d,
            valid_from=vf,
            valid_to=vt,
        )
    # a new snapshot on 20 Jan: K4 left D2 on 19 Jan
    for tid, d, vf, vt in techs[:3] + [
        ("K4", "D2", date(2025, 1, 1), date(2026, 1, 19)),
        ("K4", "D1", date(2026, 1, 20), None),
    ]:
        s.add(
            DT(2026, 1, 20),
            "technicians",
            technician_id=tid,
            technician_name="x",
            technician_phone="x",
            district_id=d,
            valid_from=vf,
            valid_to=vt,
        )
    s.add(
        DT(2026, 1, 31),
        "district_households",
        district_id="D1",
        month="2026-01",
        households=14850,
        households_target=15000,
    )
    s.add(
        DT(2026, 1, 31),
        "district_households",
        district_id="D2",
        month="2026-01",
        households=4951,
        households_target=5000,
    )
    rows = s.run()
    a1 = rulebook.load()["A1"]
    assert cell(rows, "A1", "2026-01", "district", "D1") == (14850, 3)  # 4,950 per person: at the tolerance
    assert cell(rows, "A1", "2026-01", "district", "D2") == (4951, 1)
    assert a1.passes(14850 / 3, "D1", "urban") is True
    assert a1.passes(4951 / 1, "D2", "urban") is False


def test_a6_compares_households_with_the_previous_month_and_skips_the_first():
    s = Scenario(end=date(2026, 2, 28))
    s.add(
        DT(2026, 1, 31),
        "district_households",
        district_id="D1",
        month="2026-01",
        households=1000,
        households_target=1100,
    )
    s.add(
        DT(2026, 2, 28),
        "district_households",
        district_id="D1",
        month="2026-02",
        households=990,
        households_target=1100,
    )
    rows = s.run()
    assert rule_rows(rows, "A6") and all(r["period_month"] == "2026-02" for r in rule_rows(rows, "A6"))
    assert cell(rows, "A6", "2026-02", "district", "D1") == (990, 1000)


# ---------------------------------------------------------------- every measure


def full_scenario() -> Scenario:
    """Hand-made rows over one quarter touching every numeric measure."""
    s = Scenario(end=date(2026, 3, 31))
    d1 = DT(2026, 1, 1)
    s.add(d1, "districts", district_id="D1", district_name="城东", area_type="urban")
    s.add(
        d1,
        "technicians",
        technician_id="K1",
        technician_name="x",
        technician_phone="x",
        district_id="D1",
        valid_from=date(2025, 1, 1),
    )
    cust = dict(
        customer_name="x",
        phone="x",
        address="x",
        id_number="x",
        district_id="D1",
        customer_kind="individual",
        opened_date=date(2020, 1, 1),
    )
    s.add(d1, "customers", customer_id="R1", tier="red_vip", is_project=False, **cust)
    s.add(d1, "customers", customer_id="V1", tier="vip", is_project=False, **cust)
    s.add(
        d1,
        "customers",
        customer_id="P1",
        tier="ordinary",
        is_project=True,
        project_delivery_date=date(2025, 6, 1),
        **cust,
    )
    for m, last in ((1, 31), (2, 28), (3, 31)):
        s.add(
            DT(2026, m, last),
            "district_households",
            district_id="D1",
            month=f"2026-{m:02d}",
            households=5000 + m,
            households_target=6000,
        )
    o = DT(2026, 1, 5, 9)
    vip = dict(customer_id="V1", customer_tier="vip", first_reply_at=o + timedelta(minutes=10))
    s.ticket(
        "F-1",
        "fault",
        o,
        product="hd_interactive",
        severity="emergency",
        arrived_at=o + timedelta(minutes=40),
        appointment_at=o + timedelta(minutes=45),
        resolved_at=o + timedelta(minutes=90),
        feedback_at=o + timedelta(hours=3),
        source_call_id="K-1",
        **vip,
    )
    s.call(
        "K-1",
        o - timedelta(minutes=10),
        customer_id="V1",
        customer_tier="vip",
        queue="vip",
        call_type="fault",
        human_requested=True,
        queued_at=o - timedelta(minutes=10),
        answered_at=o - timedelta(minutes=10) + timedelta(seconds=8),
        ended_at=o - timedelta(minutes=5),
        transfer_type="expert",
        transfer_requested=False,
        transfer_queued_at=o - timedelta(minutes=7),
        transfer_answered_at=o - timedelta(minutes=7) + timedelta(seconds=10),
        transfer_outcome="success",
    )
    s.call(
        "K-2",
        o,
        queue="ordinary",
        human_requested=True,
        queued_at=o,
        answered_at=o + timedelta(seconds=3),
        customer_id="C2",
        transfer_type="self_service",
        transfer_outcome="success",
    )
    s.ticket(
        "F-2",
        "fault",
        DT(2026, 1, 6, 9),
        severity="general",
        resolved_at=DT(2026, 1, 6, 15),
        customer_id="V1",
        customer_tier="vip",
        first_reply_at=DT(2026, 1, 6, 9, 5),
    )
    s.callback("CB-1", o + timedelta(hours=5), ticket_id="F-1", customer_id="V1")
    s.callback(
        "CB-2",
        DT(2026, 1, 28, 10),
        customer_id="V1",
        reason="repeat_fault",
        outcome="problem_found",
        problem_handled_at=DT(2026, 1, 28, 15),
        repair_needed=False,
    )
    s.ticket(
        "N-1",
        "new_install",
        DT(2026, 1, 7, 9),
        needs_survey=False,
        resolved_at=DT(2026, 1, 7, 18),
        first_reply_at=DT(2026, 1, 7, 9, 30),
    )
    s.ticket("S-1", "line_survey", DT(2026, 1, 7, 9), resolved_at=DT(2026, 1, 8, 9))
    s.ticket("R-1", "restoration", DT(2026, 1, 7, 9), restoration_kind="request", resolved_at=DT(2026, 1, 8, 9))
    s.ticket(
        "Q-1", "complaint", DT(2026, 1, 7, 9), first_reply_at=DT(2026, 1, 7, 9, 20), resolved_at=DT(2026, 1, 7, 17)
    )
    s.ticket(
        "Q-2",
        "consultation",
        DT(2026, 1, 7, 9),
        answered_on_spot=False,
        resolved_at=DT(2026, 1, 7, 17),
        customer_id="V1",
        customer_tier="vip",
    )
    s.ticket(
        "A-1",
        "vip_application",
        DT(2026, 1, 7, 9),
        channel="leadership",
        entered_at=DT(2026, 1, 7, 10),
        entry_accurate=True,
        dispatched_at=DT(2026, 1, 7, 11),
        approval_submitted_at=DT(2026, 1, 8, 9),
        approval_done_at=DT(2026, 1, 12, 9),
        customer_id="V1",
        customer_tier="vip",
    )
    s.add(
        DT(2026, 1, 6),
        "surveys",
        survey_id="SV-1",
        channel="ticket",
        ticket_id="F-1",
        customer_id="V1",
        customer_tier="vip",
        district_id="D1",
        surveyed_at=DT(2026, 1, 6, 10),
        answer="satisfied",
    )
    s.add(
        DT(2026, 1, 6),
        "surveys",
        survey_id="SV-2",
        channel="hotline",
        call_id="K-2",
        customer_id="C2",
        customer_tier="gotone",
        district_id="D1",
        surveyed_at=DT(2026, 1, 6, 10),
        answer="score_5",
    )
    s.add(
        DT(2026, 1, 9),
        "suspensions",
        suspension_id="SU-1",
        customer_id="C2",
        district_id="D1",
        notice_at=DT(2026, 1, 7, 9),
        suspended_at=DT(2026, 1, 9, 9),
    )
    s.add(
        DT(2026, 1, 9),
        "works",
        work_id="W-1",
        work_kind="cutover",
        district_id="D1",
        start_at=DT(2026, 1, 9, 1),
        end_at=DT(2026, 1, 9, 4),
    )
    s.add(DT(2026, 1, 9), "work_notices", work_id="W-1", customer_id="C2", notified_at=DT(2026, 1, 6, 9))
    s.callback("CB-3", DT(2026, 1, 12, 10), customer_id="C2", reason="cutover", work_id="W-1")
    s.callback("CB-4", DT(2026, 1, 12, 10), customer_id="R1", reason="red_vip_sms", channel="sms")
    for m in (1, 2, 3):
        s.callback(f"CB-P{m}", DT(2026, m, 15, 10), customer_id="P1", reason="project")
    s.add(
        DT(2026, 2, 2),
        "outbound",
        contact_id="O-1",
        customer_id="V1",
        customer_tier="vip",
        purpose="care",
        channel="phone",
        contacted_at=DT(2026, 2, 2, 10),
        answered=True,
    )
    s.add(
        DT(2026, 1, 9),
        "hall_visits",
        visit_id="H-1",
        hall_id="HALL1",
        hall_name="x",
        district_id="D1",
        customer_id="V1",
        customer_tier="vip",
        ticket_taken_at=DT(2026, 1, 9, 10),
        served_at=DT(2026, 1, 9, 10, 8),
        vip_card_shown=True,
        received_at=DT(2026, 1, 9, 10, 2),
    )
    return s


def test_finish_emits_every_numeric_measure_and_r3():
    rows = full_scenario().run()
    expected = {m.id for m in rulebook.numeric_measures()} | {"R3"}
    assert expected - {r["measure_id"] for r in rows} == set()
    for r in rows:
        assert r["denominator"] > 0
        assert r["value"] == r["numerator"] / r["denominator"]
        assert r["grain"] in rulebook.load()[r["measure_id"]].grains


def test_every_measure_is_emitted_at_every_grain_it_lists():
    rows = full_scenario().run()
    seen = defaultdict(set)
    for r in rows:
        seen[r["measure_id"]].add(r["grain"])
    for m in rulebook.numeric_measures():
        assert seen[m.id] == set(m.grains), m.id


def test_write_csv_writes_one_line_per_row(tmp_path):
    s = full_scenario()
    rows = s.run()
    path = tmp_path / "expected" / "kpi_expected.csv"
    assert s.key.write_csv(path) == len(rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "measure_id,period_month,grain,unit_id,numerator,denominator,value"
    assert len(lines) == len(rows) + 1


def test_judged_tickets_are_dropped_from_memory():
    s = Scenario(end=date(2026, 3, 31))
    for i in range(50):
        s.ticket(
            f"T-{i}",
            "consultation",
            DT(2026, 1, 5, 10),
            first_reply_at=DT(2026, 1, 5, 11),
            resolved_at=DT(2026, 1, 5, 11),
        )
    s.key = AnswerKey(s.start, s.end)
    d = s.start
    while d <= date(2026, 2, 28):
        for entity, row in s.days.get(d, []):
            s.key.feed(entity, row)
        s.key.end_of_day(d)
        d += timedelta(days=1)
    assert s.key.stats()["live_tickets"] == 0


def test_answer_key_imports_nothing_from_the_generated_world():
    tree = ast.parse(Path(__file__).resolve().parents[2].joinpath("generator", "oracle.py").read_text("utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    allowed = {"__future__", "csv", "math", "collections", "datetime", "operator", "pathlib", "typing", "kefu", "numpy"}
    assert {m.split(".")[0] for m in imported} <= allowed, imported


def test_unknown_entity_is_refused_with_the_expected_names():
    with pytest.raises(ValueError, match="unknown entity 'orders'"):
        AnswerKey(date(2026, 1, 1), date(2026, 1, 31)).feed("orders", {})

"""The answer key (标准答案): every numeric measure of the rulebook, computed from the written rows alone.

The generator feeds every row it writes, in write order and day by day, to an
:class:`AnswerKey`; ``finish()`` returns one row per (measure, month, grain,
unit) with a non-zero denominator, and the warehouse must produce the same
table. This module is the reference implementation of docs/decisions.md and
kefu/rulebook.yml: it reads every limit and target from the rulebook, and it
imports nothing from the generator's world (it sees rows, never the simulation).

Streaming with bounded memory:
- tickets are kept (newest version only, as a tuple of the columns the rules
  read) until every window that depends on them has passed, then judged once
  and dropped; a resolved ticket waits ``REOPEN_GRACE_DAYS`` more days in case
  it is reopened;
- calls are counted by a small signature (month, queue, district, flags) per
  call; only the last few days of call end times (T8) and the last 7 days of
  contacts per customer (R3) are kept;
- customer-level rules keep only VIP, red-VIP and project customers; P1 keeps
  each customer's phone calls of the last 30 days; H5 one flag per clock hour.

Months are handled as ints ``YYYYMM`` and rendered as ``YYYY-MM`` on output.
A deadline (or window end) at exactly midnight belongs to the day before it:
its month is the month of ``deadline - 1 s`` (docs/decisions.md D-06).
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from kefu import rulebook, workcal

ONE_SEC = timedelta(seconds=1)
DAY = timedelta(days=1)

# How long a resolved ticket stays in memory after its last window has passed, in
# case a later export reopens it (D-08). A version of a ticket that arrives after
# it was judged and dropped is counted in AnswerKey.late_versions and ignored.
REOPEN_GRACE_DAYS = 10
# Calls are remembered this many export days for T8 (ticket opened from a call).
CALL_MEMORY_DAYS = 4
# Sweep idle per-customer windows (P1, R3) every this many days.
SWEEP_EVERY_DAYS = 3

# D-30: satisfied answers and answers that are not valid.
SATISFIED = frozenset({"score_5", "score_4", "satisfied", "basically_satisfied"})
NOT_VALID = frozenset({"unreachable", "refused"})
# D-40: a callback counts only when it reached the customer.
REACHED = frozenset({"reached", "problem_found"})

GRAIN_ORDER = {g: i for i, g in enumerate(rulebook.GRAINS)}

TICKET_FIELDS = (
    "ticket_id",
    "ticket_type",
    "product",
    "severity",
    "restoration_kind",
    "needs_survey",
    "customer_id",
    "customer_tier",
    "customer_kind",
    "district_id",
    "area_type",
    "technician_id",
    "channel",
    "source_call_id",
    "related_ticket_id",
    "opened_at",
    "formalities_complete_at",
    "first_reply_at",
    "dispatched_at",
    "appointment_at",
    "arrived_at",
    "resolved_at",
    "feedback_at",
    "updated_at",
    "answered_on_spot",
    "explanation_filed",
    "entered_at",
    "entry_accurate",
    "approval_submitted_at",
    "approval_done_at",
    "complaint_validity",
)
(
    T_ID,
    T_TYPE,
    T_PRODUCT,
    T_SEVERITY,
    T_RESTORATION,
    T_NEEDS_SURVEY,
    T_CUSTOMER,
    T_TIER,
    T_KIND,
    T_DISTRICT,
    T_AREA,
    T_TECH,
    T_CHANNEL,
    T_SOURCE_CALL,
    T_RELATED,
    T_OPENED,
    T_FORMALITIES,
    T_FIRST_REPLY,
    T_DISPATCHED,
    T_APPOINTMENT,
    T_ARRIVED,
    T_RESOLVED,
    T_FEEDBACK,
    T_UPDATED,
    T_ON_SPOT,
    T_EXPLANATION,
    T_ENTERED,
    T_ACCURATE,
    T_APPROVAL_SUBMITTED,
    T_APPROVAL_DONE,
    T_VALIDITY,
) = range(len(TICKET_FIELDS))
_ticket_getter = itemgetter(*TICKET_FIELDS)


def ym_of(ts: datetime | date) -> int:
    """Month of a timestamp or date as the int YYYYMM."""
    return ts.year * 100 + ts.month


def deadline_ym(deadline: datetime) -> int:
    """Month a deadline falls in: a deadline at 24:00 belongs to the day it ends (D-06)."""
    return ym_of(deadline - ONE_SEC)


def ym_text(ym: int) -> str:
    return f"{ym // 100:04d}-{ym % 100:02d}"


def prev_ym(ym: int) -> int:
    y, m = divmod(ym, 100)
    return (y - 1) * 100 + 12 if m == 1 else ym - 1


def month_last_day(ym: int) -> date:
    y, m = divmod(ym, 100)
    return (date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)) - DAY


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def midnight_after(ts: datetime | date) -> datetime:
    """24:00 of the timestamp's calendar date ("same day", D-03)."""
    d = ts.date() if isinstance(ts, datetime) else ts
    return datetime.combine(d + DAY, time.min)


def merge_intervals(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching pauses merged, sorted (D-05: no second is removed twice)."""
    out: list[list[datetime]] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def extend_by_pauses(start: datetime, deadline: datetime, pauses: list[tuple[datetime, datetime]]) -> datetime:
    """Deadline moved later by every paused second that falls on the running clock (D-05).

    The clock runs from `start`; a pause starting no later than the current deadline
    stops it for its length. Completion ≤ the result  <=>  elapsed minus pauses ≤ limit.
    """
    for a, b in pauses:
        if b <= start:
            continue
        a = max(a, start)
        if a > deadline:
            break
        deadline += b - a
    return deadline


def outcome(done: datetime | None, deadline: datetime, as_of: datetime) -> tuple[bool | None, int]:
    """(met?, month judged) of one item; met None = still open within its limit (D-06)."""
    if done is not None:
        if done <= deadline:
            return True, ym_of(done)
        return False, deadline_ym(deadline)
    if deadline < as_of:
        return False, deadline_ym(deadline)
    return None, 0


def combine_parts(parts: list[tuple[datetime | None, datetime | None]], as_of: datetime) -> tuple[bool | None, int]:
    """An item that needs every part met (T7, V7, C4): met at the latest completion,
    breached at the earliest breached deadline; a part without a deadline yet is pending."""
    breach: datetime | None = None
    last: datetime | None = None
    pending = False
    for done, dl in parts:
        if dl is None:
            pending = True
        elif done is not None and done <= dl:
            if last is None or done > last:
                last = done
        elif done is not None or dl < as_of:
            if breach is None or dl < breach:
                breach = dl
        else:
            pending = True
    if breach is not None:
        return False, deadline_ym(breach)
    if pending or last is None:
        return None, 0
    return True, ym_of(last)


# A part that is breached whatever its time (e.g. an entry that failed the accuracy check).
NEVER = datetime.max


class _Ticket:
    """Newest version of one ticket plus what other entities said about it."""

    __slots__ = ("call_end", "callbacks", "check_day", "complaints", "pauses", "surveys", "v", "watched")

    def __init__(self, v: tuple) -> None:
        self.v = v
        self.pauses: dict[str, tuple[datetime, datetime, str]] | None = None  # pause id -> (from, to, reason)
        self.callbacks: list[datetime] | None = None  # reaching callbacks of the ticket
        self.complaints: dict[str, datetime] | None = None  # complaint ticket id -> opened_at (V6)
        self.surveys: list[tuple[int, bool]] | None = None  # S3: (month, satisfied) of valid answers
        self.call_end: datetime | None = None  # T8: ended_at of the source call
        self.check_day: date | None = None
        self.watched = False  # registered in the V5 watch of its customer


class _Tally:
    """numerator / denominator per (measure, month, grain, unit)."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, int, str, str], list] = {}

    def add(
        self, mid: str, ym: int, grains: tuple[str, ...], units: dict[str, Any], hit: bool | int, n: int = 1
    ) -> None:
        cells = self.cells
        for g in grains:
            u = units.get(g)
            if u is None:
                continue  # an item without that unit (no technician, unidentified district) skips that grain
            key = (mid, ym, g, u)
            c = cells.get(key)
            if c is None:
                cells[key] = [n if hit else 0, n]
            else:
                if hit:
                    c[0] += n
                c[1] += n

    def put(self, mid: str, ym: int, grain: str, unit: str, num: float, den: float) -> None:
        self.cells[(mid, ym, grain, unit)] = [num, den]


class AnswerKey:
    """Independent pass over the written rows producing kpi_expected.csv."""

    def __init__(self, start: date, end: date) -> None:
        self.start, self.end = start, end
        self.as_of = datetime.combine(end + DAY, time.min)
        self.measures = rulebook.load()
        self.vip = rulebook.vip_tiers()
        self.company = rulebook.company_unit()
        self.grains = {m.id: m.grains for m in self.measures.values()}
        self.tally = _Tally()
        self._day = start  # export day of the rows being fed
        self._fed_since_eod = False
        self._finished = False
        self._lim = {m.id: m.limits for m in self.measures.values()}
        self._wd_cache: dict[tuple[date, int], datetime] = {}
        self._h1_limit = self._lim["H1"]["all"].duration
        self._h1_short = self._lim["H1"]["short_abandon"].duration
        self._h1_by_tier = rulebook.h1_vip_caller() == "tier"  # D-116: the caller's tier, else the VIP queue
        self._p1_purposes = rulebook.p1_counted_purposes()  # D-118
        self._h2_limit = self._lim["H2.1"]["all"].duration
        self._min_retention = math.ceil(self._lim["C1"]["all"].duration / DAY) + REOPEN_GRACE_DAYS
        self._late_before = self._late_floor(start)
        self._handlers: dict[str, Callable[[dict], None]] = {
            "districts": self._district,
            "district_households": self._households,
            "technicians": self._technician,
            "customers": self._customer,
            "tickets": self._ticket,
            "ticket_pauses": self._pause,
            "calls": self._call,
            "surveys": self._survey,
            "callbacks": self._callback,
            "outbound": self._outbound,
            "hall_visits": self._hall_visit,
            "suspensions": self._suspension,
            "works": self._work,
            "work_notices": self._work_notice,
        }
        # reference data
        self.area_type: dict[str, str] = {}
        self.households: dict[tuple[str, int], int] = {}
        self._tech_snapshot: list[tuple[str, str, date, date | None]] = []
        self._tech_today: list[tuple[str, str, date, date | None]] = []
        self._red_vip: dict[str, str] = {}  # customer -> district (C6)
        self._vip_customers: dict[str, str] = {}  # C8
        self._project: dict[str, tuple[date, str]] = {}  # customer -> (delivery, district) (C7)
        # tickets
        self._tickets: dict[str, _Ticket] = {}
        self._new: list[_Ticket] = []
        self._touched: list[_Ticket] = []
        self._buckets: dict[date, list[_Ticket]] = defaultdict(list)
        self._pending_pauses: list[tuple[str, str, datetime, datetime, str]] = []
        self._watch: dict[str, int] = {}  # V5: customer -> live VIP fault tickets
        self._fault_opens: dict[str, dict[str, datetime]] = {}  # V5: customer -> fault ticket -> opened_at
        self._complaints: dict[tuple[int, str], int] = defaultdict(int)  # A2: (month, district)
        self._complaints_company: dict[int, int] = defaultdict(int)
        # judged ticket items: (measure, month, district, technician, met) -> count
        self._ticket_sigs: dict[tuple[str, int, str | None, str | None, bool], int] = {}
        self.late_versions = 0
        self.unmatched: dict[str, int] = defaultdict(int)
        # calls
        self._call_sigs: dict[tuple, int] = {}
        self._calls_today: dict[str, datetime] = {}  # T8: call id -> ended_at
        self._call_end_days: list[dict[str, datetime]] = [self._calls_today]
        self._h5: dict[tuple[int, str], bool] = {}
        self._r3_today: list[tuple[datetime, str, str, str | None]] = []
        self._r3_last: dict[tuple[str, str], list] = {}
        # callbacks, works, customer duties
        self._callbacks_today: list[dict] = []
        self._s3_today: list[tuple[str, int, bool]] = []
        self._works: dict[str, tuple[str, str | None, datetime, datetime]] = {}
        self._notices_today: list[dict] = []
        self._c5_items: dict[tuple[str, str], tuple[datetime, datetime, str | None]] = {}
        self._c3_faults: dict[int, dict[str, list]] = defaultdict(dict)  # month -> customer -> [count, district]
        self._c3_called: dict[int, set[str]] = defaultdict(set)
        self._c6_reached: set[str] = set()
        self._c7_months: dict[str, set[int]] = defaultdict(set)
        self._c8_cared: set[str] = set()
        self._p1_today: list[tuple[datetime, str, str]] = []
        self._p1_recent: dict[str, list[datetime]] = {}
        self._p1_month: dict[str, list] = {}  # customer -> [tier group, breached]
        self._p1_ym: int | None = None
        self._closed_months: set[int] = set()
        self._last_sweep = start

    # ------------------------------------------------------------------ interface
    def feed(self, entity: str, row: dict) -> None:
        """One written row, in write order."""
        if self._finished:
            raise RuntimeError("AnswerKey.feed after finish(): the key is already judged")
        self._fed_since_eod = True
        try:
            handler = self._handlers[entity]
        except KeyError:
            raise ValueError(
                f"AnswerKey.feed: unknown entity {entity!r}; expected one of "
                f"{sorted(self._handlers)} (kefu/contract.yml)"
            ) from None
        handler(row)

    def end_of_day(self, day: date) -> None:
        """All exports of business date `day` were fed: link, judge what is due, drop what is done."""
        day_end = datetime.combine(day + DAY, time.min)
        if self._tech_today:
            self._tech_snapshot, self._tech_today = self._tech_today, []
        self._link_new_tickets()
        self._attach_pauses()
        self._join_notices()
        self._apply_callbacks()
        for tid, ym, satisfied in self._s3_today:
            rec = self._tickets.get(tid)
            if rec is None:
                self.unmatched["surveys.ticket_id"] += 1
                continue
            if rec.surveys is None:
                rec.surveys = []
            rec.surveys.append((ym, satisfied))
        self._s3_today = []
        self._run_p1()
        self._run_r3()
        self._schedule_touched(day)
        self._retire_due(day, day_end)
        self._c5_breaches(day_end)
        self._calls_today = {}
        self._call_end_days.append(self._calls_today)
        if len(self._call_end_days) > CALL_MEMORY_DAYS:
            self._call_end_days.pop(0)
        if (day - self._last_sweep).days >= SWEEP_EVERY_DAYS:
            self._sweep(day_end)
            self._last_sweep = day
        if (day + DAY).day == 1:
            self._close_month(ym_of(day), complete=True)
        self._day = day + DAY
        self._late_before = self._late_floor(self._day)
        self._fed_since_eod = False

    def finish(self) -> list[dict]:
        """Judge what is left as of 24:00 of `end` and return the answer key rows (idempotent)."""
        if self._finished:
            return self.rows()
        self._finished = True
        if self._fed_since_eod:
            self.end_of_day(self._day)
        as_of = self.as_of
        for rec in list(self._tickets.values()):
            self._judge_ticket(rec, as_of, final=True)
        self._tickets.clear()
        for _key, (_end_at, deadline, district) in list(self._c5_items.items()):
            if deadline < as_of:
                self._c5_judge(False, deadline_ym(deadline), district)
        self._c5_items.clear()
        last_ym = ym_of(self.end)
        if last_ym not in self._closed_months:
            self._close_month(last_ym, complete=False)
        self._expand_tickets()
        self._expand_calls()
        self._emit_h5()
        self._emit_district_assessment()
        return self.rows()

    def rows(self) -> list[dict]:
        order = {m.id: i for i, m in enumerate(self.measures.values())}
        out = []
        for (mid, ym, grain, unit), (num, den) in self.tally.cells.items():
            if not den:
                continue
            out.append(
                {
                    "measure_id": mid,
                    "period_month": ym_text(ym),
                    "grain": grain,
                    "unit_id": unit,
                    "numerator": num,
                    "denominator": den,
                    "value": num / den,
                }
            )
        out.sort(key=lambda r: (order[r["measure_id"]], r["period_month"], GRAIN_ORDER[r["grain"]], r["unit_id"]))
        return out

    def write_csv(self, path: Path) -> int:
        rows = self.finish()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        cols = ["measure_id", "period_month", "grain", "unit_id", "numerator", "denominator", "value"]
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(cols)
            for r in rows:
                w.writerow(
                    [
                        r["measure_id"],
                        r["period_month"],
                        r["grain"],
                        r["unit_id"],
                        r["numerator"],
                        r["denominator"],
                        repr(r["value"]),
                    ]
                )
        return len(rows)

    def stats(self) -> dict[str, int]:
        """Sizes of the state held (to check that memory stays bounded)."""
        return {
            "live_tickets": len(self._tickets),
            "call_signatures": len(self._call_sigs),
            "recent_calls": sum(len(d) for d in self._call_end_days),
            "r3_keys": len(self._r3_last),
            "p1_customers": len(self._p1_recent),
            "vip_customers": len(self._vip_customers),
            "late_versions": self.late_versions,
        }

    # ------------------------------------------------------------------ helpers
    def _late_floor(self, day: date) -> datetime:
        """A ticket unknown on export day `day` and opened before this was judged and dropped already."""
        return datetime.combine(day - timedelta(days=self._min_retention), time.min)

    def _wd_deadline(self, start: datetime, n: int) -> datetime:
        key = (start.date(), n)
        dl = self._wd_cache.get(key)
        if dl is None:
            dl = self._wd_cache[key] = workcal.end_of_nth_working_day(start, n)
        return dl

    def _deadline(self, limit: rulebook.Limit, start: datetime) -> datetime:
        if limit.duration is not None:
            return start + limit.duration
        if limit.working_days is not None:
            return self._wd_deadline(start, limit.working_days)
        if limit.raw == "same_day":
            return midnight_after(start)
        raise ValueError(f"limit {limit.raw!r} is not a per-item deadline")

    # ------------------------------------------------------------------ reference data
    def _district(self, row: dict) -> None:
        self.area_type[row["district_id"]] = row.get("area_type")

    def _households(self, row: dict) -> None:
        month = row["month"]
        ym = int(month[:4]) * 100 + int(month[5:7]) if isinstance(month, str) else ym_of(month)
        self.households[(row["district_id"], ym)] = int(row["households"])

    def _technician(self, row: dict) -> None:
        self._tech_today.append((row["technician_id"], row["district_id"], row["valid_from"], row.get("valid_to")))

    def _customer(self, row: dict) -> None:
        cid, tier, district = row["customer_id"], row["tier"], row["district_id"]
        if tier == "red_vip":
            self._red_vip[cid] = district
        elif cid in self._red_vip:
            del self._red_vip[cid]
        if tier in self.vip:
            self._vip_customers[cid] = district
        elif cid in self._vip_customers:
            del self._vip_customers[cid]
        delivery = row.get("project_delivery_date")
        if row.get("is_project") and delivery is not None:
            self._project[cid] = (delivery, district)
        elif cid in self._project:
            del self._project[cid]

    # ------------------------------------------------------------------ tickets
    def _ticket(self, row: dict) -> None:
        try:
            v = _ticket_getter(row)
        except KeyError:
            v = tuple(row.get(f) for f in TICKET_FIELDS)
        rec = self._tickets.get(v[T_ID])
        if rec is None:
            if v[T_OPENED] < self._late_before:
                # no ticket is dropped sooner than this after opening: this one was judged and dropped already
                self.late_versions += 1
                return
            rec = _Ticket(v)
            self._tickets[v[T_ID]] = rec
            self._new.append(rec)
            self._touched.append(rec)
        elif v[T_UPDATED] >= rec.v[T_UPDATED]:  # D-08: newest updated_at wins, ties: the later export
            rec.v = v
            self._touched.append(rec)

    def _pause(self, row: dict) -> None:
        self._pending_pauses.append(
            (row["ticket_id"], row["pause_id"], row["paused_at"], row["resumed_at"], row["reason"])
        )

    def _attach_pauses(self) -> None:
        for tid, pid, a, b, reason in self._pending_pauses:
            rec = self._tickets.get(tid)
            if rec is None:
                self.unmatched["ticket_pauses.ticket_id"] += 1
                continue
            if rec.pauses is None:
                rec.pauses = {}
            rec.pauses[pid] = (a, b, reason)
        self._pending_pauses = []

    def _link_new_tickets(self) -> None:
        vip = self.vip
        for rec in self._new:
            v = rec.v
            tid, ttype, cid = v[T_ID], v[T_TYPE], v[T_CUSTOMER]
            if v[T_SOURCE_CALL] is not None:
                for d in reversed(self._call_end_days):
                    end = d.get(v[T_SOURCE_CALL])
                    if end is not None:
                        rec.call_end = end
                        break
                else:
                    self.unmatched["tickets.source_call_id"] += 1
            if ttype == "fault":
                if v[T_TIER] in vip:
                    self._watch[cid] = self._watch.get(cid, 0) + 1
                    rec.watched = True
                    month = self._c3_faults[ym_of(v[T_OPENED])]
                    c = month.get(cid)
                    if c is None:
                        month[cid] = [1, v[T_DISTRICT]]
                    else:
                        c[0] += 1
                        c[1] = v[T_DISTRICT]
                if cid in self._watch:
                    self._fault_opens.setdefault(cid, {})[tid] = v[T_OPENED]
            elif ttype == "complaint" and v[T_RELATED] is not None:
                target = self._tickets.get(v[T_RELATED])
                if target is not None:
                    if target.complaints is None:
                        target.complaints = {}
                    target.complaints[tid] = v[T_OPENED]
        self._new = []

    def _retention_days(self, v: tuple) -> int:
        lim = self._lim
        window = lim["C1"]["all"].duration
        if v[T_TIER] in self.vip and v[T_TYPE] in ("fault", "new_install"):
            window = max(window, lim["V5"]["all"].duration, lim["V6"]["all"].duration)
        return math.ceil(window / DAY) + REOPEN_GRACE_DAYS

    def _schedule_touched(self, today: date) -> None:
        for rec in self._touched:
            resolved = rec.v[T_RESOLVED]
            if resolved is None:
                rec.check_day = None
                continue
            day = max(today, resolved.date() + timedelta(days=self._retention_days(rec.v)))
            if day != rec.check_day:
                rec.check_day = day
                self._buckets[day].append(rec)
        self._touched = []

    def _retire_due(self, day: date, day_end: datetime) -> None:
        due = self._buckets.pop(day, None)
        if not due:
            return
        for rec in due:
            if rec.check_day != day or self._tickets.get(rec.v[T_ID]) is not rec:
                continue  # rescheduled by a newer version, or gone
            if self._judge_ticket(rec, day_end, final=False):
                del self._tickets[rec.v[T_ID]]
            else:
                rec.check_day = day + DAY
                self._buckets[rec.check_day].append(rec)

    def _judge_ticket(self, rec: _Ticket, as_of: datetime, final: bool) -> bool:
        """Judge every measure of one ticket. Not final: only when nothing is pending (then True)."""
        results = self._ticket_results(rec, as_of)
        if not final and any(met is None for _, met, _ in results):
            return False
        v = rec.v
        district, tech = v[T_DISTRICT], v[T_TECH]
        sigs = self._ticket_sigs
        for mid, met, ym in results:
            if met is not None:
                sig = (mid, ym, district, tech, met)
                sigs[sig] = sigs.get(sig, 0) + 1
        if v[T_TYPE] == "complaint" and v[T_VALIDITY] != "invalid":
            # A2 (D-119): valid complaints; undecided, or no validity column in the export: it counts
            ym = ym_of(v[T_OPENED])
            self._complaints_company[ym] += 1
            if v[T_DISTRICT] is not None:
                self._complaints[(ym, v[T_DISTRICT])] += 1
        if rec.surveys and v[T_TYPE] in ("new_install", "fault"):
            for ym, satisfied in rec.surveys:
                sig = ("S3", ym, district, tech, satisfied)
                sigs[sig] = sigs.get(sig, 0) + 1
        if rec.watched:
            cid = v[T_CUSTOMER]
            left = self._watch.get(cid, 1) - 1
            if left <= 0:
                self._watch.pop(cid, None)
                self._fault_opens.pop(cid, None)
            else:
                self._watch[cid] = left
        return True

    def _expand_tickets(self) -> None:
        add, grains, company = self.tally.add, self.grains, self.company
        for (mid, ym, district, tech, met), n in self._ticket_sigs.items():
            add(mid, ym, grains[mid], {"company": company, "district": district, "technician": tech}, met, n)
        self._ticket_sigs = {}

    def _clock_pauses(self, rec: _Ticket) -> list[tuple[datetime, datetime]]:
        if not rec.pauses:
            return []
        return merge_intervals((a, b) for a, b, _ in rec.pauses.values())

    def _ticket_results(self, rec: _Ticket, as_of: datetime) -> list[tuple[str, bool | None, int]]:
        """(measure, met or None when pending, month) for every measure that applies to the ticket."""
        v, lim, vip = rec.v, self._lim, self.vip
        out: list[tuple[str, bool | None, int]] = []
        ttype, opened, resolved = v[T_TYPE], v[T_OPENED], v[T_RESOLVED]
        is_vip = v[T_TIER] in vip
        start = v[T_FORMALITIES] or opened

        def clocked(mid: str, limit: rulebook.Limit, clock_start: datetime) -> None:
            # D-05: every pause (customer_unreachable included) stops the clock when it starts within the
            # limit as extended so far; it makes nothing met by itself. A working-day deadline moves by the
            # paused calendar time (D-115); a breach is judged at the extended deadline (D-114).
            pauses = self._clock_pauses(rec)
            deadline = extend_by_pauses(clock_start, self._deadline(limit, clock_start), pauses)
            out.append((mid, *outcome(resolved, deadline, as_of)))

        # T9 / A3: every ticket, no pauses (D-10)
        met, ym = outcome(v[T_FIRST_REPLY], opened + lim["T9"]["all"].duration, as_of)
        out.append(("T9", met, ym))
        out.append(("A3", met, ym))
        # T8: opened from a call
        if rec.call_end is not None:
            out.append(("T8", *outcome(opened, rec.call_end + lim["T8"]["all"].duration, as_of)))
        if ttype == "fault":
            key = v[T_SEVERITY]
            if v[T_PRODUCT] == "hd_interactive":
                if key in lim["T1"]:
                    clocked("T1", lim["T1"][key], start)
            elif key in lim["T2"]:
                clocked("T2", lim["T2"][key], start)
        elif ttype == "new_install":
            if v[T_AREA] in lim["T3"]:
                clocked("T3", lim["T3"][v[T_AREA]], start)
        elif ttype == "line_survey":
            clocked("T5", lim["T5"]["all"], opened)
        elif ttype == "restoration":
            if v[T_RESTORATION] in lim["T6"]:
                clocked("T6", lim["T6"][v[T_RESTORATION]], start)
        elif ttype == "complaint":
            parts = [
                (v[T_FIRST_REPLY], opened + lim["T7"]["initial_reply"].duration),
                (resolved, self._deadline(lim["T7"]["answer"], opened)),
            ]
            if is_vip:
                key = "vip_close_exception" if v[T_EXPLANATION] else "vip_close"
                parts.append((resolved, self._deadline(lim["T7"][key], opened)))
            out.append(("T7", *combine_parts(parts, as_of)))
        elif ttype == "consultation":
            if is_vip and v[T_ON_SPOT] is False:
                out.append(("C9", *outcome(resolved, opened + lim["C9"]["all"].duration, as_of)))
        elif ttype == "vip_application":
            out.append(("V7", *combine_parts(self._v7_parts(v), as_of)))
        if ttype in ("new_install", "move") and v[T_NEEDS_SURVEY] is False and v[T_KIND] == "individual":
            clocked("T4", lim["T4"]["all"], start)

        # callbacks after the job (C1, C2)
        if resolved is not None and ttype in ("new_install", "fault", "complaint"):
            first_cb = min((t for t in rec.callbacks or () if t >= resolved), default=None)
            out.append(("C1", *outcome(first_cb, resolved + lim["C1"]["all"].duration, as_of)))
            if is_vip and ttype in lim["C2"]:
                out.append(("C2", *outcome(first_cb, self._deadline(lim["C2"][ttype], resolved), as_of)))
        # VIP field service
        if is_vip:
            if ttype == "fault" and v[T_SEVERITY] == "emergency":
                out.append(("V1", *outcome(v[T_ARRIVED], opened + lim["V1"]["all"].duration, as_of)))
            if ttype == "fault" and v[T_ARRIVED] is not None:
                key = "exception" if v[T_EXPLANATION] else "normal"
                out.append(("V2", *outcome(resolved, v[T_ARRIVED] + lim["V2"][key].duration, as_of)))
            if v[T_APPOINTMENT] is not None:
                out.append(("V3", *outcome(v[T_ARRIVED], v[T_APPOINTMENT] + lim["V3"]["all"].duration, as_of)))
            if resolved is not None and ttype in ("new_install", "fault"):
                fb = v[T_FEEDBACK]
                if fb is not None and fb.date() < resolved.date():
                    fb = NEVER  # feedback given before the day the job was finished is not same-day feedback
                out.append(("V4", *outcome(fb, midnight_after(resolved), as_of)))
                if ttype == "fault":
                    opens = self._fault_opens.get(v[T_CUSTOMER], {})
                    out.append(
                        (
                            "V5",
                            *self._window_free(
                                resolved,
                                lim["V5"]["all"].duration,
                                as_of,
                                (o for t, o in opens.items() if t != v[T_ID]),
                            ),
                        )
                    )
                out.append(
                    (
                        "V6",
                        *self._window_free(resolved, lim["V6"]["all"].duration, as_of, (rec.complaints or {}).values()),
                    )
                )
        return out

    @staticmethod
    def _window_free(
        resolved: datetime, window: timedelta, as_of: datetime, events: Iterable[datetime]
    ) -> tuple[bool | None, int]:
        """V5/V6: breached at the first event within (resolved, resolved + window]; met at the window's end."""
        end = resolved + window
        first = min((e for e in events if resolved < e <= end), default=None)
        if first is not None:
            return False, ym_of(first)
        if end < as_of:
            return True, deadline_ym(end)
        return None, 0

    def _v7_parts(self, v: tuple) -> list[tuple[datetime | None, datetime | None]]:
        lim = self._lim["V7"]
        opened, entered = v[T_OPENED], v[T_ENTERED]
        entry_done = entered if entered is None or v[T_ACCURATE] is True else NEVER
        parts: list[tuple[datetime | None, datetime | None]] = [(entry_done, self._deadline(lim["entry"], opened))]
        parts.append((v[T_DISPATCHED], None if entered is None else self._deadline(lim["dispatch"], entered)))
        if v[T_CHANNEL] == "leadership":
            parts.append((v[T_APPROVAL_SUBMITTED], self._deadline(lim["approval_submitted"], opened)))
            parts.append((v[T_APPROVAL_DONE], self._deadline(lim["approval_done"], opened)))
        elif v[T_CHANNEL] == "email":
            parts.append((v[T_FIRST_REPLY], self._deadline(lim["email_reply"], opened)))
        return parts

    # ------------------------------------------------------------------ calls (hot path)
    def _call(self, r: dict) -> None:
        arrived = r["arrived_at"]
        queued = r["queued_at"] or arrived
        answered = r["answered_at"]
        queue = r["queue"]
        district = r["district_id"]
        self._calls_today[r["call_id"]] = r["ended_at"]
        h1 = 0
        if r["human_requested"]:
            if (r["customer_tier"] in self.vip) if self._h1_by_tier else (queue == "vip"):
                if answered is not None and answered - queued <= self._h1_limit:
                    h1 = 2
                elif answered is None and r["abandoned"] and r["ended_at"] - queued < self._h1_short:
                    h1 = 0  # short abandon (D-20), excluded
                else:
                    h1 = 1
            if r["call_type"] == "fault":
                key = (queued.toordinal() * 24 + queued.hour, queue)
                if answered is not None:
                    self._h5[key] = True
                elif key not in self._h5:
                    self._h5[key] = False
        ttype = r["transfer_type"]
        if ttype is None or ttype == "none":
            ttype, t20, tout, unrequested = "none", None, None, False
        else:
            tq, ta = r["transfer_queued_at"], r["transfer_answered_at"]
            t20 = tq is not None and ta is not None and ta - tq <= self._h2_limit
            tout = r["transfer_outcome"]
            unrequested = not r["transfer_requested"]
        am = arrived.year * 100 + arrived.month
        qm = queued.year * 100 + queued.month
        sig = (am, qm, queue, district, h1, ttype, t20, tout, answered is not None, unrequested)
        sigs = self._call_sigs
        sigs[sig] = sigs.get(sig, 0) + 1
        cid = r["customer_id"]
        if cid is not None:
            self._r3_today.append((arrived, cid, r["call_type"], district))

    def _expand_calls(self) -> None:
        add, grains, company = self.tally.add, self.grains, self.company
        for (am, qm, queue, district, h1, ttype, t20, tout, answered, unreq), n in self._call_sigs.items():
            units = {"company": company, "district": district, "queue": queue}
            if h1:
                add("H1", qm, grains["H1"], units, h1 == 2, n)
            if ttype == "expert":
                add("H2.1", am, grains["H2.1"], units, t20, n)
                add("H2.2", am, grains["H2.2"], units, tout == "misrouted", n)
            elif ttype == "self_service":
                add("H3.1", am, grains["H3.1"], units, tout == "success", n)
                add("H3.2", am, grains["H3.2"], units, tout == "misrouted", n)
            if answered:
                add("H3.3", am, grains["H3.3"], units, ttype == "self_service", n)
                if queue == "vip":
                    add("H4", am, grains["H4"], units, unreq, n)

    def _emit_h5(self) -> None:
        per_hour: dict[int, bool] = {}
        add, grains, company = self.tally.add, self.grains, self.company
        for (hour, queue), any_answered in self._h5.items():
            ym = ym_of(date.fromordinal(hour // 24))
            add("H5", ym, ("queue",), {"queue": queue}, not any_answered)
            per_hour[hour] = per_hour.get(hour, False) or any_answered
        if "company" in grains["H5"]:
            for hour, any_answered in per_hour.items():
                add("H5", ym_of(date.fromordinal(hour // 24)), ("company",), {"company": company}, not any_answered)

    def _run_r3(self) -> None:
        """R3 (D-53): a call is a repeat when the same customer called with the same call_type
        at an earlier time no more than 168 h before it."""
        if not self._r3_today:
            return
        window = self._lim["R3"]["window"].duration
        last = self._r3_last
        add, grains, company = self.tally.add, self.grains["R3"], self.company
        counts: dict[tuple[int, str | None, bool], int] = defaultdict(int)
        self._r3_today.sort(key=itemgetter(0))
        for t, cid, ctype, district in self._r3_today:
            key = (cid, ctype)
            slot = last.get(key)
            if slot is None:
                last[key] = [t, None]
                ref = None
            elif t == slot[0]:
                ref = slot[1]
            else:
                ref = slot[0]
                slot[1], slot[0] = slot[0], t
            counts[(ym_of(t), district, ref is not None and t - ref <= window)] += 1
        self._r3_today = []
        for (ym, district, repeat), n in counts.items():
            add("R3", ym, grains, {"company": company, "district": district}, repeat, n)

    # ------------------------------------------------------------------ other events
    def _survey(self, r: dict) -> None:
        answer = r["answer"]
        if answer in NOT_VALID:
            return
        satisfied = answer in SATISFIED
        ym = ym_of(r["surveyed_at"])
        if r["channel"] == "hotline":
            tier = r["customer_tier"]
            group = rulebook.brand_group(tier)
            self.tally.add("S1", ym, self.grains["S1"], {"brand_group": group}, satisfied)
        elif r["channel"] == "ticket":
            units = {"company": self.company, "district": r["district_id"]}
            self.tally.add("S2", ym, self.grains["S2"], units, satisfied)
            self.tally.add("A4", ym, self.grains["A4"], units, satisfied)
            if r["customer_tier"] in self.vip and r.get("ticket_id") is not None:
                self._s3_today.append((r["ticket_id"], ym, satisfied))

    def _hall_visit(self, r: dict) -> None:
        taken, tier = r["ticket_taken_at"], r["customer_tier"]
        units = {"company": self.company, "hall": r["hall_id"]}
        ym = ym_of(taken)
        key = "vip" if tier in self.vip else ("gotone" if tier == "gotone" else "other")
        served = r["served_at"]
        # D-45: a visitor who left unserved is a breach (the export does not say when they left)
        ok = served is not None and served - taken <= self._lim["B1"][key].duration
        self.tally.add("B1", ym, self.grains["B1"], units, ok)
        if r["vip_card_shown"]:
            received = r["received_at"]
            ok = received is not None and received - taken <= self._lim["B2"]["all"].duration
            self.tally.add("B2", ym, self.grains["B2"], units, ok)

    def _suspension(self, r: dict) -> None:
        suspended, notice = r["suspended_at"], r["notice_at"]
        ok = notice is not None and suspended - notice >= self._lim["N1"]["all"].duration
        self.tally.add(
            "N1", ym_of(suspended), self.grains["N1"], {"company": self.company, "district": r["district_id"]}, ok
        )

    def _work(self, r: dict) -> None:
        self._works[r["work_id"]] = (r["work_kind"], r["district_id"], r["start_at"], r["end_at"])

    def _work_notice(self, r: dict) -> None:
        self._notices_today.append(r)

    def _join_notices(self) -> None:
        n2 = self._lim["N2"]["all"].duration
        c5 = self._lim["C5"]["all"]
        for r in self._notices_today:
            w = self._works.get(r["work_id"])
            if w is None:
                self.unmatched["work_notices.work_id"] += 1
                continue
            kind, district, start_at, end_at = w
            notified = r["notified_at"]
            ok = notified is not None and start_at - notified >= n2
            self.tally.add(
                "N2", ym_of(start_at), self.grains["N2"], {"company": self.company, "district": district}, ok
            )
            if kind == "cutover":
                deadline = self._deadline(c5, end_at)
                self._c5_items[(r["work_id"], r["customer_id"])] = (end_at, deadline, district)
        self._notices_today = []

    def _c5_judge(self, met: bool, ym: int, district: str | None) -> None:
        self.tally.add("C5", ym, self.grains["C5"], {"company": self.company, "district": district}, met)

    def _c5_breaches(self, day_end: datetime) -> None:
        for key, (_end_at, deadline, district) in list(self._c5_items.items()):
            if deadline < day_end:
                self._c5_judge(False, deadline_ym(deadline), district)
                del self._c5_items[key]

    def _callback(self, r: dict) -> None:
        self._callbacks_today.append(r)

    def _apply_callbacks(self) -> None:
        add, grains, company = self.tally.add, self.grains, self.company
        for r in self._callbacks_today:
            at, outcome_, reason, cid = r["callback_at"], r["outcome"], r["reason"], r["customer_id"]
            if outcome_ == "problem_found":  # C4: handled (and repair dispatched) the same day
                done = [r["problem_handled_at"]] + ([r["repair_dispatched_at"]] if r["repair_needed"] else [])
                ok = all(t is not None and t.date() == at.date() for t in done)
                add("C4", ym_of(at), grains["C4"], {"company": company, "district": r["district_id"]}, ok)
            if outcome_ not in REACHED:
                continue
            tid = r["ticket_id"]
            if tid is not None:
                rec = self._tickets.get(tid)
                if rec is not None:
                    if rec.callbacks is None:
                        rec.callbacks = []
                    rec.callbacks.append(at)
            if reason == "repeat_fault":
                if at.date() > month_last_day(ym_of(at)) - timedelta(weeks=1):  # the last 7 calendar days
                    self._c3_called[ym_of(at)].add(cid)
            elif reason == "cutover":
                item = self._c5_items.get((r["work_id"], cid))
                if item is not None and item[0] <= at <= item[1]:
                    self._c5_judge(True, ym_of(at), item[2])
                    del self._c5_items[(r["work_id"], cid)]
            elif reason == "red_vip_sms":
                if r["channel"] == "sms":
                    self._c6_reached.add(cid)
            elif reason == "project":
                self._c7_months[cid].add(ym_of(at))
        self._callbacks_today = []

    def _outbound(self, r: dict) -> None:
        if r["purpose"] == "care":
            self._c8_cared.add(r["customer_id"])
        if r["channel"] == "phone" and r["purpose"] in self._p1_purposes:
            self._p1_today.append((r["contacted_at"], r["customer_id"], r["customer_tier"]))

    def _run_p1(self) -> None:
        """P1 (D-44): the (limit+1)-th counted phone call within 720 h ending at a call breaches; the
        limit is that of the customer's group of the month, the group of their first counted call in it."""
        if not self._p1_today:
            return
        lim = self._lim["P1"]
        window = lim["window"].duration
        limits = {"vip": lim["vip"].count, "ordinary": lim["ordinary"].count}
        self._p1_today.sort(key=itemgetter(0))
        recent, month = self._p1_recent, self._p1_month
        for t, cid, tier in self._p1_today:
            ym = ym_of(t)
            if self._p1_ym is not None and ym != self._p1_ym:
                self._flush_p1()
            self._p1_ym = ym
            group = "vip" if tier in self.vip else "ordinary"
            calls = recent.get(cid)
            if calls is None:
                calls = recent[cid] = []
            floor = t - window
            while calls and calls[0] < floor:
                calls.pop(0)
            calls.append(t)
            state = month.get(cid)
            if state is None:
                state = month[cid] = [group, False]
            if len(calls) > limits[state[0]]:
                state[1] = True
        self._p1_today = []

    def _flush_p1(self) -> None:
        if self._p1_ym is None:
            return
        add, grains, company = self.tally.add, self.grains["P1"], self.company
        counts: dict[tuple[str, bool], int] = defaultdict(int)
        for group, breached in self._p1_month.values():
            counts[(group, breached)] += 1
        for (group, breached), n in counts.items():
            add("P1", self._p1_ym, grains, {"company": company, "tier_group": group}, not breached, n)
        self._p1_month = {}
        self._p1_ym = None

    def _sweep(self, day_end: datetime) -> None:
        floor = day_end - self._lim["P1"]["window"].duration
        self._p1_recent = {c: ts for c, ts in self._p1_recent.items() if ts[-1] >= floor}
        floor = day_end - self._lim["R3"]["window"].duration
        self._r3_last = {k: s for k, s in self._r3_last.items() if s[0] >= floor}

    # ------------------------------------------------------------------ month ends
    def _close_month(self, ym: int, complete: bool) -> None:
        """Monthly and quarterly duties. Incomplete (last, partial) month: only C6 (year to date) and P1."""
        self._closed_months.add(ym)
        add, grains, company = self.tally.add, self.grains, self.company
        self._flush_p1()
        # C6: red VIPs reached by SMS this year so far
        reached = self._c6_reached
        for cid, district in self._red_vip.items():
            add("C6", ym, grains["C6"], {"company": company, "district": district}, cid in reached)
        if ym % 100 == 12:
            self._c6_reached = set()
        if not complete:
            return
        # C3 (D-41)
        this, prev = self._c3_faults.get(ym, {}), self._c3_faults.get(prev_ym(ym), {})
        called = self._c3_called.get(ym, set())
        for cid, (count, district) in this.items():
            if count >= 2 or cid in prev:
                add("C3", ym, grains["C3"], {"company": company, "district": district}, cid in called)
        for old in [m for m in self._c3_faults if m < ym]:
            del self._c3_faults[old]
        for old in [m for m in self._c3_called if m <= ym]:
            del self._c3_called[old]
        # C7 (D-43): monthly in the first year after delivery, quarterly after
        month_start = date(ym // 100, ym % 100, 1)
        quarter_end = ym % 100 % 3 == 0
        quarter = {ym, prev_ym(ym), prev_ym(prev_ym(ym))}
        for cid, (delivery, district) in self._project.items():
            if delivery >= month_start:
                continue
            months = self._c7_months.get(cid, ())
            if month_start < add_years(delivery, 1):
                met = ym in months
            elif quarter_end:
                met = any(m in quarter for m in months)
            else:
                continue
            add("C7", ym, grains["C7"], {"company": company, "district": district}, met)
        if quarter_end:
            for cid in list(self._c7_months):
                self._c7_months[cid] = {m for m in self._c7_months[cid] if m > ym}
            # C8: every VIP customer at the quarter's last month
            cared = self._c8_cared
            for cid, district in self._vip_customers.items():
                add("C8", ym, grains["C8"], {"company": company, "district": district}, cid in cared)
            self._c8_cared = set()

    # ------------------------------------------------------------------ district assessment (A1, A2, A6)
    def _technicians_on(self, day: date) -> dict[str, int]:
        per: dict[str, set[str]] = defaultdict(set)
        for tech, district, valid_from, valid_to in self._tech_snapshot:
            if valid_from <= day and (valid_to is None or valid_to >= day):
                per[district].add(tech)
        return {d: len(t) for d, t in per.items()}

    def _emit_district_assessment(self) -> None:
        put, company = self.tally.put, self.company
        by_month: dict[int, dict[str, int]] = defaultdict(dict)
        for (district, ym), hh in self.households.items():
            by_month[ym][district] = hh
        for ym, districts in sorted(by_month.items()):
            techs = self._technicians_on(month_last_day(ym))
            if "company" in self.grains["A2"]:
                put("A2", ym, "company", company, self._complaints_company.get(ym, 0), sum(districts.values()))
            prev = by_month.get(prev_ym(ym))
            if prev and "company" in self.grains["A6"]:
                put("A6", ym, "company", company, sum(districts.values()), sum(prev.values()))
            for district, hh in districts.items():
                if techs.get(district):
                    put("A1", ym, "district", district, hh, techs[district])
                put("A2", ym, "district", district, self._complaints.get((ym, district), 0), hh)
                if prev and prev.get(district):
                    put("A6", ym, "district", district, hh, prev[district])

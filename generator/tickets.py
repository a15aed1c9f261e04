"""The ticket world: every ticket's lifecycle, its pauses, callbacks and surveys.

A ticket is planned completely on the day it opens (all milestones, pauses,
callbacks, surveys, follow-up tickets) and then exported, version by version,
on every business date one of its milestones becomes known (export-day
semantics in the shared interface). Only tickets with a future export are
kept, so memory is bounded by the longest ticket lifetime, not the period.

Violations are planted per rulebook measure: an item that a measure judges
breaches it with probability ``preset.violation_rates[measure] × district
quality × technician quality`` (technician quality only for measures judged
at the technician grain). Every time limit is read from kefu/rulebook.yml.
"""

from __future__ import annotations

import calendar
import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np

from generator.population import TIERS, Population
from generator.presets import Preset
from kefu import rulebook, workcal

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
FIELD_TYPES = ("fault", "new_install", "move", "line_survey", "restoration")
OTHER_PRODUCTS = ("digital_tv", "broadband", "mobile")
# opening-hour profiles (24 weights): faults all day with evening peak; office work in business hours
_FAULT_HOURS = np.array([2, 1, 1, 1, 1, 1, 2, 4, 7, 9, 9, 8, 6, 7, 8, 8, 8, 8, 9, 11, 12, 10, 7, 4], float)
_OFFICE_HOURS = np.array([0, 0, 0, 0, 0, 0, 0, 0.5, 5, 10, 10, 9, 5, 8, 10, 10, 9, 7, 3, 2, 1, 0.5, 0, 0], float)
TS_FIELDS = (
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


def _minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)


def _eod(d: date) -> datetime:
    """24:00 of date d (the export's as-of time)."""
    return datetime.combine(d + DAY, time.min)


@dataclass
class Ticket:
    ticket_id: str
    base: dict[str, Any]  # columns that never change (type, customer, district, flags …)
    t: dict[str, datetime | None]  # final milestone times (TS_FIELDS)
    known: dict[str, datetime] = field(default_factory=dict)  # when a field became known, if not its own time
    reopen_at: datetime | None = None
    first_cycle: dict[str, datetime | None] = field(default_factory=dict)  # resolved/feedback/closed before reopen

    def change_times(self) -> list[datetime]:
        out = [self.known.get(k, v) for k, v in self.t.items() if v is not None]
        if self.reopen_at is not None:
            out.append(self.reopen_at)
            out += [v for v in self.first_cycle.values() if v is not None]
        return out

    def row_at(self, asof: datetime) -> dict[str, Any]:
        row = dict(self.base)
        row["ticket_id"] = self.ticket_id
        seen: list[datetime] = []
        for k, v in self.t.items():
            kt = self.known.get(k, v)
            row[k] = v if v is not None and kt <= asof else None
            if row[k] is not None:
                seen.append(kt)
        reopened = self.reopen_at is not None and self.reopen_at <= asof
        if self.reopen_at is not None and not reopened:
            for k, v in self.first_cycle.items():
                row[k] = v if v is not None and v <= asof else None
                if row[k] is not None:
                    seen.append(v)
        elif reopened:
            seen.append(self.reopen_at)
        row["reopen_count"] = 1 if reopened else 0
        if reopened and row["resolved_at"] is None:
            row["status"] = "reopened"
        elif row["closed_at"] is not None:
            row["status"] = "closed"
        elif row["resolved_at"] is not None:
            row["status"] = "resolved"
        else:
            row["status"] = "open"
        row["updated_at"] = max(seen)
        return row


class TicketSimulator:
    """Tickets, ticket pauses, ticket-driven callbacks and ticket surveys, day by day."""

    def __init__(self, population: Population, preset: Preset, rng: np.random.Generator, start: date, end: date):
        self.pop, self.p, self.rng, self.start, self.end = population, preset, rng, start, end
        self.rb = rulebook.load()
        self.vip = rulebook.vip_tiers()
        self.asof_end = _eod(end)
        n_d = len(population.districts)
        self.area = [d["area_type"] for d in population.districts]
        self.fault_mult = rng.uniform(*preset.district_fault_spread, n_d)
        self.clean = population.district_quality == 0
        vip_codes = np.array([TIERS.index(t) for t in self.vip])
        self.vip_codes = {int(c) for c in vip_codes}
        # pending output, keyed by business date
        self.ticket_out: dict[date, list[Ticket]] = defaultdict(list)
        self.rows_out: dict[date, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        self.followups: list[tuple[datetime, int, dict]] = []  # heap of tickets to open later
        self._fseq = 0
        self.seq: dict[str, int] = defaultdict(int)
        # C3: VIP fault openings per customer and month; customers already handled this month
        self.vip_faults: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.c3_done: set[tuple[int, str]] = set()
        self.techs_cache: dict[tuple[date, str], list[str]] = {}
        self.vip_share = [len(population.vips_in(d)) / max(1, len(population.customers_in(d))) for d in range(n_d)]

    # ------------------------------------------------------------------ helpers
    def _id(self, prefix: str, d: date) -> str:
        key = f"{prefix}{d:%Y%m%d}"
        self.seq[key] += 1
        return f"{key}{self.seq[key]:06d}"

    def _u(self, a: float, b: float) -> float:
        return float(self.rng.uniform(a, b))

    def _minutes(self, a: float, b: float) -> timedelta:
        return timedelta(minutes=int(self.rng.integers(int(a), int(b) + 1)))

    def _flag(self, measure: str, d: int, tech: str | None = None) -> bool:
        q = float(self.pop.district_quality[d])
        if q == 0.0:
            return False
        if tech is not None and "technician" in self.rb[measure].grains:
            q *= self.pop.technician_quality.get(tech, 1.0)
        return bool(self.rng.random() < min(0.95, self.p.violation_rates[measure] * q))

    def _edge(self) -> bool:
        return bool(self.rng.random() < self.p.exact_limit_share)

    def _tech(self, day: date, district_id: str) -> str | None:
        key = (day, district_id)
        if key not in self.techs_cache:
            if len(self.techs_cache) > 20_000:
                self.techs_cache.clear()
            self.techs_cache[key] = self.pop.technicians_on(day, district_id)
        techs = self.techs_cache[key]
        return techs[int(self.rng.integers(len(techs)))] if techs else None

    def _limit(self, measure: str, key: str = "all"):
        return self.rb[measure].limit(key)

    def _emit(self, entity: str, d: date, row: dict) -> None:
        if self.start <= d <= self.end:
            self.rows_out[d][entity].append(row)

    # ------------------------------------------------------------------ volumes
    def _season(self, day: date, ttype: str) -> float:
        work = workcal.is_workday(day)
        if ttype == "fault":
            return 1.0 if work else 1.15
        if ttype in ("consultation", "complaint"):
            return 1.0 if work else 0.75
        return 1.0 if work else 0.3

    def _open_time(self, day: date, ttype: str) -> datetime:
        w = _FAULT_HOURS if ttype in ("fault", "complaint") else _OFFICE_HOURS
        h = int(self.rng.choice(24, p=w / w.sum()))
        return datetime.combine(day, time(h, int(self.rng.integers(60))))

    def _customer(self, d: int, day: date, vip_share: float) -> int:
        pool = (
            self.pop.vips_in(d)
            if (len(self.pop.vips_in(d)) and self.rng.random() < vip_share)
            else self.pop.customers_in(d)
        )
        lim = np.datetime64(day)
        for _ in range(20):
            i = int(pool[self.rng.integers(len(pool))])
            if self.pop.opened[i] <= lim:
                return i
        return int(self.pop.customers_in(d)[0])

    # ------------------------------------------------------------------ the day
    def day(self, day: date) -> dict[str, list[dict]]:
        month = f"{day:%Y-%m}"
        days_in = calendar.monthrange(day.year, day.month)[1]
        types = list(self.p.ticket_rates)
        hh = np.array([self.pop.households(r["district_id"], month) for r in self.pop.districts], dtype=float)
        lam = np.outer(hh / days_in, [self.p.ticket_rates[k] * self._season(day, k) for k in types])
        lam[:, types.index("fault")] *= self.fault_mult
        lam[:, types.index("complaint")] *= np.where(self.clean, self.p.complaint_clean_factor, 1.0)
        counts = self.rng.poisson(lam)
        m = self.p.vip_ticket_multiplier
        for d in np.flatnonzero(counts.sum(axis=1)):
            d = int(d)
            share = self.vip_share[d]
            vip_share = share * m / (share * m + 1 - share)
            for j, ttype in enumerate(types):
                for _ in range(int(counts[d, j])):
                    opened = self._open_time(day, ttype)
                    if ttype == "vip_application":
                        cust = self._customer(d, day, 0.0)
                    else:
                        cust = self._customer(d, day, vip_share)
                    self._open(ttype, cust, d, opened, {})
        while self.followups and self.followups[0][0].date() <= day:
            opened, _, spec = heapq.heappop(self.followups)
            if opened.date() == day:
                self._open(spec.pop("ticket_type"), spec.pop("cust"), spec.pop("d"), opened, spec)
        self._c3(day)
        out = self.rows_out.pop(day, {})
        asof = _eod(day)
        tickets = [t.row_at(asof) for t in self.ticket_out.pop(day, [])]
        result: dict[str, list[dict]] = {"tickets": tickets}
        for k, rows in out.items():
            result[k] = rows
        return result

    def _schedule_followup(self, opened: datetime, spec: dict) -> None:
        if opened.date() <= self.end:
            self._fseq += 1
            heapq.heappush(self.followups, (opened, self._fseq, spec))

    # ------------------------------------------------------------------ one ticket
    def _open(self, ttype: str, cust: int, d: int, opened: datetime, spec: dict) -> None:
        drow = self.pop.districts[d]
        tier = TIERS[self.pop.tier_code[cust]]
        vip = tier in self.vip
        kind = "business" if self.pop.kind_code[cust] == 1 else "individual"
        day = opened.date()
        tid = self._id("GD", day)
        ch = spec.get("channel") or str(
            self.rng.choice(list(self.p.ticket_channels), p=np.array(list(self.p.ticket_channels.values())))
        )
        product = str(self.rng.choice(("hd_interactive",) + OTHER_PRODUCTS))
        base: dict[str, Any] = {
            "ticket_type": ttype,
            "product": product,
            "severity": None,
            "restoration_kind": None,
            "needs_survey": None,
            "customer_id": str(self.pop.customer_id[cust]),
            "customer_tier": tier,
            "customer_kind": kind,
            "district_id": drow["district_id"],
            "area_type": drow["area_type"],
            "technician_id": None,
            "channel": ch,
            "source_call_id": None,
            "related_ticket_id": spec.get("related_ticket_id"),
            "answered_on_spot": None,
            "explanation_filed": None,
            "entry_accurate": None,
            "summary": None,
            "complaint_validity": None,
        }
        if ttype == "complaint":  # D-119: the investigation's verdict, exported with the complaint
            base["complaint_validity"] = "invalid" if self.rng.random() < self.p.complaint_invalid_share else "valid"
        t: dict[str, datetime | None] = dict.fromkeys(TS_FIELDS)
        t["opened_at"] = opened
        tk = Ticket(tid, base, t)
        ctx = {"d": d, "cust": cust, "vip": vip, "tier": tier, "spec": spec, "pauses": []}
        getattr(self, f"_plan_{ttype}")(tk, ctx)
        self._first_reply(tk, ctx)
        if t["resolved_at"] is not None and t["closed_at"] is None and ttype != "consultation":
            t["closed_at"] = max(t["resolved_at"], t["feedback_at"] or t["resolved_at"]) + self._minutes(30, 4320)
        elif ttype == "consultation" and t["resolved_at"] is not None:
            t["closed_at"] = t["resolved_at"] + self._minutes(1, 60)
        if ttype == "fault" and t["resolved_at"] is not None and self.rng.random() < self.p.reopen_share:
            self._reopen(tk)
        cr = self.pop.customer_row(cust)
        base["summary"] = self._summary(ttype, product, cr)
        # export on every date a milestone became known
        for dd in sorted({x.date() for x in tk.change_times()}):
            if dd <= self.end:
                self.ticket_out[dd].append(tk)
        for k, (reason, a, b) in enumerate(ctx["pauses"], start=1):
            self._emit(
                "ticket_pauses",
                b.date(),
                {"pause_id": f"{tid}-{k}", "ticket_id": tid, "reason": reason, "paused_at": a, "resumed_at": b},
            )
        if t["resolved_at"] is not None:
            self._after_resolution(tk, ctx)

    def _summary(self, ttype: str, product: str, cr: dict) -> str:
        what = {
            "fault": "报修",
            "complaint": "投诉",
            "consultation": "咨询",
            "new_install": "申请新装",
            "move": "申请移机",
            "line_survey": "预报装勘察",
            "restoration": "申请恢复业务",
            "vip_application": "申请VIP",
        }[ttype]
        prod = {"hd_interactive": "高清互动", "digital_tv": "数字电视", "broadband": "宽带", "mobile": "移动"}[product]
        return f"{cr['customer_name']}({cr['phone']}){what}{prod},地址:{cr['address']}"

    # --------------------------------------------------------------- clocks and pauses
    def _pause_plan(self) -> list[str]:
        # a customer_unreachable pause stops the clock like any other (D-05): a planned breach may carry one
        if self.rng.random() >= self.p.pause_share:
            return []
        reasons = ["force_majeure", "formalities_incomplete", "customer_unreachable"]
        out = [str(self.rng.choice(reasons))]
        if self.rng.random() < self.p.pause_overlap_share:
            out.append(str(self.rng.choice(reasons)))
        return out

    def _layout(self, ctx: dict, start: datetime, net: timedelta, reasons: list[str]) -> datetime:
        """End time for `net` clock time after `start`, with the given pauses laid inside (pauses add time)."""
        if not reasons:
            return start + net
        lead = timedelta(minutes=int(max(1, net.total_seconds() / 60 * self._u(0.1, 0.7))))
        a1 = start + lead
        l1 = self._minutes(30, 36 * 60)
        union = l1
        ctx["pauses"].append((reasons[0], a1, a1 + l1))
        if len(reasons) > 1:  # a second pause overlapping the first
            a2 = a1 + timedelta(minutes=int(l1.total_seconds() / 60 * self._u(0.2, 0.9)))
            extra = self._minutes(10, 600)
            ctx["pauses"].append((reasons[1], a2, a1 + l1 + extra))
            union += extra
        return start + net + union

    def _net_for_hours(self, limit: timedelta, breach: bool) -> timedelta:
        mins = limit.total_seconds() / 60
        if breach:
            return timedelta(minutes=int(mins + self._u(1, max(60, mins * 0.8))))
        if self._edge():
            return limit
        return timedelta(minutes=int(max(5, mins * self.rng.beta(2.0, 2.5))))

    def _end_for_wd(self, ctx: dict, start: datetime, n: int, breach: bool, reasons: list[str]) -> datetime:
        deadline = workcal.end_of_nth_working_day(start, n)
        span = deadline - start
        if breach:
            net = span + self._minutes(30, 3 * 1440)
        elif self._edge():
            net = span
        else:
            net = timedelta(minutes=int(span.total_seconds() / 60 * self._u(0.15, 0.95)))
        end = self._layout(ctx, start, net, reasons)
        if self.p.exact_limit_share and net == span:
            return end  # the edge case stays exactly at the deadline
        return self._daytime(end, later=breach, floor=max([start] + [b for _, _, b in ctx["pauses"]]))

    def _daytime(self, ts: datetime, later: bool, floor: datetime) -> datetime:
        """Installers work in the daytime: move a night-time completion to working hours.

        Moving a met item earlier keeps it met and a breached one later keeps it breached."""
        if 8 <= ts.hour < 20:
            return ts
        mm = int(self.rng.integers(60))
        if later:
            day = ts.date() + (DAY if ts.hour >= 20 else timedelta())
            return datetime.combine(day, time(9, mm))
        day = ts.date() - (DAY if ts.hour < 8 else timedelta())
        moved = datetime.combine(day, time(17, mm))
        return moved if moved > floor + MIN else ts

    # --------------------------------------------------------------- ticket types
    def _dispatch(self, tk: Ticket, ctx: dict, start: datetime) -> str | None:
        tech = self._tech(start.date(), tk.base["district_id"])
        tk.base["technician_id"] = tech
        tk.t["dispatched_at"] = start + self._minutes(2, 90)
        return tech

    def _plan_fault(self, tk: Ticket, ctx: dict) -> None:
        d, vip, t = ctx["d"], ctx["vip"], tk.t
        spec = ctx["spec"]
        if spec.get("product"):
            tk.base["product"] = spec["product"]
        elif self.rng.random() < self.p.hd_interactive_share:
            tk.base["product"] = "hd_interactive"
        else:
            tk.base["product"] = str(self.rng.choice(OTHER_PRODUCTS))
        hd = tk.base["product"] == "hd_interactive"
        sev_p = self.p.fault_severity["hd_interactive" if hd else "other"]
        sev = str(self.rng.choice(list(sev_p), p=np.array(list(sev_p.values()))))
        tk.base["severity"] = sev
        measure = "T1" if hd else "T2"
        if self.rng.random() < 0.03:
            t["formalities_complete_at"] = t["opened_at"] + self._minutes(30, 600)
        start = t["formalities_complete_at"] or t["opened_at"]
        tech = self._dispatch(tk, ctx, start)
        limit = self._limit(measure, sev).duration
        breach = self._flag(measure, d, tech)
        if vip:
            self._vip_fault(tk, ctx, start, limit, breach, tech)
        else:
            reasons = self._pause_plan()
            net = self._net_for_hours(limit, breach)
            t["resolved_at"] = self._layout(ctx, start, net, reasons)
            travel = max(MIN, min(self._minutes(20, 240), (t["resolved_at"] - t["dispatched_at"]) * 0.6))
            t["arrived_at"] = min(t["dispatched_at"] + travel, t["resolved_at"])
            t["feedback_at"] = t["resolved_at"] + self._minutes(0, 120)
        if vip:
            self.vip_faults[tk.base["customer_id"]][t["opened_at"].year * 12 + t["opened_at"].month] += 1

    def _vip_fault(
        self, tk: Ticket, ctx: dict, start: datetime, limit: timedelta, t_breach: bool, tech: str | None
    ) -> None:
        d, t = ctx["d"], tk.t
        v1 = self._limit("V1").duration
        if tk.base["severity"] == "emergency":
            if self._flag("V1", d, tech):
                t["arrived_at"] = t["opened_at"] + v1 + self._minutes(1, 180)
            else:
                t["arrived_at"] = t["opened_at"] + (
                    v1 if self._edge() else self._minutes(10, v1.total_seconds() / 60 - 1)
                )
            t["dispatched_at"] = min(t["dispatched_at"], t["arrived_at"] - MIN)
            t["dispatched_at"] = max(t["dispatched_at"], t["opened_at"])
        else:
            appt = t["dispatched_at"] + timedelta(minutes=30 * int(self.rng.integers(2, 30)))
            t["appointment_at"] = appt.replace(minute=0 if appt.minute < 30 else 30)
            tk.known["appointment_at"] = t["dispatched_at"]
            if self._flag("V3", d, tech):
                t["arrived_at"] = t["appointment_at"] + self._minutes(1, 90)
            elif self._edge():
                t["arrived_at"] = t["appointment_at"]
            else:
                t["arrived_at"] = t["appointment_at"] - self._minutes(0, 15)
            t["arrived_at"] = max(t["arrived_at"], t["dispatched_at"])
        v2n, v2x = self._limit("V2", "normal").duration, self._limit("V2", "exception").duration
        if t_breach:
            # the time limit of T1/T2 is missed: the repair took long (explained or not)
            net = self._net_for_hours(limit, True)
            t["resolved_at"] = max(start + net, t["arrived_at"] + MIN)
            tk.base["explanation_filed"] = bool(self.rng.random() < self.p.explanation_share)
        elif self._flag("V2", d, tech):
            tk.base["explanation_filed"] = bool(self.rng.random() < 0.3)
            over = (v2x + self._minutes(1, 600)) if tk.base["explanation_filed"] else (v2n + self._minutes(1, 300))
            t["resolved_at"] = t["arrived_at"] + over
        elif self.rng.random() < 0.15:  # an exceptional but explained repair
            tk.base["explanation_filed"] = True
            budget = min(v2x, start + limit - t["arrived_at"])
            t["resolved_at"] = t["arrived_at"] + max(
                MIN, timedelta(minutes=int(budget.total_seconds() / 60 * self._u(0.3, 1.0)))
            )
        else:
            tk.base["explanation_filed"] = False
            t["resolved_at"] = t["arrived_at"] + (
                v2n if self._edge() else self._minutes(8, v2n.total_seconds() / 60 - 1)
            )
        if not t_breach and t["resolved_at"] - start > limit:  # keep T1/T2 met
            t["resolved_at"] = max(t["arrived_at"] + MIN, start + limit)
        self._feedback(tk, ctx, tech)

    def _feedback(self, tk: Ticket, ctx: dict, tech: str | None) -> None:
        t = tk.t
        r = t["resolved_at"]
        if ctx["vip"] and self._flag("V4", ctx["d"], tech):
            t["feedback_at"] = datetime.combine(
                r.date() + DAY, time(int(self.rng.integers(8, 12)), int(self.rng.integers(60)))
            )
        elif self._edge():
            t["feedback_at"] = datetime.combine(r.date(), time(23, 59))
        else:
            t["feedback_at"] = min(r + self._minutes(0, 90), datetime.combine(r.date(), time(23, 59)))

    def _plan_new_install(self, tk: Ticket, ctx: dict) -> None:
        self._install(tk, ctx, move=False)

    def _plan_move(self, tk: Ticket, ctx: dict) -> None:
        self._install(tk, ctx, move=True)

    def _install(self, tk: Ticket, ctx: dict, move: bool) -> None:
        d, t, b = ctx["d"], tk.t, tk.base
        b["needs_survey"] = bool(self.rng.random() < self.p.needs_survey_share)
        if self.rng.random() < self.p.formalities_late_share:
            t["formalities_complete_at"] = t["opened_at"] + self._minutes(60, 3 * 1440)
        start = t["formalities_complete_at"] or t["opened_at"]
        tech = self._dispatch(tk, ctx, start)
        t4 = (not b["needs_survey"]) and b["customer_kind"] == "individual"
        reasons = self._pause_plan()
        if not move:
            n = self._limit("T3", b["area_type"]).working_days
            if self._flag("T3", d, tech):
                t["resolved_at"] = self._end_for_wd(ctx, start, n, True, reasons)
            elif t4:
                # T4's 24 h (even when breached by < 2 days) keeps T3's 5/10 working days met
                t["resolved_at"] = self._layout(
                    ctx, start, self._net_for_hours(self._limit("T4").duration, self._flag("T4", d, tech)), reasons
                )
            else:
                t["resolved_at"] = self._end_for_wd(ctx, start, n, False, reasons)
        elif t4:
            t["resolved_at"] = self._layout(
                ctx, start, self._net_for_hours(self._limit("T4").duration, self._flag("T4", d, tech)), reasons
            )
        else:
            t["resolved_at"] = self._layout(ctx, start, self._minutes(240, 6 * 1440), reasons)
        if ctx["vip"]:
            appt = t["dispatched_at"] + timedelta(minutes=30 * int(self.rng.integers(2, 40)))
            appt = appt.replace(minute=0 if appt.minute < 30 else 30)
            if appt < t["resolved_at"] - 30 * MIN:
                t["appointment_at"] = appt
                tk.known["appointment_at"] = t["dispatched_at"]
                late = self._flag("V3", d, tech)
                t["arrived_at"] = appt + self._minutes(1, 60) if late else appt - self._minutes(0, 12)
                t["arrived_at"] = min(max(t["arrived_at"], t["dispatched_at"]), t["resolved_at"] - MIN)
        if t["arrived_at"] is None:
            t["arrived_at"] = max(t["dispatched_at"], t["resolved_at"] - self._minutes(30, 180))
        self._feedback(tk, ctx, tech)

    def _plan_line_survey(self, tk: Ticket, ctx: dict) -> None:
        t = tk.t
        tech = self._dispatch(tk, ctx, t["opened_at"])
        breach = self._flag("T5", ctx["d"], tech)
        t["resolved_at"] = self._layout(
            ctx, t["opened_at"], self._net_for_hours(self._limit("T5").duration, breach), self._pause_plan()
        )
        t["dispatched_at"] = min(t["dispatched_at"], t["resolved_at"])
        t["arrived_at"] = max(t["dispatched_at"], t["resolved_at"] - self._minutes(20, 120))
        t["feedback_at"] = t["resolved_at"] + self._minutes(0, 60)

    def _plan_restoration(self, tk: Ticket, ctx: dict) -> None:
        t, b = tk.t, tk.base
        kind = "arrears_paid" if self.rng.random() < 0.6 else "request"
        b["restoration_kind"] = kind
        if kind == "arrears_paid":
            t["formalities_complete_at"] = t["opened_at"] + self._minutes(0, 360)
        elif self.rng.random() < self.p.formalities_late_share:
            t["formalities_complete_at"] = t["opened_at"] + self._minutes(60, 2 * 1440)
        start = t["formalities_complete_at"] or t["opened_at"]
        tech = self._dispatch(tk, ctx, start)
        breach = self._flag("T6", ctx["d"], tech)
        lim = self._limit("T6", kind)
        if lim.working_days:
            t["resolved_at"] = self._end_for_wd(ctx, start, lim.working_days, breach, self._pause_plan())
        else:
            t["resolved_at"] = self._layout(ctx, start, self._net_for_hours(lim.duration, breach), self._pause_plan())
        t["dispatched_at"] = min(t["dispatched_at"], t["resolved_at"])

    def _plan_complaint(self, tk: Ticket, ctx: dict) -> None:
        d, t, vip = ctx["d"], tk.t, ctx["vip"]
        tk.base["product"] = ctx["spec"].get("product") or tk.base["product"]
        o = t["opened_at"]
        ir = self._limit("T7", "initial_reply").duration
        breach = self._flag("T7", d)
        part = str(self.rng.choice(["reply", "answer", "vip"] if vip else ["reply", "answer"])) if breach else ""
        if part == "reply":
            ctx["reply"] = o + ir + self._minutes(1, 300)
        else:
            ctx["reply"] = o + (ir if self._edge() else self._minutes(3, ir.total_seconds() / 60 - 1))
        deadline = workcal.end_of_nth_working_day(o, self._limit("T7", "answer").working_days)
        if part == "answer":
            t["resolved_at"] = deadline + self._minutes(1, 3 * 1440)
        elif vip:
            exc = self._limit("T7", "vip_close_exception").duration
            if part == "vip":  # not closed the same day: without explanation, or beyond the 48 h exception
                tk.base["explanation_filed"] = bool(self.rng.random() < 0.4)
                t["resolved_at"] = (
                    (o + exc + self._minutes(1, 600))
                    if tk.base["explanation_filed"]
                    else datetime.combine(
                        o.date() + DAY, time(int(self.rng.integers(9, 18)), int(self.rng.integers(60)))
                    )
                )
            elif o.hour < 22 and self.rng.random() < 0.8:
                tk.base["explanation_filed"] = False
                t["resolved_at"] = min(ctx["reply"] + self._minutes(10, 300), datetime.combine(o.date(), time(23, 59)))
            else:  # late in the evening: closed next day under the explained exception
                tk.base["explanation_filed"] = True
                t["resolved_at"] = datetime.combine(o.date() + DAY, time(int(self.rng.integers(9, 18)), 0))
            t["resolved_at"] = max(t["resolved_at"], ctx["reply"])
        else:
            span = deadline - ctx["reply"]
            t["resolved_at"] = (
                deadline
                if self._edge()
                else ctx["reply"] + timedelta(minutes=int(span.total_seconds() / 60 * self._u(0.05, 0.98)))
            )
        t["resolved_at"] = max(t["resolved_at"], ctx["reply"])

    def _plan_consultation(self, tk: Ticket, ctx: dict) -> None:
        d, t, o = ctx["d"], tk.t, tk.t["opened_at"]
        on_spot = self.rng.random() >= self.p.consult_not_on_spot_share
        tk.base["answered_on_spot"] = on_spot
        if on_spot:
            ctx["reply"] = o
            t["resolved_at"] = o + self._minutes(0, 15)
            return
        if tk.base["channel"] == "hotline" and self.rng.random() < self.p.consult_from_call_share:
            self._source_call(tk, ctx)
            o = t["opened_at"]
        lim = self._limit("C9").duration
        if ctx["vip"]:
            t["resolved_at"] = o + self._net_for_hours(lim, self._flag("C9", d))
        else:
            t["resolved_at"] = o + self._minutes(30, 3 * 1440)
        ctx["reply"] = o + self._minutes(5, 180)
        t["resolved_at"] = max(t["resolved_at"], ctx["reply"])

    def _source_call(self, tk: Ticket, ctx: dict) -> None:
        """The call the call centre could not answer; the ticket is opened after it ends (T8)."""
        t = tk.t
        lim = self._limit("T8").duration
        if self._flag("T8", ctx["d"]):
            gap = lim + self._minutes(1, 240)
        elif self._edge():
            gap = lim
        else:
            gap = self._minutes(1, lim.total_seconds() / 60 - 1)
        talk = int(self.rng.integers(60, 900))
        wait = int(self.rng.integers(2, 18 if ctx["vip"] else 60))
        ended = t["opened_at"].replace(second=0) - gap + timedelta(seconds=int(self.rng.integers(0, 60)))
        # the ticket system keeps minutes: open at the minute the gap lands on (seconds of the call are kept)
        answered = ended - timedelta(seconds=talk)
        queued = answered - timedelta(seconds=wait)
        arrived = queued - timedelta(seconds=int(self.rng.integers(5, 40)))
        if arrived.date() != t["opened_at"].date():
            return
        opened = _minute(ended + gap)
        if lim is not None and not (ended + gap - timedelta(seconds=59) <= opened):
            return
        t["opened_at"] = opened
        cid = self._id("HCT", arrived.date())
        tk.base["source_call_id"] = cid
        cust = ctx["cust"]
        tier = ctx["tier"]
        self._emit(
            "calls",
            arrived.date(),
            {
                "call_id": cid,
                "caller_phone": self.pop.customer_phone(cust),
                "customer_id": tk.base["customer_id"],
                "customer_tier": tier,
                "district_id": tk.base["district_id"],
                "queue": "vip" if ctx["vip"] else "ordinary",
                "call_type": "consultation",
                "arrived_at": arrived,
                "human_requested": True,
                "queued_at": queued,
                "answered_at": answered,
                "ended_at": ended,
                "talk_seconds": talk,
                "abandoned": False,
                "agent_id": f"A{int(self.rng.integers(1, 400)):04d}",
                "transfer_type": "none",
                "transfer_requested": None,
                "transfer_queued_at": None,
                "transfer_answered_at": None,
                "transfer_outcome": None,
            },
        )

    def _plan_vip_application(self, tk: Ticket, ctx: dict) -> None:
        d, t, b, o = ctx["d"], tk.t, tk.base, tk.t["opened_at"]
        chans = self.p.vip_application_channels
        b["channel"] = str(self.rng.choice(list(chans), p=np.array(list(chans.values()))))
        b["product"] = str(self.rng.choice(("hd_interactive",) + OTHER_PRODUCTS))
        breach = self._flag("V7", d)
        parts = ["entry", "accuracy", "dispatch"]
        if b["channel"] == "leadership":
            parts += ["approval_submitted", "approval_done"]
        if b["channel"] == "email":
            parts.append("email_reply")
        bad = str(self.rng.choice(parts)) if breach else ""
        eod = datetime.combine(o.date(), time(23, 59))
        t["entered_at"] = (
            datetime.combine(o.date() + DAY, time(9, int(self.rng.integers(60))))
            if bad == "entry"
            else min(o + self._minutes(5, 240), eod)
        )
        b["entry_accurate"] = bad != "accuracy"
        last = t["entered_at"]
        if b["channel"] == "leadership":
            sub_dl = workcal.end_of_nth_working_day(o, self._limit("V7", "approval_submitted").working_days)
            done_dl = workcal.end_of_nth_working_day(o, self._limit("V7", "approval_done").working_days)
            t["approval_submitted_at"] = (
                (sub_dl + self._minutes(60, 2 * 1440))
                if bad == "approval_submitted"
                else max(t["entered_at"], sub_dl - self._minutes(60, 2 * 1440))
            )
            t["approval_done_at"] = (
                (done_dl + self._minutes(60, 3 * 1440))
                if bad == "approval_done"
                else max(t["approval_submitted_at"] + MIN, done_dl - self._minutes(30, 2 * 1440))
            )
            last = t["approval_done_at"]
        if b["channel"] == "email":
            ctx["reply"] = (
                datetime.combine(o.date() + DAY, time(10, int(self.rng.integers(60))))
                if bad == "email_reply"
                else min(o + self._minutes(10, 300), eod)
            )
        e = t["entered_at"]
        tech = self._tech(o.date(), b["district_id"])
        b["technician_id"] = tech
        t["dispatched_at"] = (
            datetime.combine(e.date() + DAY, time(9, int(self.rng.integers(60))))
            if bad == "dispatch"
            else min(e + self._minutes(5, 240), datetime.combine(e.date(), time(23, 59)))
        )
        t["resolved_at"] = max(last, t["dispatched_at"]) + self._minutes(30, 2 * 1440)

    def _first_reply(self, tk: Ticket, ctx: dict) -> None:
        t, o = tk.t, tk.t["opened_at"]
        lim = self._limit("T9").duration
        if self._flag("T9", ctx["d"]):
            t["first_reply_at"] = None if self.rng.random() < 0.15 else o + lim + self._minutes(1, 1440)
            return
        if "reply" in ctx:
            t["first_reply_at"] = ctx["reply"]
        elif self._edge():
            t["first_reply_at"] = o + lim
        else:
            t["first_reply_at"] = o + timedelta(
                minutes=int(min(lim.total_seconds() / 60 - 1, self.rng.lognormal(3.5, 1.0)))
            )
            if t["resolved_at"] is not None:
                t["first_reply_at"] = max(o, min(t["first_reply_at"], t["resolved_at"]))
        if t["first_reply_at"] is not None and t["first_reply_at"] - o > lim:
            t["first_reply_at"] = o + lim

    def _reopen(self, tk: Ticket) -> None:
        t = tk.t
        s = t["formalities_complete_at"] or t["opened_at"]
        span = t["resolved_at"] - s
        if span < 3 * HOUR:
            return
        r1 = _minute(max(s + span * 0.35, t["arrived_at"] or s, t["dispatched_at"] or s) + MIN)
        c1 = _minute(r1 + span * 0.1) + MIN
        reopen = _minute(c1 + span * 0.1) + MIN
        if reopen >= t["resolved_at"] - MIN:
            return
        tk.first_cycle = {"resolved_at": r1, "feedback_at": r1, "closed_at": c1}
        tk.reopen_at = reopen

    # --------------------------------------------------------------- after resolution
    def _after_resolution(self, tk: Ticket, ctx: dict) -> None:
        b, t = tk.base, tk.t
        ttype, d, vip = b["ticket_type"], ctx["d"], ctx["vip"]
        r = t["resolved_at"]
        tech = b["technician_id"]
        if ttype in ("new_install", "fault", "complaint"):
            self._ticket_callbacks(tk, ctx, r)
        if vip and ttype in ("new_install", "fault") and not ctx["spec"].get("no_chain"):
            if ttype == "fault" and self._flag("V5", d, tech):
                self._schedule_followup(
                    _minute(r + self._minutes(120, 29 * 1440)),
                    {"ticket_type": "fault", "cust": ctx["cust"], "d": d, "no_chain": True, "product": b["product"]},
                )
            if self._flag("V6", d, tech):
                self._schedule_followup(
                    _minute(r + self._minutes(60, 25 * 1440)),
                    {
                        "ticket_type": "complaint",
                        "cust": ctx["cust"],
                        "d": d,
                        "no_chain": True,
                        "related_ticket_id": tk.ticket_id,
                        "product": b["product"],
                    },
                )
        if ttype in ("consultation", "vip_application"):
            return
        jobs = vip and ttype in ("new_install", "fault")
        if self.rng.random() < (0.85 if jobs else self.p.survey_share):
            at = r + timedelta(seconds=int(self.rng.integers(3600, 3 * 86400)))
            x = self.rng.random()
            if x < self.p.survey_unreachable_share:
                ans = "unreachable"
            elif x < self.p.survey_unreachable_share + self.p.survey_refused_share:
                ans = "refused"
            elif (jobs and self._flag("S3", d, tech)) or self._flag("S2", d):
                ans = "dissatisfied"
            else:
                ans = "satisfied" if self.rng.random() < 0.8 else "basically_satisfied"
            self._emit(
                "surveys",
                at.date(),
                {
                    "survey_id": self._id("MYT", at.date()),
                    "channel": "ticket",
                    "call_id": None,
                    "ticket_id": tk.ticket_id,
                    "customer_id": b["customer_id"],
                    "customer_tier": b["customer_tier"],
                    "district_id": b["district_id"],
                    "surveyed_at": at,
                    "answer": ans,
                },
            )

    def _callback(
        self, tk: Ticket | None, cust: int, d: int, reason: str, at: datetime, outcome: str, related: str | None = None
    ) -> None:
        b_id = str(self.pop.customer_id[cust])
        row = {
            "callback_id": self._id("HFT", at.date()),
            "ticket_id": tk.ticket_id if tk else None,
            "work_id": None,
            "customer_id": b_id,
            "district_id": self.pop.districts[d]["district_id"],
            "reason": reason,
            "channel": "phone",
            "callback_at": at,
            "outcome": outcome,
            "repair_needed": None,
            "problem_handled_at": None,
            "repair_dispatched_at": None,
        }
        if outcome == "problem_found":
            late = self._flag("C4", d)
            eod = datetime.combine(at.date(), time(23, 59, 59))
            row["repair_needed"] = bool(self.rng.random() < self.p.callback_repair_share)
            which = str(self.rng.choice(["handled", "dispatch"])) if (late and row["repair_needed"]) else "handled"
            row["problem_handled_at"] = (
                None
                if (late and which == "handled")
                else min(at + timedelta(seconds=int(self.rng.integers(60, 4 * 3600))), eod)
            )
            if row["repair_needed"]:
                if late and which == "dispatch":
                    disp = None
                    opened = datetime.combine(at.date() + DAY, time(9, int(self.rng.integers(60))))
                else:
                    disp = min(at + timedelta(seconds=int(self.rng.integers(60, 3 * 3600))), eod)
                    opened = _minute(disp)
                row["repair_dispatched_at"] = disp
                self._schedule_followup(
                    opened,
                    {
                        "ticket_type": "fault",
                        "cust": cust,
                        "d": d,
                        "no_chain": True,
                        "channel": "callback",
                        "related_ticket_id": related,
                    },
                )
        self._emit("callbacks", at.date(), row)

    def _ticket_callbacks(self, tk: Ticket, ctx: dict, r: datetime) -> None:
        b = tk.base
        ttype, d, vip, tech = b["ticket_type"], ctx["d"], ctx["vip"], b["technician_id"]
        c1 = self._limit("C1").duration
        deadline = r + c1
        if vip and ttype in ("new_install", "fault"):
            deadline = min(deadline, workcal.end_of_nth_working_day(r, self._limit("C2", ttype).working_days))
        miss_c1 = self._flag("C1", d, tech)
        miss_c2 = vip and ttype in ("new_install", "fault") and self._flag("C2", d)
        at = r + timedelta(seconds=int(self.rng.integers(1800, max(1801, int((deadline - r).total_seconds() * 0.9)))))
        if self._edge() and not vip:
            at = r + c1
        if miss_c1 or miss_c2:
            style = self.rng.random()
            if style < 0.35:
                return  # no callback at all
            if style < 0.6:  # only unreachable attempts
                self._callback(
                    tk,
                    ctx["cust"],
                    d,
                    f"post_{'repair' if ttype == 'fault' else ttype.replace('new_', '')}",
                    at,
                    "unreachable",
                )
                return
            at = (r + c1 if miss_c1 else deadline) + timedelta(seconds=int(self.rng.integers(600, 2 * 86400)))
        reason = {"fault": "post_repair", "new_install": "post_install", "complaint": "post_complaint"}[ttype]
        if self.rng.random() < self.p.callback_unreachable_share:
            first = r + (at - r) * 0.4
            self._callback(tk, ctx["cust"], d, reason, first, "unreachable")
        outcome = "problem_found" if self.rng.random() < self.p.callback_problem_share else "reached"
        self._callback(tk, ctx["cust"], d, reason, at, outcome, related=tk.ticket_id)

    # --------------------------------------------------------------- C3
    def _c3(self, day: date) -> None:
        last = calendar.monthrange(day.year, day.month)[1]
        if day.day < last - 6:
            return
        m = day.year * 12 + day.month
        for cid, months in list(self.vip_faults.items()):
            for k in [k for k in months if k < m - 1]:
                del months[k]
            if not months:
                del self.vip_faults[cid]
                continue
            if (m, cid) in self.c3_done:
                continue
            if months.get(m, 0) >= 2 or (months.get(m, 0) >= 1 and months.get(m - 1, 0) >= 1):
                self.c3_done.add((m, cid))
                cust = int(cid[1:]) - 1
                d = int(self.pop.district_idx[cust])
                when_day = day + timedelta(days=int(self.rng.integers(0, last - day.day + 1)))
                at = datetime.combine(
                    when_day,
                    time(int(self.rng.integers(9, 20)), int(self.rng.integers(60)), int(self.rng.integers(60))),
                )
                if self._flag("C3", d):
                    style = self.rng.random()
                    if style < 0.4:
                        continue
                    if style < 0.7:
                        self._callback(None, cust, d, "repeat_fault", at, "unreachable")
                        continue
                    at = datetime.combine(date(day.year, day.month, last) + DAY, time(10, 0))
                self._callback(None, cust, d, "repeat_fault", at, "reached")
        self.c3_done = {x for x in self.c3_done if x[0] >= m - 1}

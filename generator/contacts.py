"""The contact-centre, hall, billing and network-ops side of the generated world.

`ContactsSimulator.day(d)` returns the exports of business date d for the
entities this side owns: calls, hotline surveys, outbound contacts, hall
visits, suspensions, works with their work notices, and the callbacks with
reason cutover / red_vip_sms / project. Rows are canonical (contract column
names and enum values); timestamps are truncated to their export's precision
(generator.formats) before anyone sees them.

How it scales: each day is drawn as numpy column arrays (a province day has
~140k calls) and turned into row dicts lazily. State kept across days is
bounded: the last phone-call day per customer (P1), six days of callers (R3),
pending follow-ups and callbacks, and small per-unit counters.

How rules are planted (docs/decisions.md defines the measures): rates that
must land on a chosen side of a threshold are drawn with *error diffusion*
(`Quota`): an accumulator per (measure, month, unit) turns a target rate into
an exact count of events, so a unit planted to pass passes and one planted to
fail fails, whatever the sample size. Which months and units pass is decided
once per simulator from its rng (month patterns) and from
`population.district_quality` (0.0 = clean district: no planted violations).
Thresholds and time limits are read from the rulebook, never typed here.

Days must be asked for in increasing order (the World does): follow-ups, P1
windows and repeat callers carry over from one day to the next.
"""

from __future__ import annotations

import calendar
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import chinese_calendar
import numpy as np

from generator import formats
from kefu import contract, rulebook, workcal

ENTITIES: tuple[str, ...] = (
    "calls",
    "surveys",
    "outbound",
    "hall_visits",
    "suspensions",
    "works",
    "work_notices",
    "callbacks",
)
CALL_TYPES: tuple[str, ...] = ("fault", "consultation", "complaint", "other")
DAY = 86_400
_NAT = np.datetime64("NaT", "s")


# ----------------------------------------------------------------------------- rates
@dataclass(frozen=True)
class ContactRates:
    """Every rate the contacts side draws from. A Preset may carry its own as `contact_rates`."""

    # inbound calls
    calls_per_household_month: float = 0.4  # Preset.calls_per_household_month wins when present
    vip_call_multiplier: float = 1.6  # VIP customers call this much more often than others
    identified_share: float = 0.88
    repeat_share: float = 0.07  # calls that repeat a call of the last 6 days (same customer and type, R3)
    call_type_shares: dict[str, float] = field(
        default_factory=lambda: {"fault": 0.42, "consultation": 0.38, "complaint": 0.07, "other": 0.13}
    )
    human_share_vip: float = 0.88
    human_share_other: float = 0.72
    ordinary_service_level: float = 0.82
    late_abandon_share: float = 0.45  # of calls not answered within the level: hung up
    # H1 (VIP service level) per district and month
    vip_level_clean: float = 0.935
    vip_level_pass: tuple[float, float] = (0.905, 0.95)
    vip_level_fail: tuple[float, float] = (0.855, 0.888)
    vip_level_company_bad: float = 0.88  # company level aimed at in planted-bad months
    vip_district_fail_share: float = 0.25  # unclean district failing in a good month
    # transfers (H2, H3, H4)
    self_service_pass: float = 0.24
    self_service_fail: float = 0.15
    expert_share: float = 0.06
    expert_late_pass: float = 0.05
    expert_late_fail: float = 0.16
    expert_failed_share_of_late: float = 0.35
    misroute_pass: float = 0.002
    expert_misroute_fail: float = 0.015
    self_misroute_fail: float = 0.008
    self_failed_pass: float = 0.004
    self_failed_fail: float = 0.025
    unrequested_transfer_rate: float = 0.06  # of VIP transfers in planted district-months (H4)
    ordinary_transfer_requested: float = 0.5
    h5_injected_calls: int = 2
    # hotline surveys (S1)
    survey_share: float = 0.3
    survey_unreachable: float = 0.08
    survey_refused: float = 0.05
    satisfaction_margin_pass: float = 0.03
    satisfaction_margin_fail: float = 0.06
    # outbound (P1, C8)
    outbound_per_household_month: float = 0.03
    outbound_purposes: dict[str, float] = field(
        default_factory=lambda: {"marketing": 0.6, "notice": 0.3, "other": 0.06, "care": 0.04}
    )
    outbound_phone_share: float = 0.55
    phone_answer_share: float = 0.7
    p1_breaches_per_thousand: float = 1.0  # breaching chains per planted month per 1000 customers of the group
    p1_pairs_per_thousand: float = 2.0  # ordinary customers called twice (at the limit) per month
    care_channels: dict[str, float] = field(default_factory=lambda: {"phone": 0.5, "sms": 0.3, "visit": 0.2})
    c8_miss_rate: float = 0.12
    # business halls (B1, B2)
    hall_visits_per_household_month: float = 0.12
    hall_identified_share: float = 0.85
    vip_card_share: float = 0.6
    hall_breach_rate: float = 0.05
    hall_unserved_share: float = 0.03
    b2_breach_rate: float = 0.15
    exact_limit_share: float = 0.01
    # billing (N1)
    suspensions_per_household_month: float = 0.003
    n1_violation: float = 0.1
    # network ops (N2, C5)
    works_per_district_month: float = 1.5
    work_kinds: dict[str, float] = field(
        default_factory=lambda: {"engineering": 0.4, "line_adjustment": 0.35, "cutover": 0.25}
    )
    work_customers: tuple[int, int] = (5, 40)
    n2_violation: float = 0.1
    c5_violation: float = 0.12
    # yearly / periodic callbacks (C6, C7)
    c6_behind_share: float = 0.5  # of unclean districts: red VIP SMS callbacks behind the linear pace
    c6_behind_pace: float = 0.6  # a behind district reaches this share of the linear pace (the rest: never)
    c7_miss_rate: float = 0.15


def rates_for(preset: Any) -> ContactRates:
    """The preset's contact rates: its `contact_rates`, else the defaults with the preset's call volume."""
    own = getattr(preset, "contact_rates", None)
    if own is not None:
        return own
    base = ContactRates()
    cphm = getattr(preset, "calls_per_household_month", None)
    return replace(base, calls_per_household_month=float(cphm)) if cphm is not None else base


# ----------------------------------------------------------------------------- helpers
class Quota:
    """Error diffusion: turns a target rate into exact event counts per (measure, month, unit).

    Per key an accumulator grows by `rate` per item and fires an event each time it
    crosses an integer. Starting at 0 gives floor(n·rate) events (at most the rate:
    a unit planted to pass); starting just below 1 gives ceil(n·rate) (at least the
    rate: planted to fail); 0.5 rounds.
    """

    AT_MOST, ROUND, AT_LEAST = 0.0, 0.5, 1.0 - 1e-9

    def __init__(self) -> None:
        self.acc: dict[tuple, float] = {}

    def draw(self, group: np.ndarray, spec: dict[int, tuple[tuple, float, float]]) -> np.ndarray:
        """Events for items in time order; group = unit code per item, spec = code -> (key, rate, start)."""
        out = np.zeros(len(group), dtype=bool)
        if len(group) == 0:
            return out
        order = np.argsort(group, kind="stable")
        g = group[order]
        cuts = np.flatnonzero(np.diff(g)) + 1
        for part in np.split(order, cuts):
            key, rate, start = spec[int(group[part[0]])]
            acc = self.acc.get(key, start)
            c = acc + rate * np.arange(1, len(part) + 1)
            fl = np.floor(c)
            out[part] = np.diff(np.concatenate(([np.floor(acc)], fl))) > 0
            self.acc[key] = float(c[-1] - fl[-1])
        return out


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _quarter_bounds(d: date) -> tuple[date, date]:
    q0 = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return q0, _month_end(date(d.year, q0.month + 2, 1))


def _choice(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    keys = list(shares)
    p = np.array([shares[k] for k in keys], dtype=float)
    return rng.choice(len(keys), size=n, p=p / p.sum())


def _stamps(day64: np.datetime64, secs: np.ndarray, mask: np.ndarray | None, entity: str) -> list:
    """Seconds after midnight -> truncated datetimes (None where mask is False)."""
    prec = int(formats.FORMATS[entity].precision.total_seconds())
    s = np.asarray(secs, dtype=np.int64)
    if prec > 1:
        s = s - s % prec
    out = day64 + s.astype("timedelta64[s]")
    if mask is not None:
        out = np.where(mask, out, _NAT)
    return out.tolist()


def _masked(values: np.ndarray, mask: np.ndarray) -> list:
    """A column as a list, None where mask is False."""
    return np.where(mask, np.asarray(values, dtype=object), None).tolist()


def _rows(entity: str, cols: list[list]) -> Iterator[dict]:
    """Row dicts from columns given in the contract's column order."""
    names = contract.entity(entity).column_names
    assert len(names) == len(cols), entity
    return (dict(zip(names, vals)) for vals in zip(*cols))


def day_factor(d: date) -> float:
    """Relative inbound volume of a date: weekday, weekend, holiday (调休 Saturdays are working days)."""
    season = 1.0 + 0.05 * np.sin((d.timetuple().tm_yday - 100) / 365 * 2 * np.pi)
    if workcal.is_workday(d):
        return season * (1.12 if d.weekday() == 0 else 1.0)
    try:
        _, name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        name = None
    if name == "Spring Festival":
        return season * 0.5
    if name == "National Day":
        return season * 0.68
    if name:
        return season * 0.75
    return season * (0.8 if d.weekday() == 5 else 0.74)


_HOURS_WORK = np.array(
    [
        0.4,
        0.25,
        0.15,
        0.12,
        0.12,
        0.2,
        0.5,
        1.5,
        3.5,
        5.5,
        6.0,
        5.0,
        3.5,
        4.0,
        5.5,
        5.8,
        5.0,
        4.0,
        3.5,
        4.5,
        5.0,
        4.0,
        2.0,
        1.0,
    ]
)
_HOURS_OFF = np.array(
    [
        0.6,
        0.35,
        0.2,
        0.15,
        0.15,
        0.2,
        0.4,
        0.9,
        2.0,
        3.5,
        4.5,
        4.5,
        3.5,
        3.8,
        4.5,
        4.6,
        4.2,
        3.8,
        3.8,
        4.8,
        5.2,
        4.2,
        2.4,
        1.3,
    ]
)


def _festival(d: date) -> bool:
    """A non-working day of Spring Festival or National Day."""
    if workcal.is_workday(d):
        return False
    try:
        return chinese_calendar.get_holiday_detail(d)[1] in ("Spring Festival", "National Day")
    except NotImplementedError:
        return False


def diurnal(d: date) -> np.ndarray:
    """Hourly arrival shares: morning, afternoon and evening peaks; flatter off working days."""
    w = _HOURS_WORK if workcal.is_workday(d) else _HOURS_OFF
    return w / w.sum()


def brand_group(tier: str) -> str:
    return tier if tier in ("gotone_vip", "gotone") else "other"


# ----------------------------------------------------------------------------- simulator
class ContactsSimulator:
    """Contact-centre, hall, billing and network-ops exports, one business date at a time."""

    def __init__(self, population: Any, preset: Any, rng: np.random.Generator, start: date, end: date):
        self.pop, self.preset, self.start, self.end = population, preset, start, end
        self.rates = rates_for(preset)
        self.seed = int(rng.integers(0, 2**62))
        self.quota = Quota()
        r = self.rates
        rb = rulebook.load()
        self._h1_limit = int(rb["H1"].limit("all").duration.total_seconds())
        self._h2_limit = int(rb["H2.1"].limit("all").duration.total_seconds())
        self._s1 = rb["S1"]
        self._b1 = {k: int(rb["B1"].limit(k).duration.total_seconds()) for k in ("vip", "gotone", "other")}
        self._b2 = int(rb["B2"].limit("all").duration.total_seconds())
        self._n1 = int(rb["N1"].limit("all").duration.total_seconds())
        self._n2 = int(rb["N2"].limit("all").duration.total_seconds())
        self._p1_window = rb["P1"].limit("window").duration.days
        counted = [p for p in ("marketing", "other") if p in rulebook.p1_counted_purposes()]  # not C8's care calls
        self._p1_chain_purposes = [list(self.rates.outbound_purposes).index(p) for p in counted or ["marketing"]]

        pop = population
        from generator.population import TIERS  # the population's tier codes

        self.tiers = np.array(TIERS, dtype=object)
        vip_codes = [TIERS.index(t) for t in rulebook.vip_tiers()]
        self.is_vip = np.isin(pop.tier_code, vip_codes)
        self.n = len(pop.customer_id)
        self.district_ids = [d_["district_id"] for d_ in pop.districts]
        self.district_names = [d_["district_name"] for d_ in pop.districts]
        self.n_districts = len(self.district_ids)
        self.quality = np.asarray(pop.district_quality, dtype=float)
        self.dirty = self.quality > 0
        self._opened_days = (pop.opened - np.datetime64("1970-01-01")).astype(np.int32)
        self._sorted_open = bool(np.all(self._opened_days[:-1] <= self._opened_days[1:]))
        self.vip_idx = np.flatnonzero(self.is_vip)
        self._vip_open = self._opened_days[self.vip_idx]

        # months and planted month patterns
        self.months: list[date] = []
        m = _month_start(start)
        while m <= end:
            self.months.append(m)
            m = _month_end(m) + timedelta(days=1)
        init = np.random.default_rng([self.seed, 0])
        self._phase = {k: int(init.integers(2)) for k in ("H1", "H2.1", "H2.2", "H3.1", "H3.3", "H4", "S1")}
        self._phase["P1"] = int(init.integers(3))
        self._plan_h1(init)
        self._plan_h4_h5(init)
        # halls
        self._setup_halls(init)
        # agents
        daily = self.n * r.calls_per_household_month * 12 / 365
        self.n_agents = max(12, int(daily / 60))
        self.n_vip_agents = max(4, int(self.n_agents * 0.08))
        # cross-day state
        self._recent_callers: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=6)
        self._last_phone = np.full(self.n, -10_000, dtype=np.int32)  # day number of the last outbound phone call
        self._pending = np.zeros(self.n, dtype=bool)  # customer inside a planted P1 chain
        self._followups: dict[date, list[tuple[int, int, bool]]] = {}  # day -> [(customer, purpose, last call)]
        self._callbacks: dict[date, list[dict]] = {}
        self._care_plan: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._p1_plan: dict[date, list[tuple[int, list[int]]]] = {}
        self._p1_planned: set[int] = set()
        self._c6_plan = self._plan_c6(init)
        self._c7_done: set[date] = set()
        self._mean_factor: dict[int, float] = {}
        self._last_day: date | None = None
        self._eligible_cache: tuple[date | None, int] = (None, 0)

    def _plan_h1(self, init: np.random.Generator) -> None:
        """H1 target level per (district, month): clean districts pass; unclean ones hover around the
        threshold, and in planted-bad months sink far enough for the company level to fail."""
        r, pop = self.rates, self.pop
        vip_w = np.bincount(pop.district_idx[self.vip_idx], minlength=self.n_districts).astype(float)
        vip_w = vip_w / vip_w.sum() if vip_w.sum() else np.full(self.n_districts, 1 / max(1, self.n_districts))
        w_clean, w_dirty = vip_w[~self.dirty].sum(), vip_w[self.dirty].sum()
        self.h1_target = np.full((self.n_districts, len(self.months)), r.vip_level_clean)
        self.h1_mode = np.full((self.n_districts, len(self.months)), Quota.AT_MOST)
        s_bad = (r.vip_level_company_bad - w_clean * r.vip_level_clean) / w_dirty if w_dirty else 0.85
        s_bad = float(np.clip(s_bad, 0.72, r.vip_level_fail[1] - 0.01))
        for k in range(len(self.months)):
            for dd in np.flatnonzero(self.dirty):
                if self.bad("H1", k):
                    self.h1_target[dd, k] = min(r.vip_level_fail[1], s_bad + init.uniform(-0.02, 0.01))
                    self.h1_mode[dd, k] = Quota.AT_LEAST
                elif init.random() < r.vip_district_fail_share:
                    self.h1_target[dd, k] = init.uniform(*r.vip_level_fail)
                    self.h1_mode[dd, k] = Quota.AT_LEAST
                else:
                    self.h1_target[dd, k] = init.uniform(*r.vip_level_pass)

    def _plan_h4_h5(self, init: np.random.Generator) -> None:
        """H4: the unclean districts that transfer VIPs unasked; H5: one night hour per planted month."""
        start, end = self.start, self.end
        # H4: unrequested VIP transfers in the worse unclean districts, in bad months only
        dq = self.quality[self.dirty]
        self.h4_districts = set(np.flatnonzero(self.dirty & (self.quality >= (np.median(dq) if len(dq) else 0))))
        # H5: the planted night hour (day, hour) per bad month; Spring Festival night when in range
        self.h5_plant: dict[date, int] = {}
        for k, m0 in enumerate(self.months):
            if self.h5_bad(k):
                last = min(_month_end(m0), end)
                days = [m0 + timedelta(days=i) for i in range((last - m0).days + 1)]
                festival = [x for x in days if x >= start and _festival(x)]
                if festival:  # a night in the middle of Spring Festival / National Day
                    day_ = festival[len(festival) // 2]
                else:
                    day_ = days[int(init.integers(0, len(days)))]
                if day_ >= start:
                    self.h5_plant[day_] = int(init.integers(2, 5))

    # -- patterns
    def month_index(self, d: date) -> int:
        return (d.year - self.start.year) * 12 + d.month - self.start.month

    def bad(self, measure: str, k: int) -> bool:
        """Planted-bad month for a measure (alternating months, phase from the rng)."""
        return (k + self._phase[measure]) % 2 == 0

    def h32_bad(self, k: int) -> bool:
        # a misrouting rate above its limit also breaks the success rate: plant H3.2 only where H3.1 fails
        return self.bad("H3.1", k) and (k // 2) % 2 == 0

    def p1_bad(self, group: int, k: int) -> bool:
        """P1 planted months: VIP (group 1) and ordinary (0) fail in different months, a third month is clean."""
        return (k + self._phase["P1"] + 2 * group) % 3 == 0

    def h5_bad(self, k: int) -> bool:
        return self.months[k].month == 2 or k % 3 == 2

    def _rng(self, d: date, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, d.toordinal(), stream])

    def _eligible(self, d: date) -> int:
        """Customers opened on or before d (the population is ordered by opening date)."""
        if not self._sorted_open:
            return self.n
        if self._eligible_cache[0] != d:
            dn = np.int32((d - date(1970, 1, 1)).days)
            self._eligible_cache = (d, int(np.searchsorted(self._opened_days, dn, side="right")))
        return self._eligible_cache[1]

    def _sample_customers(self, rng: np.random.Generator, d: date, k: int) -> np.ndarray:
        n_el = self._eligible(d)
        if n_el == 0 or k == 0:
            return np.empty(0, dtype=np.int64)
        return rng.integers(0, n_el, k)

    def _sample_vips(self, rng: np.random.Generator, d: date, k: int) -> np.ndarray:
        dn = (d - date(1970, 1, 1)).days
        n_el = (
            int(np.searchsorted(self._vip_open, np.int32(dn), side="right")) if self._sorted_open else len(self.vip_idx)
        )
        if n_el == 0 or k == 0:
            return np.empty(0, dtype=np.int64)
        return self.vip_idx[rng.integers(0, n_el, k)]

    def _volume(self, d: date, per_household_month: float) -> float:
        y = d.year
        if y not in self._mean_factor:
            days = [date(y, 1, 1) + timedelta(days=i) for i in range(366 if calendar.isleap(y) else 365)]
            self._mean_factor[y] = float(np.mean([day_factor(x) for x in days]))
        return self._eligible(d) * per_household_month * 12 / 365 * day_factor(d) / self._mean_factor[y]

    # -- the day
    def day(self, d: date) -> dict[str, Iterable[dict]]:
        """The exports of business date d (ask for dates in increasing order)."""
        if self._last_day is not None and d <= self._last_day:
            raise ValueError(f"ContactsSimulator.day({d}): dates must increase (last was {self._last_day})")
        self._last_day = d
        calls, surveys = self._calls(d)
        out: dict[str, Iterable[dict]] = {
            "calls": calls,
            "surveys": surveys,
            "outbound": self._outbound(d),
            "hall_visits": self._hall_visits(d),
            "suspensions": self._suspensions(d),
        }
        out["works"], out["work_notices"] = self._works(d)
        self._plan_c7(d)
        self._add_c6(d)
        out["callbacks"] = self._emit_callbacks(d)
        return out

    # ------------------------------------------------------------------------- calls
    def _calls(self, d: date) -> tuple[Iterator[dict], Iterator[dict]]:
        r, pop = self.rates, self.pop
        rng = self._rng(d, 1)
        k_month = self.month_index(d)
        expected = self._volume(d, r.calls_per_household_month)
        vip_share = len(self.vip_idx) / max(1, self.n)
        n_base = int(rng.poisson(expected * (1 - vip_share)))
        n_vip = int(rng.poisson(expected * vip_share * r.vip_call_multiplier))
        plant_hour = self.h5_plant.get(d)
        n_inj = r.h5_injected_calls if plant_hour is not None else 0
        n = n_base + n_vip + n_inj

        # arrival seconds after midnight, by the diurnal profile
        hour = rng.choice(24, size=n, p=diurnal(d))
        arr = hour * 3600 + rng.integers(0, 3600, n)
        cust = np.full(n, -1, dtype=np.int64)
        ctype = _choice(rng, r.call_type_shares, n)
        ident = rng.random(n) < r.identified_share
        base_c = self._sample_customers(rng, d, n_base)
        if len(base_c) == n_base:
            cust[:n_base] = np.where(ident[:n_base], base_c, -1)
        vips = self._sample_vips(rng, d, n_vip)
        if len(vips) == n_vip:
            cust[n_base : n_base + n_vip] = vips
        # repeat callers: same customer and type as a call of the last 6 days (R3)
        if self._recent_callers:
            rc = np.concatenate([x[0] for x in self._recent_callers])
            rt = np.concatenate([x[1] for x in self._recent_callers])
            rep = np.flatnonzero(rng.random(n_base + n_vip) < r.repeat_share) if len(rc) else np.empty(0, int)
            pick = rng.integers(0, len(rc), len(rep)) if len(rc) else np.empty(0, int)
            cust[rep], ctype[rep] = rc[pick], rt[pick]
        # H5: injected unidentified fault calls in the planted hour
        inj = np.zeros(n, dtype=bool)
        if n_inj:
            # the planted night hour: the planned one, or a neighbour without VIP fault calls (the VIP queue
            # keeps answering, only the ordinary queue and so the company go unanswered)
            vip_fault = (cust >= 0) & self.is_vip[np.maximum(cust, 0)] & (ctype == CALL_TYPES.index("fault"))
            for h in (plant_hour, 3, 2, 4, 1, 5):
                if not (vip_fault & (arr >= h * 3600 - 60) & (arr < (h + 1) * 3600)).any():
                    plant_hour = h
                    break
            inj[n - n_inj :] = True
            arr[inj] = plant_hour * 3600 + rng.integers(300, 2400, n_inj)
            cust[inj] = -1
            ctype[inj] = CALL_TYPES.index("fault")
        order = np.argsort(arr, kind="stable")
        arr, cust, ctype, inj = arr[order], cust[order], ctype[order], inj[order]

        known = cust >= 0
        safe = np.where(known, cust, 0)
        vip = known & self.is_vip[safe]
        dist = np.where(known, pop.district_idx[safe], -1)
        tier_code = np.where(known, pop.tier_code[safe], list(self.tiers).index("ordinary"))
        human = rng.random(n) < np.where(vip, r.human_share_vip, r.human_share_other)
        human[inj] = True
        queued = arr + rng.integers(8, 60, n)

        # service level: VIP queue by the H1 plan (per district), ordinary queue at random
        within = np.zeros(n, dtype=bool)
        hv = np.flatnonzero(human & vip)
        spec = {
            int(dd): (("H1", k_month, int(dd)), 1 - self.h1_target[dd, k_month], self.h1_mode[dd, k_month])
            for dd in np.unique(dist[hv])
        }
        late_vip = self.quota.draw(dist[hv], spec)
        within[hv] = ~late_vip
        ho = np.flatnonzero(human & ~vip)
        within[ho] = rng.random(len(ho)) < r.ordinary_service_level
        abandoned = human & ~within & (rng.random(n) < r.late_abandon_share)
        # H5: the planted hour has no answered fault call; every other hour has one
        fault_h = human & (ctype == CALL_TYPES.index("fault"))
        qhour = queued // 3600
        if plant_hour is not None:
            hit = fault_h & (qhour == plant_hour)
            within[hit], abandoned[hit] = False, True
        queue_code = vip.astype(np.int64)
        grp = qhour * 2 + queue_code
        for g in np.unique(grp[fault_h]):
            if plant_hour is not None and g // 2 == plant_hour:
                continue
            members = np.flatnonzero(fault_h & (grp == g))
            if abandoned[members].all():
                abandoned[members[0]] = False
        answered = human & ~abandoned
        wait = np.where(
            within,
            rng.integers(0, self._h1_limit + 1, n),
            np.where(abandoned, rng.integers(1, 180, n), rng.integers(self._h1_limit + 1, 240, n)),
        )
        ans_at = queued + wait
        talk1 = np.clip(rng.lognormal(5.0, 0.7, n).astype(np.int64), 20, 3000)

        # transfers of answered calls
        ttype = np.zeros(n, dtype=np.int64)  # 0 none, 1 expert, 2 self_service
        a_idx = np.flatnonzero(answered)
        qspec = {}
        for q in (0, 1):  # 0 ordinary, 1 vip
            fail = q == 0 and self.bad("H3.3", k_month)
            qspec[q] = (
                ("H3.3", k_month, q),
                r.self_service_fail if fail else r.self_service_pass,
                Quota.AT_MOST if fail else Quota.AT_LEAST,
            )
        ss = self.quota.draw(queue_code[a_idx], qspec)
        ttype[a_idx[ss]] = 2
        rest = a_idx[~ss]
        ttype[rest[rng.random(len(rest)) < r.expert_share]] = 1
        transferred = ttype > 0
        requested = np.where(vip, True, rng.random(n) < r.ordinary_transfer_requested)
        vt = np.flatnonzero(transferred & vip)
        if self.bad("H4", k_month) and len(vt):
            sel = vt[np.isin(dist[vt], list(self.h4_districts))]
            if len(sel):
                un = self.quota.draw(
                    dist[sel],
                    {
                        int(dd): (("H4", k_month, int(dd)), r.unrequested_transfer_rate, Quota.AT_LEAST)
                        for dd in np.unique(dist[sel])
                    },
                )
                requested[sel[un]] = False
        outcome = np.zeros(n, dtype=np.int64)  # 0 success, 1 failed, 2 misrouted
        t_wait = np.zeros(n, dtype=np.int64)
        ex = np.flatnonzero(ttype == 1)
        mis = self.quota.draw(
            queue_code[ex],
            {
                q: (
                    ("H2.2", k_month, q),
                    *self._rate_mode(q == 0 and self.bad("H2.2", k_month), r.expert_misroute_fail, r.misroute_pass),
                )
                for q in (0, 1)
            },
        )
        late = self.quota.draw(
            queue_code[ex],
            {
                q: (
                    ("H2.1", k_month, q),
                    *self._rate_mode(q == 0 and self.bad("H2.1", k_month), r.expert_late_fail, r.expert_late_pass),
                )
                for q in (0, 1)
            },
        )
        outcome[ex[mis]] = 2
        failed_ex = ~mis & late & (rng.random(len(ex)) < r.expert_failed_share_of_late)
        outcome[ex[failed_ex]] = 1
        t_wait[ex] = np.where(
            late, rng.integers(self._h2_limit + 1, 200, len(ex)), rng.integers(0, self._h2_limit + 1, len(ex))
        )
        sv = np.flatnonzero(ttype == 2)
        mis_s = self.quota.draw(
            queue_code[sv],
            {
                q: (
                    ("H3.2", k_month, q),
                    *self._rate_mode(q == 0 and self.h32_bad(k_month), r.self_misroute_fail, r.misroute_pass),
                )
                for q in (0, 1)
            },
        )
        fail_s = self.quota.draw(
            queue_code[sv[~mis_s]],
            {
                q: (
                    ("H3.1", k_month, q),
                    *self._rate_mode(q == 0 and self.bad("H3.1", k_month), r.self_failed_fail, r.self_failed_pass),
                )
                for q in (0, 1)
            },
        )
        outcome[sv[mis_s]] = 2
        outcome[sv[~mis_s][fail_s]] = 1
        t_wait[sv] = rng.integers(1, 6, len(sv))
        t_q = ans_at + np.minimum(talk1, rng.integers(20, 120, n))
        t_ans_ok = transferred & (outcome != 1)
        t_ans = t_q + t_wait
        talk2 = rng.integers(30, 500, n)
        ended = np.where(
            ~human,
            arr + rng.integers(20, 150, n),
            np.where(
                abandoned,
                queued + wait,
                np.where(
                    ~transferred, ans_at + talk1, np.where(t_ans_ok, t_ans + talk2, t_q + rng.integers(10, 120, n))
                ),
            ),
        )
        talk = np.where(answered, ended - ans_at, 0)
        agent = np.where(vip, rng.integers(1, self.n_vip_agents + 1, n), rng.integers(1, self.n_agents + 1, n))

        # remember identified callers for repeat calls
        self._recent_callers.append((cust[known].copy(), ctype[known].copy()))

        day64 = np.datetime64(d, "s")
        stamp = d.strftime("%Y%m%d")
        ids = np.array(self.district_ids + [None], dtype=object)
        agent_ids = np.where(
            vip,
            np.char.add("VA", np.char.zfill(agent.astype(str), 3)),
            np.char.add("A", np.char.zfill(agent.astype(str), 4)),
        )
        phones = np.where(known, self.phones(safe), (13_000_000_000 + rng.integers(0, 999_999_999, n)).astype(str))
        cols = [
            [f"HC{stamp}{i:07d}" for i in range(1, n + 1)],
            phones.tolist(),
            _masked(self.pop.customer_id[safe], known),
            self.tiers[tier_code].tolist(),
            ids[dist].tolist(),
            np.where(vip, "vip", "ordinary").tolist(),
            np.array(CALL_TYPES, dtype=object)[ctype].tolist(),
            _stamps(day64, arr, None, "calls"),
            human.tolist(),
            _stamps(day64, queued, human, "calls"),
            _stamps(day64, ans_at, answered, "calls"),
            _stamps(day64, ended, None, "calls"),
            _masked(talk, answered),
            abandoned.tolist(),
            _masked(agent_ids, answered),
            np.array(["none", "expert", "self_service"], dtype=object)[ttype].tolist(),
            _masked(requested, transferred),
            _stamps(day64, t_q, transferred, "calls"),
            _stamps(day64, t_ans, t_ans_ok, "calls"),
            _masked(np.array(["success", "failed", "misrouted"], dtype=object)[outcome], transferred),
        ]
        surveys = self._surveys_for(d, rng, cust, tier_code, dist, answered, ended, k_month, stamp)
        return _rows("calls", cols), surveys

    def phones(self, idx: np.ndarray) -> np.ndarray:
        """Customers' phone numbers, vectorised; the same as Population.customer_phone(i)."""
        if hasattr(self.pop, "customer_phones"):
            return np.asarray(self.pop.customer_phones(idx))
        from generator.population import _MOBILE_PREFIXES

        def mix(x: np.ndarray) -> np.ndarray:
            x = x + np.uint64(0x9E3779B97F4A7C15)
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            return x ^ (x >> np.uint64(31))

        with np.errstate(over="ignore"):
            state = mix(np.uint64(self.pop.seed * 1_000_003) + np.asarray(idx).astype(np.uint64))
            state = state ^ np.uint64(0x5DEECE66D)
            state = mix(state)
            prefix = np.array(_MOBILE_PREFIXES)[(state % np.uint64(len(_MOBILE_PREFIXES))).astype(np.int64)]
            state = mix(state)
            number = np.char.zfill((state % np.uint64(100_000_000)).astype(str), 8)
        return np.char.add(prefix, number)

    @staticmethod
    def _rate_mode(fail: bool, fail_rate: float, pass_rate: float) -> tuple[float, float]:
        return (fail_rate, Quota.AT_LEAST) if fail else (pass_rate, Quota.AT_MOST)

    # ------------------------------------------------------------------------- surveys (S1)
    def _surveys_for(
        self,
        d: date,
        rng: np.random.Generator,
        cust: np.ndarray,
        tier_code: np.ndarray,
        dist: np.ndarray,
        answered: np.ndarray,
        ended: np.ndarray,
        k_month: int,
        stamp: str,
    ) -> Iterator[dict]:
        r = self.rates
        n = len(cust)
        at = ended + rng.integers(60, 600, n)
        pick = np.flatnonzero(answered & (cust >= 0) & (rng.random(n) < r.survey_share) & (at < DAY))
        u = rng.random(len(pick))
        invalid = np.where(u < r.survey_unreachable, 1, np.where(u < r.survey_unreachable + r.survey_refused, 2, 0))
        tiers = self.tiers[tier_code[pick]]
        groups = np.array([brand_group(t) for t in tiers], dtype=object)
        codes = {"gotone_vip": 0, "gotone": 1, "other": 2}
        gcode = np.array([codes[g] for g in groups], dtype=np.int64)
        valid = invalid == 0
        spec = {}
        for g, c in codes.items():
            target = self._s1.target_for(g)
            fail = (k_month + self._phase["S1"] + c) % 2 == 0
            rate = 1 - (target - r.satisfaction_margin_fail if fail else target + r.satisfaction_margin_pass)
            spec[c] = (("S1", k_month, c), max(0.0, rate), Quota.AT_LEAST if fail else Quota.AT_MOST)
        unhappy = np.zeros(len(pick), dtype=bool)
        unhappy[valid] = self.quota.draw(gcode[valid], spec)
        score = np.where(unhappy, rng.integers(1, 4, len(pick)), rng.integers(4, 6, len(pick)))
        answer = np.where(
            invalid == 1, "unreachable", np.where(invalid == 2, "refused", np.char.add("score_", score.astype(str)))
        )
        day64 = np.datetime64(d, "s")
        times = _stamps(day64, at[pick], None, "surveys")
        cols = (cust[pick].tolist(), tiers.tolist(), dist[pick].tolist(), answer.tolist(), pick.tolist())

        def rows() -> Iterator[dict]:
            cid = self.pop.customer_id
            for j, (ci, tier, dd, ans, call_i) in enumerate(zip(*cols)):
                yield {
                    "survey_id": f"SH{stamp}{j + 1:06d}",
                    "channel": "hotline",
                    "call_id": f"HC{stamp}{call_i + 1:07d}",
                    "ticket_id": None,
                    "customer_id": str(cid[ci]),
                    "customer_tier": tier,
                    "district_id": self.district_ids[dd],
                    "surveyed_at": times[j],
                    "answer": ans,
                }

        return rows()

    # ------------------------------------------------------------------------- outbound (P1, C8)
    def _plan_p1(self, k: int) -> None:
        """Planted phone-call chains ending in month k: day -> [(tier group 1=vip/0=ordinary, offsets)].

        Planned on the first day of month k-1 (chains start at most 20 days before their last
        call), so only two months of plans are held at a time.

        A breaching chain ends inside a planted-bad month of its tier group (VIP: 2 calls,
        ordinary: 3 calls within the window); some start in the month before, so the window
        crosses a month boundary. Ordinary pairs (2 calls: at the limit, no breach) run every month.
        """
        if k in self._p1_planned or k >= len(self.months):
            return
        self._p1_planned.add(k)
        rng = np.random.default_rng([self.seed, 9, k])
        plan = self._p1_plan
        r = self.rates
        n_vip = len(self.vip_idx)
        sizes = {1: n_vip, 0: self.n - n_vip}
        for m0 in (self.months[k],):
            last = min(_month_end(m0), self.end)
            span = (last - m0).days + 1
            for g in (0, 1):
                fail = self.p1_bad(g, k)
                jobs: list[tuple[bool, int]] = []
                if fail and sizes[g]:
                    kk = max(2, int(round(sizes[g] / 1000 * r.p1_breaches_per_thousand)))
                    jobs += [(True, int(rng.integers(0, span))) for _ in range(kk)]
                    jobs.append((True, int(rng.integers(0, min(5, span)))))  # crosses the month start
                if g == 0 and sizes[g]:
                    kk = max(2, int(round(sizes[g] / 1000 * r.p1_pairs_per_thousand)))
                    jobs += [(False, int(rng.integers(0, span))) for _ in range(kk)]
                for breach, off in jobs:
                    hit = m0 + timedelta(days=off)  # the chain's last call
                    first = max(self.start, hit - timedelta(days=int(rng.integers(3, 21))))
                    total = (hit - first).days
                    three = breach and g == 0  # ordinary: the third call breaches
                    if total < (2 if three else 1):
                        continue
                    offs = [int(rng.integers(1, total)), total] if three else [total]
                    plan.setdefault(first, []).append((g, offs))

    def _blocked(self, c: np.ndarray, dn: int) -> np.ndarray:
        return (self._last_phone[c] > dn - self._p1_window - 1) | self._pending[c]

    def _outbound(self, d: date) -> Iterator[dict]:
        r = self.rates
        rng = self._rng(d, 2)
        dn = (d - self.start).days
        purposes = list(r.outbound_purposes)
        care_code = purposes.index("care")
        rows_c: list[np.ndarray] = []  # customer
        rows_p: list[np.ndarray] = []  # purpose code
        rows_ch: list[np.ndarray] = []  # 0 phone, 1 sms, 2 visit

        def add(c: np.ndarray, p: np.ndarray, ch: np.ndarray) -> None:
            rows_c.append(c.astype(np.int64))
            rows_p.append(p.astype(np.int64))
            rows_ch.append(ch.astype(np.int64))
            ph = c[ch == 0]
            self._last_phone[ph] = dn

        # 1. planted follow-up calls due today (phone, on purpose inside the window)
        due = self._followups.pop(d, [])
        if due:
            c = np.array([x[0] for x in due], dtype=np.int64)
            add(c, np.array([x[1] for x in due]), np.zeros(len(c)))
            last = np.array([x[2] for x in due], dtype=bool)
            self._pending[c[last]] = False
        # 2. planted chains starting today
        k = self.month_index(d)
        self._plan_p1(k)
        self._plan_p1(k + 1)
        for g, offs in self._p1_plan.pop(d, []):
            c = self._pick_unblocked(rng, d, dn, g)
            if c is None:
                continue
            p = int(rng.choice(self._p1_chain_purposes))  # a purpose P1 counts (D-118), so the chain breaches
            add(np.array([c]), np.array([p]), np.zeros(1))
            self._pending[c] = True
            for j, off in enumerate(offs):
                self._followups.setdefault(d + timedelta(days=off), []).append((c, p, j == len(offs) - 1))
        # 3. VIP care (C8)
        care = self._care_today(d)
        if len(care):
            ch = _choice(rng, r.care_channels, len(care))
            ch = np.where((ch == 0) & self._blocked(care, dn), 1, ch)
            add(care, np.full(len(care), care_code), ch)
        # 4. everyday contacts; a phone call that would breach P1 goes out as an SMS instead
        wd = workcal.is_workday(d)
        k = int(rng.poisson(self._eligible(d) * r.outbound_per_household_month * 12 / 365 * (1.0 if wd else 0.3)))
        c = self._sample_customers(rng, d, k)
        if len(c):
            p = _choice(rng, r.outbound_purposes, len(c))
            ch = np.where(rng.random(len(c)) < r.outbound_phone_share, 0, 1)
            _, first = np.unique(c, return_index=True)
            dup = np.ones(len(c), dtype=bool)
            dup[first] = False
            ch = np.where((ch == 0) & (self._blocked(c, dn) | dup), 1, ch)
            add(c, p, ch)
        if not rows_c:
            return iter(())
        cust = np.concatenate(rows_c)
        purp = np.concatenate(rows_p)
        chan = np.concatenate(rows_ch)
        n = len(cust)
        secs = rng.integers(9 * 3600, 20 * 3600, n)
        order = np.argsort(secs, kind="stable")
        cust, purp, chan, secs = cust[order], purp[order], chan[order], secs[order]
        answered = np.where(chan == 0, (purp == care_code) | (rng.random(n) < r.phone_answer_share), True)
        agent = rng.integers(1, self.n_agents + 1, n)
        times = _stamps(np.datetime64(d, "s"), secs, None, "outbound")
        tiers = self.tiers[self.pop.tier_code[cust]].tolist()
        cols = (
            cust.tolist(),
            np.array(purposes, dtype=object)[purp].tolist(),
            np.array(["phone", "sms", "visit"], dtype=object)[chan].tolist(),
            answered.tolist(),
            agent.tolist(),
        )
        stamp = d.strftime("%Y%m%d")

        def rows() -> Iterator[dict]:
            cid = self.pop.customer_id
            for j, (ci, pu, chn, ok, ag) in enumerate(zip(*cols)):
                yield {
                    "contact_id": f"OB{stamp}{j + 1:06d}",
                    "customer_id": str(cid[ci]),
                    "customer_tier": tiers[j],
                    "purpose": pu,
                    "channel": chn,
                    "contacted_at": times[j],
                    "agent_id": f"A{ag:04d}" if chn == "phone" else None,
                    "answered": bool(ok),
                }

        return rows()

    def _pick_unblocked(self, rng: np.random.Generator, d: date, dn: int, group: int) -> int | None:
        for _ in range(20):
            c = self._sample_vips(rng, d, 8) if group == 1 else self._sample_customers(rng, d, 8)
            if len(c) == 0:
                return None
            c = c[(self.is_vip[c] == bool(group)) & ~self._blocked(c, dn)]
            if len(c):
                return int(c[0])
        return None

    def _care_today(self, d: date) -> np.ndarray:
        q0, q1 = _quarter_bounds(d)
        key = (q0.year, q0.month)
        if key not in self._care_plan:
            self._care_plan = {key: self._plan_care(q0, q1)}
        days, cust = self._care_plan[key]
        dn = (d - q0).days
        lo, hi = np.searchsorted(days, dn, "left"), np.searchsorted(days, dn, "right")
        return cust[lo:hi]

    def _plan_care(self, q0: date, q1: date) -> tuple[np.ndarray, np.ndarray]:
        """One care contact per VIP customer per quarter (C8); some VIPs of unclean districts are missed."""
        rng = np.random.default_rng([self.seed, 3, q0.toordinal()])
        v = self.vip_idx
        q0n = (q0 - date(1970, 1, 1)).days
        lo = np.maximum(np.maximum(self._vip_open, q0n), (self.start - date(1970, 1, 1)).days) - q0n
        hi = (min(q1, self.end) - q0).days
        ok = lo <= hi
        miss = rng.random(len(v)) < np.minimum(0.9, self.rates.c8_miss_rate * self.quality[self.pop.district_idx[v]])
        keep = ok & ~miss
        span = np.maximum(hi - lo + 1, 1)
        days = lo + (rng.random(len(v)) * span).astype(np.int64)
        days, cust = days[keep], v[keep]
        order = np.argsort(days, kind="stable")
        return days[order], cust[order]

    # ------------------------------------------------------------------------- halls (B1, B2)
    def _setup_halls(self, rng: np.random.Generator) -> None:
        n_h = max(2, min(int(getattr(self.preset, "halls", 0) or max(2, self.n_districts // 4)), self.n_districts))
        self.hall_district = np.array([k * self.n_districts // n_h for k in range(n_h)], dtype=np.int64)
        # each district is served by the hall of its group (a handful of districts per hall)
        self.district_hall = np.searchsorted(self.hall_district, np.arange(self.n_districts), side="right") - 1
        self.hall_quality = self.quality[self.hall_district].copy()
        if not (self.hall_quality == 0).any():
            self.hall_quality[0] = 0.0
        if not (self.hall_quality > 0).any():
            self.hall_quality[-1] = 1.0
        width = max(3, len(str(n_h)))
        self.hall_ids = [f"H{k + 1:0{width}d}" for k in range(n_h)]
        self.hall_names = [f"{self.district_names[dd].removesuffix('片区')}营业厅" for dd in self.hall_district]

    def _hall_visits(self, d: date) -> Iterator[dict]:
        r = self.rates
        rng = self._rng(d, 4)
        wd = workcal.is_workday(d)
        k = int(rng.poisson(self._eligible(d) * r.hall_visits_per_household_month * 12 / 365 * (1.0 if wd else 0.6)))
        ident = rng.random(k) < r.hall_identified_share
        cust = np.where(ident, self._sample_customers(rng, d, k), -1) if k else np.empty(0, np.int64)
        known = cust >= 0
        safe = np.where(known, cust, 0)
        hall = np.where(known, self.district_hall[self.pop.district_idx[safe]], rng.integers(0, len(self.hall_ids), k))
        tier_code = np.where(known, self.pop.tier_code[safe], list(self.tiers).index("ordinary"))
        tiers = self.tiers[tier_code]
        vip = known & self.is_vip[safe]
        limit = np.where(vip, self._b1["vip"], np.where(tiers == "gotone", self._b1["gotone"], self._b1["other"]))
        taken = rng.integers(int(8.5 * 3600), int(17.5 * 3600), k)
        q = self.hall_quality[hall]
        breach = rng.random(k) < np.minimum(0.9, r.hall_breach_rate * q)
        wait = np.where(
            breach, limit + rng.integers(60, 25 * 60, k), (limit * rng.uniform(0.05, 0.85, k)).astype(np.int64)
        )
        exact = ~breach & (rng.random(k) < r.exact_limit_share)
        wait = np.where(exact, limit, wait)
        unserved = (q > 0) & (rng.random(k) < r.hall_unserved_share)
        card = vip & (rng.random(k) < r.vip_card_share)
        b2_bad = card & (rng.random(k) < np.minimum(0.9, r.b2_breach_rate * q))
        recv = np.where(b2_bad, self._b2 + rng.integers(30, 15 * 60, k), rng.integers(10, self._b2 - 30, k))
        recv_none = b2_bad & (rng.random(k) < 0.3)
        order = np.argsort(taken, kind="stable")
        day64 = np.datetime64(d, "s")
        t_taken = _stamps(day64, taken[order], None, "hall_visits")
        t_served = _stamps(day64, (taken + wait)[order], ~unserved[order], "hall_visits")
        t_recv = _stamps(day64, (taken + recv)[order], (card & ~recv_none)[order], "hall_visits")
        cols = (cust[order].tolist(), hall[order].tolist(), tiers[order].tolist(), card[order].tolist())
        stamp = d.strftime("%Y%m%d")

        def rows() -> Iterator[dict]:
            cid = self.pop.customer_id
            for j, (ci, h, tier, cd) in enumerate(zip(*cols)):
                yield {
                    "visit_id": f"{self.hall_ids[h]}-{stamp}-{j + 1:05d}",
                    "hall_id": self.hall_ids[h],
                    "hall_name": self.hall_names[h],
                    "district_id": self.district_ids[self.hall_district[h]],
                    "customer_id": str(cid[ci]) if ci >= 0 else None,
                    "customer_tier": tier,
                    "ticket_taken_at": t_taken[j],
                    "served_at": t_served[j],
                    "vip_card_shown": bool(cd),
                    "received_at": t_recv[j],
                }

        return rows()

    # ------------------------------------------------------------------------- suspensions (N1)
    def _suspensions(self, d: date) -> Iterator[dict]:
        r = self.rates
        rng = self._rng(d, 5)
        k = int(rng.poisson(self._eligible(d) * r.suspensions_per_household_month * 12 / 365))
        cust = self._sample_customers(rng, d, k)
        dist = self.pop.district_idx[cust] if k else np.empty(0, np.int64)
        at = rng.integers(9 * 60, 18 * 60, k) * 60
        q = self.quality[dist] if k else np.empty(0)
        bad = rng.random(k) < np.minimum(0.9, r.n1_violation * q)
        missing = bad & (rng.random(k) < 0.4)
        lead = np.where(
            bad,
            rng.integers(60, self._n1 // 60 - 1, k) * 60,
            rng.integers(self._n1 // 60 + 120, 4 * self._n1 // 60, k) * 60,
        )
        lead = np.where(~bad & (rng.random(k) < r.exact_limit_share * 3), self._n1, lead)
        order = np.argsort(at, kind="stable")
        day64 = np.datetime64(d, "s")
        t_susp = _stamps(day64, at[order], None, "suspensions")
        t_note = _stamps(day64, (at - lead)[order], ~missing[order], "suspensions")
        cols = (cust[order].tolist(), dist[order].tolist())
        stamp = d.strftime("%Y%m%d")

        def rows() -> Iterator[dict]:
            cid = self.pop.customer_id
            for j, (ci, dd) in enumerate(zip(*cols)):
                yield {
                    "suspension_id": f"TJ{stamp}{j + 1:06d}",
                    "customer_id": str(cid[ci]),
                    "district_id": self.district_ids[dd],
                    "notice_at": t_note[j],
                    "suspended_at": t_susp[j],
                }

        return rows()

    # ------------------------------------------------------------------------- works (N2) and cut-overs (C5)
    def _works(self, d: date) -> tuple[list[dict], list[dict]]:
        r = self.rates
        rng = self._rng(d, 6)
        k = int(rng.poisson(r.works_per_district_month * 12 / 365 * self.n_districts))
        kinds = list(r.work_kinds)
        works: list[dict] = []
        notices: list[dict] = []
        stamp = d.strftime("%Y%m%d")
        day0 = datetime(d.year, d.month, d.day)
        fmt_w, fmt_n = formats.FORMATS["works"], formats.FORMATS["work_notices"]
        for j in range(k):
            dd = int(rng.integers(0, self.n_districts))
            kind = kinds[int(_choice(rng, r.work_kinds, 1)[0])]
            if kind == "cutover":
                start_at = day0 + timedelta(minutes=int(rng.integers(0, 4 * 60)))
                end_at = start_at + timedelta(minutes=int(rng.integers(60, 5 * 60)))
            else:
                start_at = day0 + timedelta(minutes=int(rng.integers(8 * 60, 16 * 60)))
                end_at = start_at + timedelta(minutes=int(rng.integers(120, 8 * 60)))
            wid = f"GC{stamp}{j + 1:04d}"
            works.append(
                {
                    "work_id": wid,
                    "work_kind": kind,
                    "district_id": self.district_ids[dd],
                    "start_at": formats.truncate(start_at, fmt_w),
                    "end_at": formats.truncate(end_at, fmt_w),
                }
            )
            members = self.pop.customers_in(dd)
            dn = (d - date(1970, 1, 1)).days
            members = members[self._opened_days[members] <= dn]
            m = min(len(members), int(rng.integers(*r.work_customers)))
            if m == 0:
                continue
            affected = np.sort(rng.choice(members, size=m, replace=False))
            q = float(self.quality[dd])
            for ci in affected.tolist():
                u = rng.random()
                if u < min(0.9, r.n2_violation * q):
                    note = (
                        None
                        if rng.random() < 0.4
                        else start_at - timedelta(minutes=int(rng.integers(4 * 60, self._n2 // 60 - 1)))
                    )
                elif u > 1 - r.exact_limit_share * 2:
                    note = start_at - timedelta(seconds=self._n2)
                else:
                    note = start_at - timedelta(minutes=int(rng.integers(self._n2 // 60 + 120, 6 * 24 * 60)))
                notices.append(
                    {
                        "work_id": wid,
                        "customer_id": str(self.pop.customer_id[ci]),
                        "notified_at": formats.truncate(note, fmt_n),
                    }
                )
                if kind == "cutover":
                    self._plan_cutover_callback(rng, wid, ci, dd, end_at, q)
        return works, notices

    def _plan_cutover_callback(
        self, rng: np.random.Generator, wid: str, ci: int, dd: int, end_at: datetime, q: float
    ) -> None:
        r = self.rates
        u = rng.random()
        if u < min(0.9, r.c5_violation * q):
            if rng.random() < 0.4:
                return  # never called back
            day_ = workcal.nth_working_day_after(end_at.date(), int(rng.integers(3, 5)))
        else:
            day_ = workcal.nth_working_day_after(end_at.date(), int(rng.integers(1, 3)))
        at = datetime.combine(day_, datetime.min.time()) + timedelta(seconds=int(rng.integers(9 * 3600, 18 * 3600)))
        self._callbacks.setdefault(day_, []).append(
            {"work_id": wid, "customer": ci, "district": dd, "reason": "cutover", "channel": "phone", "at": at}
        )

    # ------------------------------------------------------------------------- C6 and C7 callbacks
    def _plan_c6(self, rng: np.random.Generator) -> dict[date, list[int]]:
        """Red VIP SMS callbacks over each year: clean districts ahead of the linear pace, some others behind."""
        from generator.population import TIERS

        red = np.flatnonzero(self.pop.tier_code == TIERS.index("red_vip"))
        plan: dict[date, list[int]] = {}
        dirty = np.flatnonzero(self.dirty)
        behind = set(dirty[rng.random(len(dirty)) < self.rates.c6_behind_share].tolist())
        if len(dirty) and not behind:
            behind = {int(dirty[0])}
        if len(behind) == len(dirty) and len(dirty) > 1:
            behind.discard(int(dirty[-1]))
        self.c6_behind = behind
        by_d = self.pop.district_idx[red]
        for y in range(self.start.year, self.end.year + 1):
            y0 = date(y, 1, 1)
            for dd in range(self.n_districts):
                members = red[by_d == dd]
                members = members[rng.permutation(len(members))]
                n = len(members)
                for i, ci in enumerate(members.tolist()):
                    if dd in behind:
                        # the (i+1)-th callback when behind_pace x the linear pace reaches it: always behind
                        off = int(np.ceil((i + 1) / (self.rates.c6_behind_pace * n) * 365))
                    else:
                        off = int(i * 280 / n)  # ahead: done by early October
                    day_ = y0 + timedelta(days=off)
                    opened = self.pop.opened[ci].astype(object)
                    day_ = max(day_, opened + timedelta(days=1))
                    if day_.year == y and self.start <= day_ <= self.end:
                        plan.setdefault(day_, []).append(ci)
        return plan

    def _add_c6(self, d: date) -> None:
        rng = self._rng(d, 7)
        for ci in self._c6_plan.pop(d, []):
            at = datetime.combine(d, datetime.min.time()) + timedelta(seconds=int(rng.integers(9 * 3600, 20 * 3600)))
            self._callbacks.setdefault(d, []).append(
                {
                    "work_id": None,
                    "customer": ci,
                    "district": int(self.pop.district_idx[ci]),
                    "reason": "red_vip_sms",
                    "channel": "sms",
                    "at": at,
                }
            )

    def _plan_c7(self, d: date) -> None:
        """At each month's first business date: project callbacks due this month (monthly in the
        first year after delivery, once a quarter after); some missed in unclean districts."""
        m0 = _month_start(d)
        if m0 in self._c7_done:
            return
        self._c7_done.add(m0)
        rng = np.random.default_rng([self.seed, 8, m0.toordinal()])
        m1 = min(_month_end(m0), self.end)
        proj = np.flatnonzero(self.pop.is_project)
        if len(proj) == 0:
            return
        deliv = self.pop.project_delivery[proj]
        ok = ~np.isnat(deliv)
        proj, deliv = proj[ok], deliv[ok]
        m0_64, m1_64 = np.datetime64(m0), np.datetime64(m1)
        first_year = deliv + np.timedelta64(395, "D") >= m0_64  # a month of slack around the anniversary
        mid_quarter = m0.month % 3 == 2 or (m0 == _month_start(self.start) and m0.month % 3 == 0)
        due = (deliv < m1_64) & (first_year | mid_quarter)
        q = self.quality[self.pop.district_idx[proj]]
        miss = rng.random(len(proj)) < np.minimum(0.9, self.rates.c7_miss_rate * q)
        for ci, dl in zip(proj[due & ~miss].tolist(), deliv[due & ~miss].tolist()):
            lo = max(m0, dl, self.start)  # the delivery day itself counts
            if lo > m1:
                continue
            day_ = lo + timedelta(days=int(rng.integers(0, (m1 - lo).days + 1)))
            at = datetime.combine(day_, datetime.min.time()) + timedelta(seconds=int(rng.integers(9 * 3600, 18 * 3600)))
            self._callbacks.setdefault(day_, []).append(
                {
                    "work_id": None,
                    "customer": ci,
                    "district": int(self.pop.district_idx[ci]),
                    "reason": "project",
                    "channel": "phone",
                    "at": at,
                }
            )

    def _emit_callbacks(self, d: date) -> list[dict]:
        items = sorted(self._callbacks.pop(d, []), key=lambda x: (x["at"], x["customer"]))
        # drop anything planned for a day already past (cannot happen when days are asked in order)
        for old in [k for k in self._callbacks if k < d]:
            del self._callbacks[old]
        fmt = formats.FORMATS["callbacks"]
        stamp = d.strftime("%Y%m%d")
        return [
            {
                "callback_id": f"CC{stamp}{j + 1:06d}",
                "ticket_id": None,
                "work_id": x["work_id"],
                "customer_id": str(self.pop.customer_id[x["customer"]]),
                "district_id": self.district_ids[x["district"]],
                "reason": x["reason"],
                "channel": x["channel"],
                "callback_at": formats.truncate(x["at"], fmt),
                "outcome": "reached",
                "repair_needed": None,
                "problem_handled_at": None,
                "repair_dispatched_at": None,
            }
            for j, x in enumerate(items)
        ]

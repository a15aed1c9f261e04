"""The PRC working-day calendar (工作日): official holidays and 调休 make-up days.

Years known to `chinese-calendar` come from it; any date can be overridden, and
a year not yet published can be added by hand, in dbt_project/seeds/workday_overrides.csv (a dbt seed too)
(date,is_workday,note) without code changes. For a year with neither, asking
about a date raises an error naming the file to edit: a deadline is never
silently computed on a guessed calendar.

Definitions (docs/decisions.md):
- "≤ N wd" from a start time: deadline = end (24:00) of the N-th working day
  after the start's calendar date; the start date itself never counts.
- "same day": the same calendar date, no grace period.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import chinese_calendar

# The overrides file is also a dbt seed: one file serves Python and the warehouse.
OVERRIDES_FILE = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "workday_overrides.csv"


class CalendarYearUnknown(LookupError):
    pass


@lru_cache(maxsize=4)
def _overrides(path: str) -> dict[date, bool]:
    out: dict[date, bool] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh), start=2):
            try:
                out[date.fromisoformat(row["date"].strip())] = row["is_workday"].strip().lower() in {
                    "1",
                    "true",
                    "yes",
                    "是",
                }
            except (KeyError, ValueError) as exc:
                raise ValueError(
                    f"{path}: row {i}: expected date=YYYY-MM-DD and is_workday=true/false ({exc})"
                ) from exc
    return out


@lru_cache(maxsize=1)
def _override_years(path: str) -> frozenset[int]:
    return frozenset(d.year for d in _overrides(path))


@lru_cache(maxsize=8192)
def is_workday(d: date, overrides: str = str(OVERRIDES_FILE)) -> bool:
    ov = _overrides(overrides)
    if d in ov:
        return ov[d]
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        if d.year in _override_years(overrides):
            return d.weekday() < 5  # a hand-added year lists its exceptions only
        raise CalendarYearUnknown(
            f"no official working-day calendar for {d.year}: add that year's holidays and "
            f"make-up working days to {overrides} (date,is_workday,note)"
        ) from None


def nth_working_day_after(d: date, n: int) -> date:
    """The N-th working day strictly after date d (n >= 1)."""
    if n < 1:
        raise ValueError("n must be >= 1")
    cur, seen = d, 0
    while seen < n:
        cur += timedelta(days=1)
        if is_workday(cur):
            seen += 1
    return cur


def end_of_nth_working_day(start: datetime | date, n: int) -> datetime:
    """Deadline for "within N working days": 24:00 of the N-th working day after start's date."""
    d = start.date() if isinstance(start, datetime) else start
    return datetime.combine(nth_working_day_after(d, n) + timedelta(days=1), time.min)


def same_day(a: datetime, b: datetime) -> bool:
    return a.date() == b.date()


def working_days_between(a: date, b: date) -> list[date]:
    """Working days in [a, b]."""
    out, cur = [], a
    while cur <= b:
        if is_workday(cur):
            out.append(cur)
        cur += timedelta(days=1)
    return out

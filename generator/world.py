"""The generated world: population, tickets and contacts, delivered as nightly exports.

`World(preset, seed).days()` yields, for each business date in order, the
exports delivered that night (entity -> iterable of canonical rows, timestamps
already truncated to the export's precision). Export-day semantics:

- districts, technicians (full history) and customers (full list) on day 1;
  later days carry a `customers` file of the customers opened that day and a
  full `technicians` snapshot when an assignment changes;
- district_households: one row per district for month M on M's last day;
- tickets on every date they change, pauses on the date they end, callbacks,
  surveys, calls and the contacts side on their event's date.

Nothing is materialised for the whole period: the simulators keep a bounded
window of future events, and every iterable is lazy where it can be.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from generator import presets
from generator.contacts import ContactsSimulator
from generator.formats import FORMATS, truncate
from generator.population import Population, build_population, month_key
from generator.tickets import TicketSimulator
from kefu import contract

# the order entities are delivered (and fed to the answer key) within a day: reference data first
ENTITY_ORDER: tuple[str, ...] = (
    "districts",
    "district_households",
    "technicians",
    "customers",
    "tickets",
    "ticket_pauses",
    "calls",
    "surveys",
    "callbacks",
    "outbound",
    "hall_visits",
    "suspensions",
    "works",
    "work_notices",
)


def _ts_columns(entity: str) -> list[str]:
    return [c.name for c in contract.entity(entity).columns if c.type == "timestamp"]


class World:
    """Population + ticket simulator + contacts simulator (see module doc)."""

    def __init__(self, preset_name: str, seed: int, months: int | None = None):
        self.preset = presets.get(preset_name).with_months(months)
        self.seed = seed
        pop_ss, tick_ss, cont_ss = np.random.SeedSequence(seed).spawn(3)
        self.population: Population = build_population(self.preset, np.random.default_rng(pop_ss), seed=seed)
        self.start: date = self.population.start
        self.end: date = self.population.end
        self.tickets = TicketSimulator(
            self.population, self.preset, np.random.default_rng(tick_ss), self.start, self.end
        )
        self.contacts = ContactsSimulator(
            self.population, self.preset, np.random.default_rng(cont_ss), self.start, self.end
        )
        self._ts = {e: _ts_columns(e) for e in ENTITY_ORDER}
        self._moves = {r["valid_from"] for r in self.population.technicians if r["valid_from"] > self.start}

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    def days(self) -> Iterator[tuple[date, dict[str, Iterable[dict]]]]:
        d = self.start
        while d <= self.end:
            yield d, self._exports(d)
            d += timedelta(days=1)

    # ------------------------------------------------------------------ one night
    def _exports(self, d: date) -> dict[str, Iterable[dict]]:
        parts: dict[str, list[Iterable[dict]]] = {e: [] for e in ENTITY_ORDER}
        pop = self.population
        if d == self.start:
            parts["districts"].append(list(pop.districts))
        if d == self.start or d in self._moves:
            parts["technicians"].append(self._technicians_as_of(d))
        parts["customers"].append(self._customers(d))
        if d.day == calendar.monthrange(d.year, d.month)[1]:
            m = month_key(d)
            parts["district_households"].append(
                [
                    {
                        "district_id": r["district_id"],
                        "month": m,
                        "households": pop.district_households[(r["district_id"], m)][0],
                        "households_target": pop.district_households[(r["district_id"], m)][1],
                    }
                    for r in pop.districts
                ]
            )
        for source in (self.tickets.day(d), self.contacts.day(d)):
            for entity, rows in source.items():
                parts[entity].append(rows)
        return {e: self._truncated(e, p) for e, p in parts.items() if p}

    def _truncated(self, entity: str, parts: list[Iterable[dict]]) -> Iterator[dict]:
        cols, fmt = self._ts[entity], FORMATS[entity]
        for rows in parts:
            for r in rows:
                for c in cols:
                    v = r.get(c)
                    if v is not None:
                        r[c] = truncate(v, fmt)
                yield r

    def _technicians_as_of(self, d: date) -> list[dict[str, Any]]:
        """The assignment history as the CRM shows it on d (a future move is not known yet)."""
        out = []
        for r in self.population.technicians:
            if r["valid_from"] > d:
                continue
            ended = r["valid_to"] is not None and r["valid_to"] < d
            out.append({**r, "valid_to": r["valid_to"] if ended else None})
        return out

    def _customers(self, d: date) -> Iterator[dict]:
        pop = self.population
        opened = pop.opened  # customers are numbered in opening order
        lo = 0 if d == self.start else int(np.searchsorted(opened, np.datetime64(d), side="left"))
        hi = int(np.searchsorted(opened, np.datetime64(d), side="right"))
        return (pop.customer_row(i) for i in range(lo, hi))


def business_datetime(d: date) -> datetime:
    """The creation time stamped into the exports of business date d (keeps bytes reproducible)."""
    return datetime.combine(d, datetime.min.time())

"""The rulebook (kefu/rulebook.yml): every rule, its thresholds and time limits.

Nothing else in the project types a threshold: the generator's answer key, dbt,
the expectations, dashboards and reports read them through this module.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULEBOOK_FILE = Path(__file__).with_name("rulebook.yml")

COMPARISONS = {">=": operator.ge, "<=": operator.le, "<": operator.lt, ">": operator.gt}
GRAINS = ("company", "district", "technician", "queue", "brand_group", "tier_group", "hall")

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|min|h|d)$")
_UNITS = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Limit:
    """A per-item time limit: a duration, N working days, or a calendar rule."""

    raw: Any
    duration: timedelta | None = None
    working_days: int | None = None
    count: float | None = None

    @classmethod
    def parse(cls, raw: Any) -> Limit:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return cls(raw, count=float(raw))
        text = str(raw).strip()
        m = _DURATION.match(text)
        if m:
            return cls(raw, duration=timedelta(**{_UNITS[m.group(2)]: float(m.group(1))}))
        m = re.match(r"^(\d+)wd$", text)
        if m:
            return cls(raw, working_days=int(m.group(1)))
        if text == "2nd_wd":
            return cls(raw, working_days=2)
        return cls(raw)  # same_day, last_week, "1 quarter", ...: named calendar rules


@dataclass(frozen=True)
class Measure:
    id: str
    rule: str
    name_zh: str
    name_en: str
    source: str
    wording: str
    kind: str = "kpi"  # kpi | measured | process
    grains: tuple[str, ...] = ()
    value: str = "rate"
    comparison: str | None = None
    target: Any = None
    limits: dict[str, Limit] = field(default_factory=dict)
    reads: tuple[str, ...] = ()
    same_as: str | None = None
    spec: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_numeric(self) -> bool:
        """Judged against a numeric threshold (included in the answer key and kpi_rule_results)."""
        return self.kind == "kpi"

    def limit(self, key: str = "all") -> Limit:
        return self.limits[key]

    def target_for(self, unit_id: str | None = None, qualifier: str | None = None) -> float:
        """The threshold for a unit; per-unit targets are keyed by unit id or qualifier."""
        if isinstance(self.target, dict):
            for k in (unit_id, qualifier):
                if k is not None and k in self.target:
                    return float(self.target[k])
            raise KeyError(f"{self.id}: no target for unit {unit_id!r} / qualifier {qualifier!r}")
        return float(self.target)

    def passes(self, value: float | None, unit_id: str | None = None, qualifier: str | None = None) -> bool | None:
        """Pass/fail of a value; None when there is nothing to judge."""
        if value is None or self.comparison is None:
            return None
        return COMPARISONS[self.comparison](value, self.target_for(unit_id, qualifier))


@lru_cache(maxsize=1)
def load(path: str | None = None) -> dict[str, Measure]:
    raw = yaml.safe_load(Path(path or RULEBOOK_FILE).read_text(encoding="utf-8"))
    out: dict[str, Measure] = {}
    for m in raw["measures"]:
        kind = m.get("kind", "kpi")
        grains = tuple(m.get("grains", ()))
        for g in grains:
            if g not in GRAINS:
                raise ValueError(f"rulebook: {m['id']} has unknown grain {g!r}")
        if kind == "kpi" and m.get("comparison") not in COMPARISONS:
            raise ValueError(f"rulebook: {m['id']} needs a comparison among {sorted(COMPARISONS)}")
        if m["id"] in out:
            raise ValueError(f"rulebook: duplicate measure id {m['id']}")
        out[m["id"]] = Measure(
            id=m["id"],
            rule=m["rule"],
            name_zh=m["name_zh"],
            name_en=m["name_en"],
            source=m.get("source", ""),
            wording=m.get("wording", ""),
            kind=kind,
            grains=grains,
            value=m.get("value", "rate"),
            comparison=m.get("comparison"),
            target=m.get("target"),
            limits={str(k): Limit.parse(v) for k, v in (m.get("limits") or {}).items()},
            reads=tuple(m.get("reads", ())),
            same_as=m.get("same_as"),
            spec=m,
        )
    return out


@lru_cache(maxsize=1)
def settings() -> dict:
    raw = yaml.safe_load(RULEBOOK_FILE.read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if k != "measures"}


def vip_tiers() -> frozenset[str]:
    return frozenset(settings()["vip_tiers"])


def brand_group(tier: str) -> str:
    """S1 brand group of a customer tier: gotone_vip, gotone or other."""
    for group, tiers in settings()["brand_groups"].items():
        if tier in tiers:
            return group
    return "other"


def tier_group(tier: str) -> str:
    """vip or ordinary (P1 and the tier filters)."""
    return "vip" if tier in vip_tiers() else "ordinary"


def company_unit() -> str:
    return settings()["company_unit"]


def grain_columns() -> dict[str, frozenset[str]]:
    """grain -> the column names that are needed only at that grain (district_id, technician_id)."""
    return {g: frozenset(cols) for g, cols in (settings().get("grain_columns") or {}).items()}


def needed_columns(measure: Measure, grain: str) -> tuple[str, ...]:
    """The contract columns (entity.column) a measure needs at one grain: its `reads`, less the
    columns another grain alone needs (a company figure does not need district_id)."""
    only = grain_columns()
    other = set().union(*[cols for g, cols in only.items() if g != grain]) - only.get(grain, frozenset())
    return tuple(r for r in measure.reads if r.split(".", 1)[1] not in other)


def measurability(
    entity: str, present_columns, source: str | None = None, grain: str = "company"
) -> dict[str, tuple[bool, str | None]]:
    """Which measures the present columns of one entity's export make measurable (D-90).

    Every measure that reads a column of `entity` at `grain` -> (measurable, reason): measurable
    when every column it needs of that entity is present; else the reason names each missing
    column, e.g. ``column tickets.product missing from ticket_system`` ('; '-joined, the same text
    as marts.kpi_rule_measurability). Pure: it reads only the rulebook. A measure not judged at
    `grain` is judged at its first grain."""
    present = set(present_columns)
    out: dict[str, tuple[bool, str | None]] = {}
    for m in load().values():
        g = grain if grain in m.grains or not m.grains else m.grains[0]
        mine = [r for r in needed_columns(m, g) if r.split(".", 1)[0] == entity]
        if not mine and not any(r.split(".", 1)[0] == entity for r in m.reads):
            continue
        missing = [r for r in mine if r.split(".", 1)[1] not in present]
        tail = f" missing from {source}" if source else " missing"
        out[m.id] = (not missing, "; ".join(f"column {r}{tail}" for r in sorted(missing)) or None)
    return out


def numeric_measures() -> list[Measure]:
    return [m for m in load().values() if m.is_numeric]


def catalogue_rule_ids(catalogue: str | Path) -> list[str]:
    """Rule IDs as they appear in the first column of the catalogue's tables."""
    ids: list[str] = []
    in_rule_table = False
    for line in Path(catalogue).read_text(encoding="utf-8").splitlines():
        if re.match(r"^\|\s*ID\s*\|", line):
            in_rule_table = True  # only tables headed "| ID |" list rules
        elif not line.startswith("|"):
            in_rule_table = False
        elif in_rule_table:
            m = re.match(r"^\|\s*([A-Z]\d+)\s*\|", line)
            if m:
                ids.append(m.group(1))
    return list(dict.fromkeys(ids))

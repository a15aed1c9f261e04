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
    # definition settings of the measure (P1 counted_purposes, H1 vip_caller; docs/decisions.md D-116..D-118)
    settings: dict[str, Any] = field(default_factory=dict)
    # entity.column -> what the measure does when the column is missing: used when present, never
    # makes the measure not measurable (A2 complaint_valid, D-119)
    optional_reads: dict[str, str] = field(default_factory=dict)
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
            settings=dict(m.get("settings") or {}),
            optional_reads={str(k): str(v) for k, v in (m.get("optional_reads") or {}).items()},
            spec=m,
        )
    return out


@lru_cache(maxsize=1)
def settings() -> dict:
    raw = yaml.safe_load(RULEBOOK_FILE.read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if k != "measures"}


def setting(measure_id: str, key: str) -> Any:
    """A definition setting of one measure (`settings:` in kefu/rulebook.yml), e.g. P1 counted_purposes."""
    m = load()[measure_id]
    if key not in m.settings:
        raise KeyError(
            f"kefu/rulebook.yml: measure {measure_id} has no setting {key!r} "
            f"(its settings: {sorted(m.settings) or 'none'})"
        )
    return m.settings[key]


def h1_vip_caller() -> str:
    """How H1 recognises a VIP call (D-116): 'tier' (the caller's tier) or 'queue' (the VIP queue)."""
    value = setting("H1", "vip_caller")
    if value not in ("tier", "queue"):
        raise ValueError(f"kefu/rulebook.yml: H1 settings.vip_caller is {value!r}; expected 'tier' or 'queue'")
    return value


def p1_counted_purposes() -> frozenset[str]:
    """The outbound purposes P1 counts as a disturbing call (D-118)."""
    value = setting("P1", "counted_purposes")
    if not isinstance(value, list) or not value:
        raise ValueError(f"kefu/rulebook.yml: P1 settings.counted_purposes must be a non-empty list, got {value!r}")
    return frozenset(str(v) for v in value)


def optional_notes(entity: str, present_columns, source: str | None = None) -> dict[str, str]:
    """measure id -> the note for each optional column of `entity` that is missing (D-119): the
    measure stays measurable and the note says how it is computed without it ('; '-joined)."""
    present = set(present_columns)
    out: dict[str, str] = {}
    for m in load().values():
        notes = [
            f"column {col} missing{' from ' + source if source else ''}: {note}"
            for col, note in sorted(m.optional_reads.items())
            if col.split(".", 1)[0] == entity and col.split(".", 1)[1] not in present
        ]
        if notes:
            out[m.id] = "; ".join(notes)
    return out


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


def missing_columns(entity: str, present_columns, grain: str = "company") -> dict[str, list[str]]:
    """Every measure that reads a column of `entity` -> the columns (``entity.column``, sorted) it
    needs at `grain` that are not among the present ones (empty: measurable). Pure: it reads only
    the rulebook. A measure not judged at `grain` is judged at its first grain."""
    present = set(present_columns)
    out: dict[str, list[str]] = {}
    for m in load().values():
        g = grain if grain in m.grains or not m.grains else m.grains[0]
        mine = [r for r in needed_columns(m, g) if r.split(".", 1)[0] == entity]
        if not mine and not any(r.split(".", 1)[0] == entity for r in m.reads):
            continue
        out[m.id] = sorted(r for r in mine if r.split(".", 1)[1] not in present)
    return out


def measurability(
    entity: str, present_columns, source: str | None = None, grain: str = "company"
) -> dict[str, tuple[bool, str | None]]:
    """Which measures the present columns of one entity's export make measurable (D-90).

    Every measure that reads a column of `entity` at `grain` -> (measurable, reason): measurable
    when every column it needs of that entity is present (missing_columns); else the reason names
    each missing column, e.g. ``column tickets.product missing from ticket_system`` ('; '-joined,
    the same text as marts.kpi_rule_measurability)."""
    tail = f" missing from {source}" if source else " missing"
    return {
        mid: (not missing, "; ".join(f"column {r}{tail}" for r in missing) or None)
        for mid, missing in missing_columns(entity, present_columns, grain).items()
    }


def numeric_measures() -> list[Measure]:
    return [m for m in load().values() if m.is_numeric]


# ------------------------------------------------------------------ the lists (D-145)


@dataclass(frozen=True)
class Family:
    id: str
    name_zh: str
    name_en: str


@lru_cache(maxsize=1)
def families() -> dict[str, Family]:
    """The rule families of the rulebook (`families:`), in display order."""
    out = {f["id"]: Family(f["id"], f["name_zh"], f["name_en"]) for f in settings()["families"]}
    for m in load().values():
        if family_of(m) not in out:
            raise ValueError(f"rulebook: {m.id} belongs to family {family_of(m)!r}, which `families:` does not list")
    return out


def family_of(measure: Measure) -> str:
    """The family of a measure: the letters its catalogue rule id starts with (T1 -> T)."""
    return re.match(r"^[A-Z]+", measure.rule).group(0)


def family_measures(family: str, judged_only: bool = True) -> list[str]:
    """The measure ids of a family in rulebook order; judged_only keeps those with a threshold."""
    if family not in families():
        raise KeyError(f"rulebook has no family {family!r} (families: {', '.join(families())})")
    return [m.id for m in load().values() if family_of(m) == family and (m.is_numeric or not judged_only)]


def page_measures(page: str) -> list[str]:
    """The measure ids shown on a dashboard page (their `page:`), in rulebook order."""
    return [m.id for m in load().values() if m.spec.get("page") == page]


def grain_measures(grain: str, judged_only: bool = True) -> list[str]:
    """The measure ids judged at a grain, in rulebook order."""
    return [m.id for m in load().values() if grain in m.grains and (m.is_numeric or not judged_only)]


def display_order() -> dict[str, int]:
    """measure id -> its place in display order: by family (`families:`), then as the file lists them."""
    fam = list(families())
    ranked = sorted(load().values(), key=lambda m: fam.index(family_of(m)))
    return {m.id: i for i, m in enumerate(ranked)}


def ticket_clock_measures() -> list[str]:
    """The measures the ticket time-limit engine judges per ticket (rulebook ticket_clock_measures)."""
    ids = list(settings()["ticket_clock_measures"])
    unknown = [i for i in ids if i not in load()]
    if unknown:
        raise ValueError(f"rulebook: ticket_clock_measures names unknown measures {unknown}")
    return ids


def group_units() -> list[tuple[str, str, str]]:
    """(grain, unit_id, name) of every unit that is a group, not a place or person (D-152): the
    company, the hotline queues (the data contract's labels), the brand groups, the tier groups."""
    from kefu import contract

    labels = settings()["group_labels"]
    tiers = contract.entity("customers").column("tier").values
    return [
        ("company", company_unit(), labels["company"]),
        *[("queue", q, name) for q, name in contract.entity("calls").column("queue").values.items()],
        *[("brand_group", g, tiers[g]) for g in settings()["brand_groups"]],
        ("brand_group", "other", labels["other_brand_group"]),
        *[("tier_group", g, name) for g, name in labels["tier_group"].items()],
    ]


def amber_margin() -> float:
    """The relative margin within which a failed value is amber, not red (D-146)."""
    return float(settings()["amber_margin"])


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


# ------------------------------------------------------------------ the score 考核得分 (D-135)

SCORE_GRAINS = ("district", "district_head", "technician")


@dataclass(frozen=True)
class ScoreScheme:
    """The rulebook's `score:` section: base - min(cap, deductions of the failed measures)."""

    base: float
    cap: float
    default_deduction: float
    deductions: dict[str, float]
    grains: tuple[str, ...]

    def deduction(self, measure_id: str) -> float:
        return float(self.deductions.get(measure_id, self.default_deduction))

    def measures(self, grain: str) -> dict[str, float]:
        """measure id -> deduction of every scored measure at a grain (a district head is scored on
        the district measures of their districts), in rulebook order."""
        judged_at = "district" if grain == "district_head" else grain
        return {m.id: self.deduction(m.id) for m in numeric_measures() if judged_at in m.grains}


@lru_cache(maxsize=1)
def score_scheme() -> ScoreScheme:
    raw = settings().get("score")
    if not isinstance(raw, dict):
        raise ValueError("rulebook: a `score:` section (base, cap, default_deduction, deductions, grains) is needed")
    try:
        base, cap, default = float(raw["base"]), float(raw["cap"]), float(raw["default_deduction"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"rulebook score: base, cap and default_deduction must be numbers ({exc})") from None
    deductions = {str(k): float(v) for k, v in (raw.get("deductions") or {}).items()}
    numeric = {m.id for m in numeric_measures()}
    unknown = sorted(set(deductions) - numeric)
    if unknown:
        raise ValueError(f"rulebook score: deductions for {unknown}, which are not kpi measures with a threshold")
    negative = sorted(k for k, v in deductions.items() if v < 0)
    if cap < 0 or default < 0 or negative or cap > base:
        raise ValueError(
            f"rulebook score: deductions and cap must be >= 0 and cap <= base "
            f"(cap {cap}, default {default}, negative {negative})"
        )
    grains = tuple(raw.get("grains") or ())
    bad = [g for g in grains if g not in SCORE_GRAINS]
    if bad or not grains:
        raise ValueError(f"rulebook score: grains {list(grains)} must be a non-empty list among {list(SCORE_GRAINS)}")
    return ScoreScheme(base, cap, default, deductions, grains)

"""Sizes and rates of the generated world: demo, city and province.

Every number the generator draws from lives here, so a test or a benchmark can
change one rate without touching the simulation. Violation-planting rates are
keyed by rulebook measure id (T1 … A4): a ticket of a measure's kind breaches
that measure with probability ``violation_rates[id] × district factor ×
technician factor`` (0 in a clean district). Thresholds and time limits are
*not* here: they come from kefu/rulebook.yml.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


def _tiers() -> dict[str, float]:
    # share of customers per tier; VIP tiers (red_vip, vip, gotone_vip) a few percent
    return {
        "red_vip": 0.004,
        "vip": 0.014,
        "gotone_vip": 0.018,
        "gotone": 0.10,
        "mzone": 0.14,
        "szx": 0.18,
        "ordinary": 0.544,
    }


def _ticket_rates() -> dict[str, float]:
    # tickets opened per household per month, by ticket type (before seasonality)
    return {
        "fault": 0.030,
        "consultation": 0.011,
        "new_install": 0.007,
        "move": 0.004,
        "line_survey": 0.004,
        "restoration": 0.005,
        "complaint": 0.00030,
        "vip_application": 0.0006,
    }


def _violations() -> dict[str, float]:
    # base probability that one judged item of the measure breaches it (unclean district, factor 1)
    return {
        "T1": 0.06,
        "T2": 0.05,
        "T3": 0.05,
        "T4": 0.06,
        "T5": 0.06,
        "T6": 0.06,
        "T7": 0.12,
        "T8": 0.08,
        "T9": 0.015,
        "C1": 0.04,
        "C2": 0.10,
        "C3": 0.25,
        "C4": 0.15,
        "C9": 0.15,
        "V1": 0.20,
        "V2": 0.12,
        "V3": 0.12,
        "V4": 0.10,
        "V5": 0.08,
        "V6": 0.08,
        "V7": 0.15,
        "S2": 0.03,
        "S3": 0.12,
    }


@dataclass(frozen=True)
class Preset:
    name: str
    households: int  # households at the start of the data
    districts: int
    months: int
    halls: int
    start_year: int = 2026
    rural_share: float = 0.4  # share of districts that are rural (镇乡)
    tier_shares: dict[str, float] = field(default_factory=_tiers)
    gotone_vip_levels: dict[str, float] = field(default_factory=lambda: {"diamond": 0.15, "gold": 0.35, "silver": 0.50})
    business_share: float = 0.08  # customer_kind = business
    project_share: float = 0.004  # project customers (C7), mostly business
    project_recent_share: float = 0.45  # of project customers: delivered < 1 year before the end of the data
    # households: monthly net growth per district ~ N(mean, sd); some district-months decline (A6)
    household_growth_mean: float = 0.004
    household_growth_sd: float = 0.004
    household_decline_prob: float = 0.15
    household_target_growth: float = 0.05  # yearly target = households at year start × (1 + this)
    # staffing (A1): load = households per technician ÷ the rulebook's limit
    understaffed_share: float = 0.3  # districts loaded beyond the tolerance
    staffed_load: tuple[float, float] = (0.55, 0.98)
    understaffed_load: tuple[float, float] = (1.15, 1.6)
    technician_moves: float = 0.06  # share of technicians who change district during the period
    # planting (see module doc)
    clean_district_share: float = 0.4
    district_factor: tuple[float, float] = (0.5, 2.5)
    clean_technician_share: float = 0.3  # technicians in unclean districts that never breach
    violation_rates: dict[str, float] = field(default_factory=_violations)
    # ticket volumes and behaviour
    ticket_rates: dict[str, float] = field(default_factory=_ticket_rates)
    vip_ticket_multiplier: float = 2.5  # VIP customers open more tickets (and make the VIP measures visible)
    district_fault_spread: tuple[float, float] = (0.6, 1.6)  # per-district fault-rate multiplier
    complaint_clean_factor: float = 0.3  # clean districts complain less (A2)
    complaint_invalid_share: float = 0.3  # complaints found not upheld (无效投诉): A2 does not count them (D-119)
    hd_interactive_share: float = 0.35  # of faults (T1 vs T2, decisions D-11)
    fault_severity: dict[str, dict[str, float]] = field(
        default_factory=lambda: {
            "hd_interactive": {"emergency": 0.15, "normal": 0.65, "complex": 0.20},
            "other": {"general": 0.8, "major": 0.2},
        }
    )
    pause_share: float = 0.08  # tickets with at least one pause
    pause_overlap_share: float = 0.25  # of paused tickets: a second, overlapping pause
    formalities_late_share: float = 0.12  # installs/restorations whose formalities complete after opening
    reopen_share: float = 0.03
    needs_survey_share: float = 0.35  # new installs / moves
    consult_not_on_spot_share: float = 0.25  # consultations not answered during the first contact (C9)
    consult_from_call_share: float = 0.4  # of those: created from a call the centre could not answer (T8)
    callback_unreachable_share: float = 0.08  # attempts that did not reach the customer (then retried)
    callback_problem_share: float = 0.05  # reaching callbacks that find a problem (C4)
    callback_repair_share: float = 0.5  # of problems found: a repair visit is needed
    survey_share: float = 0.35  # resolved tickets surveyed (channel=ticket)
    survey_unreachable_share: float = 0.12
    survey_refused_share: float = 0.04
    vip_complaint_share: float = 0.4  # of planted complaints, the ones about a recent VIP job (V6)
    explanation_share: float = 0.5  # of exceptional VIP delays: explanation filed (T7 VIP, V2)
    vip_application_channels: dict[str, float] = field(
        default_factory=lambda: {"leadership": 0.3, "email": 0.35, "hall": 0.35}
    )
    exact_limit_share: float = 0.01  # items completed exactly at their limit (24:00, 8:00, …): edge cases
    ticket_channels: dict[str, float] = field(default_factory=lambda: {"hotline": 0.62, "hall": 0.2, "online": 0.18})
    # contacts (generator/contacts.py) read the attributes below when present
    calls_per_household_month: float = 0.4

    def with_months(self, months: int | None) -> Preset:
        return self if months is None else replace(self, months=months)


PRESETS: dict[str, Preset] = {
    "demo": Preset(name="demo", households=50_000, districts=20, months=3, halls=6),
    "city": Preset(name="city", households=500_000, districts=60, months=12, halls=24),
    "province": Preset(name="province", households=8_000_000, districts=400, months=12, halls=180),
}


def get(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}") from None

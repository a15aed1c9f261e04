"""The score 考核得分 in the monthly reports: what the workbook's score sheets and the PDF's score
section show, read from marts.kpi_score_monthly / _yearly / _lines (docs/decisions.md D-135..D-139).
Nothing here computes a point: it selects, names and sorts."""

from __future__ import annotations

import duckdb

from kefu import rulebook
from kefu.reports.data import rows

SCORE_GRAINS: dict[str, tuple[str, str]] = {
    "district": ("片区", "District"),
    "district_head": ("片区负责人", "District head"),
    "technician": ("维修人员", "Technician"),
}
PDF_LOWEST_TECHNICIANS = 15  # the PDF lists the lowest technicians; the workbook has them all


def load_scores(con: duckdb.DuckDBPyConnection, month: str, names: dict) -> list[dict]:
    """Every scored unit of the month with its rank and year to date, by grain and rank."""
    out = rows(
        con,
        """
        select s.grain, s.unit_id, s.score, s.score_rank, s.units_ranked, s.score_status, s.measures_scored,
               s.measures_measurable, s.measures_failed, s.deductions_uncapped, s.deductions_applied, s.is_capped,
               y.months_scored_ytd, y.score_total_ytd, y.score_average_ytd, y.rank_ytd
        from marts.kpi_score_monthly as s
        left join marts.kpi_score_yearly as y
            on y.grain = s.grain and y.unit_id = s.unit_id and y.period_month = s.period_month
        where s.period_month = $m
        """,
        {"m": month},
    )
    order = list(SCORE_GRAINS)
    for r in out:
        # a district head has no name in the warehouse (an id, D-136); districts and technicians (masked) do
        r["unit_name"] = names.get((r["grain"], r["unit_id"]), r["unit_id"])
        r["grain_zh"], r["grain_en"] = SCORE_GRAINS[r["grain"]]
        r["measurable"] = f"{r['measures_measurable']} / {r['measures_scored']}"
    out.sort(key=lambda r: (order.index(r["grain"]), r["score_rank"] is None, r["score_rank"] or 0, r["unit_id"]))
    return out


def load_deductions(con: duckdb.DuckDBPyConnection, month: str, names: dict) -> list[dict]:
    """Every failed line of the month: which measure cost which unit how many points."""
    out = rows(
        con,
        """
        select grain, unit_id, member_id, measure_id, name_zh, value, threshold, deduction
        from marts.kpi_score_lines
        where period_month = $m and status = 'failed'
        """,
        {"m": month},
    )
    order, measures = list(SCORE_GRAINS), {mid: i for i, mid in enumerate(rulebook.load())}
    kinds = {m.id: m.value for m in rulebook.load().values()}
    for r in out:
        r["unit_name"] = names.get((r["grain"], r["unit_id"]), r["unit_id"])
        r["member_name"] = names.get(
            ("district" if r["grain"] == "district_head" else r["grain"], r["member_id"]), r["member_id"]
        )
        r["value_kind"] = kinds.get(r["measure_id"], "rate")
    out.sort(key=lambda r: (order.index(r["grain"]), r["unit_id"], r["member_id"], measures.get(r["measure_id"], 0)))
    return out


def scheme() -> dict:
    """The rulebook's score scheme as the reports state it."""
    s = rulebook.score_scheme()
    return {
        "base": s.base,
        "cap": s.cap,
        "default": s.default_deduction,
        "deductions": s.deductions,
        "grains": [SCORE_GRAINS[g] for g in s.grains],
    }


def pdf_sections(scores: list[dict]) -> list[dict]:
    """Per grain: the units the PDF lists (every district and head, the lowest technicians)."""
    out = []
    for grain, (zh, en) in SCORE_GRAINS.items():
        units = [r for r in scores if r["grain"] == grain]
        if not units:
            continue
        shown = units
        if grain == "technician" and len(units) > PDF_LOWEST_TECHNICIANS:
            with_score = [r for r in units if r["score"] is not None]
            shown = sorted(with_score, key=lambda r: (r["score"], r["unit_id"]))[:PDF_LOWEST_TECHNICIANS]
        scored = [r["score"] for r in units if r["score"] is not None]
        out.append(
            {
                "grain": grain,
                "zh": zh,
                "en": en,
                "units": shown,
                "total": len(units),
                "not_measurable": [r["unit_id"] for r in units if r["score"] is None],
                "average": sum(scored) / len(scored) if scored else None,
                "partial": shown is not units,
            }
        )
    return out

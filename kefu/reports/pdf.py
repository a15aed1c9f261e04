"""The PDF reports: the monthly 服务监督报告 for the general manager (R1) and the weekly
service summary for the Friday meeting (R2), both Jinja2 templates rendered by WeasyPrint
(Noto CJK fonts, embedded as subsets)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import jinja2
from weasyprint import HTML

from kefu.reports import signoff_sheets
from kefu.reports.data import GRAINS, RESULTS, STATES, MonthData, WeekData, month_days, summary_rows

TEMPLATES = Path(__file__).with_name("templates")
WORST_PER_GRAIN = 3  # worst units shown per grain of a failed rule
TICKETS_PER_RULE = 5  # tickets shown behind a failed rule (all of them are in the workbook)
WEEK_TICKETS = 15


COMPARISONS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def fmt_value(value: float | None, kind: str | None = "rate") -> str:
    """A rule value as the reports print it: rates in percent with 2 decimals (4 below 0.1%, e.g. the
    A2 complaint rate), ratios with 4 decimals below 100 and 1 above."""
    if value is None:
        return "—"
    if kind == "rate":
        pct = value * 100
        return f"{pct:.{2 if pct == 0 or abs(pct) >= 0.1 else 4}f}%"
    return f"{value:,.{1 if abs(value) >= 100 else 4}f}"


def fmt_delta(value: float | None, prev: float | None, kind: str | None, comparison: str | None) -> dict:
    """Change from the previous period: text (rates in percentage points), and its tone: towards the
    passing side of the threshold (better), away from it (worse), or neither (same; measured rules)."""
    if value is None or prev is None:
        return {"text": "—", "tone": "same"}
    d = value - prev
    size = f"{abs(d) * 100:.2f}pp" if kind == "rate" else fmt_value(abs(d), kind)
    if not any(ch in "123456789" for ch in size):  # no change at the printed precision
        return {"text": "持平", "tone": "same"}
    tone = "same" if comparison is None else "better" if (d > 0) == comparison.startswith(">") else "worse"
    return {"text": ("▲ " if d > 0 else "▼ ") + size, "tone": tone}


def month_label(month: str) -> str:
    return f"{month[:4]}年{int(month[5:])}月"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters |= {"v": fmt_value, "month_label": month_label, "thousands": lambda n: f"{n:,}"}
    env.globals |= {
        "delta": fmt_delta,
        "RESULTS": RESULTS,
        "STATES": STATES,
        "GRAINS": GRAINS,
        "COMPARISONS": COMPARISONS,
    }
    return env


def render(template: str, path: Path, **context) -> Path:
    html = _env().get_template(template).render(**context)
    HTML(string=html, base_url=str(TEMPLATES)).write_pdf(path)
    return path


# --- the monthly report ----------------------------------------------------------------------------


def shortfall(r: dict) -> float:
    """How far a unit's value is on the wrong side of its threshold (larger = worse)."""
    gap = r["threshold"] - r["value"]
    return gap if r["comparison"].startswith(">") else -gap


def failed_rules(data: MonthData) -> list[dict]:
    """Every rule with a failed unit this month: its wording, company figure, failures per grain,
    worst units and the tickets behind them (marts.fct_ticket_sla)."""
    wording = {m["measure_id"]: m for m in data.measures}
    tickets_by_rule: dict[str, list[dict]] = {}
    for t in data.tickets:
        tickets_by_rule.setdefault(t["measure_id"], []).append(t)
    out = []
    for measure_id, results in data.by_rule().items():
        failed = [r for r in results if r["passed"] is False]
        if not failed:
            continue
        grains = []
        worst = []
        for grain in GRAINS:
            judged = [r for r in results if r["grain"] == grain and r["threshold"] is not None]
            bad = sorted(
                (r for r in failed if r["grain"] == grain),
                key=lambda r: (-shortfall(r), r["numerator"] - r["denominator"], r["unit_id"]),
            )
            if judged and grain != "company":
                grains.append({"grain": grain, "judged": len(judged), "failed": len(bad)})
                worst += bad[:WORST_PER_GRAIN]
        shown = {(r["grain"], r["unit_id"]) for r in worst}
        tickets = tickets_by_rule.get(measure_id, [])
        behind = [
            t for t in tickets if ("district", t["district_id"]) in shown or ("technician", t["technician_id"]) in shown
        ]
        out.append(
            {
                "measure_id": measure_id,
                "measure": wording.get(measure_id, {}),
                "results": results,
                "company": next((r for r in results if r["grain"] == "company"), None),
                "grains": grains,
                "worst": worst,
                "tickets": behind[:TICKETS_PER_RULE],
                "tickets_total": len(tickets),
                "traced": measure_id in tickets_by_rule,
            }
        )
    return out


def trend_rows(data: MonthData) -> list[dict]:
    """Per grain: unit results judged and failed this month and last month, newly failed, recovered."""
    out = []
    for grain in GRAINS:
        rs = [r for r in data.results if r["grain"] == grain and r["threshold"] is not None]
        if rs:
            out.append(
                {
                    "grain": grain,
                    "judged": len(rs),
                    "failed": sum(r["passed"] is False for r in rs),
                    "prev_failed": sum(r["prev_passed"] is False for r in rs),
                    "newly_failed": sum(r["passed"] is False and r["prev_passed"] is True for r in rs),
                    "recovered": sum(r["passed"] is True and r["prev_passed"] is False for r in rs),
                }
            )
    return out


def history_chart(history: list[dict], width: int = 300, height: int = 150) -> dict:
    """Bar geometry for the year-to-date chart (unit results judged / failed per month), drawn as inline SVG."""
    top = max((h["judged"] for h in history), default=1) or 1
    plot_h, base, step = height - 40, height - 22, width / max(len(history), 1)
    bars = []
    for i, h in enumerate(history):
        x = i * step + step * 0.18
        bw = step * 0.3
        jh, fh = plot_h * h["judged"] / top, plot_h * h["failed"] / top
        bars.append(
            {
                "month": h["period_month"],
                "label": f"{int(h['period_month'][5:])}月",
                "judged": h["judged"],
                "failed": h["failed"],
                "x": x,
                "w": bw,
                "jy": base - jh,
                "jh": jh,
                "fy": base - fh,
                "fh": fh,
                "cx": x + bw,
            }
        )
    return {"width": width, "height": height, "base": base, "bars": bars}


def monthly(data: MonthData, path: Path) -> Path:
    overview = summary_rows(data)
    judged = [r for r in data.results if r["threshold"] is not None]
    prev = next((h for h in data.history if h["period_month"] == data.prev_month), None)
    failed = failed_rules(data)
    summary = {
        "rules_judged": len({r["measure_id"] for r in judged}),
        "rules_failed": len(failed),
        "rules_measured": len({r["measure_id"] for r in data.results if r["threshold"] is None}),
        "results_judged": len(judged),
        "results_failed": sum(r["passed"] is False for r in judged),
        "prev_rules_failed": prev["rules_failed"] if prev else None,
        "prev_results_failed": prev["failed"] if prev else None,
        "tickets_late": len(data.tickets),
        "company_failed": sum(r["passed"] is False for r in overview),
        "company_judged": sum(r["passed"] is not None for r in overview),
    }
    from kefu.reports import score

    return render(
        "monthly.html.j2",
        path,
        data=data,
        summary=summary,
        overview=overview,
        failed=failed,
        trends=trend_rows(data),
        chart=history_chart(data.history),
        days=month_days(data.month),
        label=month_label(data.month),
        score=score.pdf_sections(data.scores),
        score_scheme=score.scheme(),
        changed=signoff_sheets.enriched(data, data.signoff.changed) if data.signoff else [],
    )


# --- the weekly summary ------------------------------------------------------------------------------


def weekly(week: WeekData, path: Path) -> Path:
    iso = week.meeting.isocalendar()
    return render(
        "weekly.html.j2",
        path,
        week=week,
        tickets=week.tickets[:WEEK_TICKETS],
        label=f"{iso.year}年第{iso.week}周",
        last_day=(week.end - timedelta(days=1)).date(),
        summary={
            "opened": sum(o["tickets"] for o in week.opened),
            "complaints": sum(o["tickets"] for o in week.opened if o["ticket_type"] == "complaint"),
            "judged": sum(r["judged"] for r in week.rules),
            "not_met": week.not_met,
            "rules_failed": sum(r["passed"] is False for r in week.rules),
        },
    )

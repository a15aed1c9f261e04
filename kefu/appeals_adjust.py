"""Exemptions (核减) applied to a month's frozen draft, and what the reports show of the sign-off.

`adjust` runs kefu/sql/adjusted_results.sql over the month's frozen Parquet (kpi_rule_results,
fct_ticket_sla) and the approved appeals, and writes beside them:

- kpi_rule_results_final.parquet — the adjusted results, with exactly kpi_rule_results' columns
  (a score over "a relation with kpi_rule_results' columns" applies to it unchanged);
- assessment_adjustments.parquet — every unit × measure: raw, exempted and final figures;
- appeals.parquet — every appeal of the month with its outcome (reasons and comments masked).

`SignoffView` is what the workbook and the 服务监督报告 PDF print: draft or signed by whom and when,
the raw / exempted / final figures and the appeals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from kefu import rulebook
from kefu.appeals import TZ, Appeal, MonthStatus, published_text

SQL = Path(__file__).with_name("sql") / "adjusted_results.sql"
FINAL = "kpi_rule_results_final.parquet"
ADJUSTMENTS = "assessment_adjustments.parquet"
APPEALS = "appeals.parquet"
SIGNOFF = "signoff.json"
EXEMPTION_COLUMNS = ["measure_id", "item_kind", "item_id", "grain", "unit_id"]
EXTRA = ["raw_numerator", "raw_denominator", "raw_value", "raw_passed", "exempted_items", "verdict_waived"]


def exemption_frame(approved: list[Appeal]) -> pd.DataFrame:
    return pd.DataFrame(
        [[a.item.measure_id, a.item.kind, a.item.item_id, a.item.grain, a.item.unit_id] for a in approved],
        columns=EXEMPTION_COLUMNS,
    ).astype("string")


def _query(con: duckdb.DuckDBPyConnection, folder: Path, month: str, approved: list[Appeal]) -> None:
    """Temp table adjusted_rows on con: the adjusted rows (kpi_rule_results' columns + EXTRA)."""
    con.register("exemption_rows", exemption_frame(approved))
    con.execute(
        "create or replace temp table adjusted_rows as " + SQL.read_text(encoding="utf-8"),
        {
            "raw_results": str(folder / "kpi_rule_results.parquet"),
            "ticket_sla": str(folder / "fct_ticket_sla.parquet"),
            "month": month,
            "company_unit": rulebook.company_unit(),
        },
    )


def adjusted(folder: Path, month: str, approved: list[Appeal]) -> pd.DataFrame:
    """The adjusted rows (kpi_rule_results' columns + EXTRA) of the draft frozen in folder."""
    con = duckdb.connect()
    try:
        _query(con, folder, month, approved)
        return con.execute("select * from adjusted_rows order by all").fetchdf()
    finally:
        con.close()


def appeal_rows(all_appeals: list[Appeal]) -> list[dict]:
    """The appeals as the reports list them: free text masked, no attachment content."""
    return [
        {
            "appeal_id": a.appeal_id,
            "measure_id": a.item.measure_id,
            "item_kind": a.item.kind,
            "item_id": a.item.item_id,
            "district_id": a.district_id,
            "technician_id": a.technician_id,
            "filed_by": a.filed_by,
            "filed_at": a.filed_at.astimezone(TZ).replace(tzinfo=None),
            "reason": published_text(a.reason),
            "attachment": a.attachment,
            "state": a.state,
            "decided_by": a.decided_by,
            "decided_at": a.decided_at.astimezone(TZ).replace(tzinfo=None) if a.decided_at else None,
            "comment": published_text(a.comment),
        }
        for a in all_appeals
    ]


APPEAL_COLUMNS = [
    "appeal_id",
    "measure_id",
    "item_kind",
    "item_id",
    "district_id",
    "technician_id",
    "filed_by",
    "filed_at",
    "reason",
    "attachment",
    "state",
    "decided_by",
    "decided_at",
    "comment",
]


def write(folder: Path, month: str, all_appeals: list[Appeal], st: MonthStatus) -> dict:
    """Write the final/adjustment/appeal files and signoff.json into the month's folder."""
    approved = [a for a in all_appeals if a.state == "approved"]
    con = duckdb.connect()
    try:
        _query(con, folder, month, approved)
        raw = con.read_parquet(str(folder / "kpi_rule_results.parquet"))
        # exactly kpi_rule_results' columns and types
        cols = ", ".join(f'cast("{name}" as {kind}) as "{name}"' for name, kind in zip(raw.columns, raw.types))
        con.execute(
            f"copy (select {cols} from adjusted_rows where denominator > 0 order by all) "
            f"to '{folder / FINAL}' (format parquet)"
        )
        con.execute(f"copy (select * from adjusted_rows order by all) to '{folder / ADJUSTMENTS}' (format parquet)")
        con.register("appeal_rows", pd.DataFrame(appeal_rows(all_appeals), columns=APPEAL_COLUMNS))
        con.execute(f"copy (select * from appeal_rows order by appeal_id) to '{folder / APPEALS}' (format parquet)")
        rows = con.execute("select * from adjusted_rows").fetchdf()
    finally:
        con.close()
    info = signoff_info(month, st, approved, rows)
    (folder / SIGNOFF).write_text(json.dumps(info, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return info


def signoff_info(month: str, st: MonthStatus, approved: list[Appeal], rows: pd.DataFrame) -> dict:
    judged = rows[rows["threshold"].notna()]
    return {
        "month": month,
        "state": st.state,
        "signed_by": st.signed_by,
        "signed_at": st.signed_at.isoformat() if st.signed_at else None,
        "window_ends": st.window_ends.isoformat() if st.window_ends else None,
        "reopenings": st.reopenings,
        "exempted_appeals": [a.appeal_id for a in approved],
        "results_failed_raw": int((~judged["raw_passed"].astype(bool)).sum()),
        "results_failed_final": int((~judged["passed"].astype(bool)).sum()),
        "items_exempted": int(rows.loc[rows["grain"] == "company", "exempted_items"].sum())
        + sum(a.item.kind == "unit" for a in approved),
    }


@dataclass(frozen=True)
class SignoffView:
    """What the reports print about appeals and the sign-off."""

    state: str  # draft | final
    signed_by: str | None
    signed_at: datetime | None
    adjustments: list[dict] = field(default_factory=list)  # every unit × measure: raw, exempted, final
    appeals: list[dict] = field(default_factory=list)
    results_failed_raw: int = 0
    results_failed_final: int = 0
    reopenings: int = 0

    @property
    def label(self) -> str:
        if self.state == "final":
            return (
                f"已签发 signed by {self.signed_by} at {self.signed_at.astimezone(TZ):%Y-%m-%d %H:%M} (Asia/Shanghai)"
            )
        return "草稿 draft — not signed"

    @property
    def changed(self) -> list[dict]:
        return [r for r in self.adjustments if r["exempted_items"] or r["verdict_waived"]]


def view(folder: Path, month: str, all_appeals: list[Appeal], st: MonthStatus) -> SignoffView:
    """The view for the reports: a draft's adjustments are computed from the approvals so far."""
    approved = [a for a in all_appeals if a.state == "approved"]
    rows = adjusted(folder, month, approved)
    info = signoff_info(month, st, approved, rows)
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    return SignoffView(
        st.state if st.state == "final" else "draft",
        st.signed_by,
        st.signed_at,
        records,
        appeal_rows(all_appeals),
        info["results_failed_raw"],
        info["results_failed_final"],
        st.reopenings,
    )

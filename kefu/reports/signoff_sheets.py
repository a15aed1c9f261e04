"""The workbook's appeal and sign-off sheets (issue 21): raw, exempted and final figures per unit ×
measure, and the appeals with their outcomes. Written when the month's data carries a sign-off view
(kefu.appeals_adjust.SignoffView; the monthly_assessment DAG passes it), after the summary sheet."""

from __future__ import annotations

import xlsxwriter

from kefu.reports.data import GRAINS, MonthData

STATES = {"pending": "待审核", "approved": "核减", "rejected": "驳回"}
KINDS = {"ticket": "工单", "unit": "单位结果"}


def cols():
    from kefu.reports.workbook import Col  # workbook imports this module: imported late

    adjust = [
        Col("measure_id", "规则", "Rule", width=7),
        Col("grain", "考核层级", "Grain", width=10, labels={g: zh for g, (zh, _) in GRAINS.items()}),
        Col("unit_id", "单位编号", "Unit ID", width=11),
        Col("unit_name", "单位名称", "Unit", width=16),
        Col("raw_numerator", "原始分子", "Raw numerator", "int", 10),
        Col("raw_denominator", "原始分母", "Raw denominator", "int", 10),
        Col("raw_value", "原始数值", "Raw value", "value", 11),
        Col("raw_passed", "原始结果", "Raw result", "result", 9, of="raw_value"),
        Col("exempted_items", "核减项数", "Items exempted", "count", 10),
        Col("waived", "结果豁免", "Verdict waived", width=9),
        Col("numerator", "核减后分子", "Final numerator", "int", 10),
        Col("denominator", "核减后分母", "Final denominator", "int", 10),
        Col("value", "核减后数值", "Final value", "value", 11),
        Col("threshold", "阈值", "Threshold", "value", 10),
        Col("passed", "最终结果", "Final result", "result", 9, of="value"),
    ]
    appeals = [
        Col("appeal_id", "申诉编号", "Appeal", width=15),
        Col("measure_id", "规则", "Rule", width=7),
        Col("item_kind", "申诉对象", "Item kind", width=9, labels=KINDS),
        Col("item_id", "工单/单位", "Ticket / unit", width=16),
        Col("district_id", "片区", "District", width=8),
        Col("filed_by", "申诉人", "Filed by", width=20),
        Col("filed_at", "申诉时间", "Filed at", "datetime", 16),
        Col("reason", "申诉理由", "Reason", width=36),
        Col("attachment", "附件", "Attachment", width=16),
        Col("state", "审核结果", "Outcome", width=9, labels=STATES),
        Col("decided_by", "审核人", "Decided by", width=20),
        Col("decided_at", "审核时间", "Decided at", "datetime", 16),
        Col("comment", "审核意见", "Comment", width=36),
    ]
    return adjust, appeals


def write(wb: xlsxwriter.Workbook, fmt: dict, data: MonthData, label: str) -> None:
    from kefu.reports.workbook import write_sheet

    view = data.signoff
    adjust_cols, appeal_cols = cols()
    rows = enriched(data, view.adjustments)
    write_sheet(
        wb,
        fmt,
        "核减前后 Raw vs final",
        f"{label} 核减前后考核结果 · Raw, exempted and final results {data.month} · {view.label} · "
        f"未达标项次 failed: 原始 raw {view.results_failed_raw} → 最终 final {view.results_failed_final}",
        adjust_cols,
        rows,
        freeze_cols=4,
    )
    write_sheet(
        wb,
        fmt,
        "申诉 Appeals",
        f"{label} 申诉与审核 · Appeals and their outcomes · {view.label}",
        appeal_cols,
        view.appeals,
        freeze_cols=1,
    )


def enriched(data: MonthData, adjustments: list[dict]) -> list[dict]:
    """Adjustment rows with the unit's name and the measure's value kind (for formatting)."""
    known = {(r["measure_id"], r["grain"], r["unit_id"]): r for r in data.results}
    out = []
    for r in adjustments:
        base = known.get((r["measure_id"], r["grain"], r["unit_id"]), {})
        out.append(
            r
            | {
                "unit_name": base.get("unit_name", r["unit_id"]),
                "value_kind": base.get("value_kind"),
                "waived": "是" if r["verdict_waived"] else "",
            }
        )
    return out

"""The monthly assessment workbook (月度考核结果.xlsx), written with xlsxwriter.

Every sheet is one table written by `write_sheet`: a title row, Chinese headers with the
English under them, frozen headers, an autofilter, and 达标 / 未达标 cells coloured by
conditional formatting. Data never becomes a formula: the workbook is opened with
strings_to_formulas / strings_to_urls / strings_to_numbers off and every text is written
with write_string, so a complaint text that starts with =, +, - or @ stays text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from kefu import contract, rulebook
from kefu.reports import signoff_sheets
from kefu.reports.data import GRAINS, RESULTS, STATES, MonthData, summary_rows

HEADER_ROWS = 3  # title, Chinese header, English header
NUMBER_FORMATS = {
    "int": "#,##0",
    "rate": "0.00##%",
    "ratio": "#,##0.00##",
    "hours": "0.0",
    "datetime": "yyyy-mm-dd hh:mm",
    "count": "0",
}
RED, GREEN = {"bg_color": "#F8D7DA", "font_color": "#9C0006"}, {"bg_color": "#D4EDDA", "font_color": "#006100"}


@dataclass(frozen=True)
class Col:
    key: str
    zh: str
    en: str
    kind: str = "text"  # text | int | rate | ratio | value (rate or ratio by the row's value_kind)
    # | hours | datetime | result (达标/未达标) | count (red when > 0)
    width: float = 12
    labels: dict[str, str] = field(default_factory=dict)  # code -> Chinese label (text columns)
    of: str | None = None  # result columns: the value judged; no value -> blank, not 仅统计


def _labels(entity: str, column: str) -> dict[str, str]:
    return contract.entity(entity).column(column).values


def write_sheet(
    wb: xlsxwriter.Workbook, fmt: dict, name: str, title: str, cols: list[Col], rows: list[dict], freeze_cols: int = 0
) -> None:
    ws = wb.add_worksheet(name)
    ws.write_string(0, 0, title, fmt["title"])
    ws.set_row(0, 24)
    for c, col in enumerate(cols):
        ws.write_string(1, c, col.zh, fmt["head_zh"])
        ws.write_string(2, c, col.en, fmt["head_en"])
        ws.set_column(c, c, col.width)
    for r, row in enumerate(rows, start=HEADER_ROWS):
        for c, col in enumerate(cols):
            _write(ws, r, c, row.get(col.key), col, row, fmt)
    last = HEADER_ROWS + max(len(rows), 1) - 1
    ws.freeze_panes(HEADER_ROWS, freeze_cols)
    ws.autofilter(HEADER_ROWS - 1, 0, last, len(cols) - 1)
    for c, col in enumerate(cols):
        if col.kind == "result":
            for text, colour in ((RESULTS[False], "red"), (RESULTS[True], "green")):
                ws.conditional_format(
                    HEADER_ROWS,
                    c,
                    last,
                    c,
                    {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": fmt[colour]},
                )
        elif col.kind == "count":
            ws.conditional_format(
                HEADER_ROWS, c, last, c, {"type": "cell", "criteria": ">", "value": 0, "format": fmt["red"]}
            )


def _write(ws, r: int, c: int, value: Any, col: Col, row: dict, fmt: dict) -> None:
    kind = (row.get("value_kind") or "ratio") if col.kind == "value" else col.kind
    if col.kind == "result" and (value is not None or col.of is None or row.get(col.of) is not None):
        ws.write_string(r, c, RESULTS[value], fmt["text"])
    elif value is None:
        ws.write_blank(r, c, None, fmt["text"])
    elif isinstance(value, (datetime, date)):
        ws.write_datetime(r, c, value, fmt["datetime"])
    elif isinstance(value, (int, float)):
        ws.write_number(r, c, value, fmt.get(kind, fmt["text"]))
    else:
        text = str(value)
        ws.write_string(r, c, col.labels.get(text, text), fmt["text"])


def _formats(wb: xlsxwriter.Workbook) -> dict:
    base = {"font_name": "等线", "font_size": 10, "valign": "top"}
    fmt = {k: wb.add_format(base | {"num_format": v}) for k, v in NUMBER_FORMATS.items()}
    fmt["text"] = wb.add_format(base)
    fmt["wrap"] = wb.add_format(base | {"text_wrap": True})
    fmt["title"] = wb.add_format(base | {"bold": True, "font_size": 14, "font_color": "#1F3A5F"})
    fmt["head_zh"] = wb.add_format(
        base | {"bold": True, "bg_color": "#1F3A5F", "font_color": "#FFFFFF", "text_wrap": True, "border": 1}
    )
    fmt["head_en"] = wb.add_format(
        base
        | {
            "italic": True,
            "font_size": 9,
            "bg_color": "#DCE3EC",
            "font_color": "#1F3A5F",
            "text_wrap": True,
            "border": 1,
        }
    )
    fmt["red"], fmt["green"] = wb.add_format(RED), wb.add_format(GREEN)
    return fmt


# --- the sheets -----------------------------------------------------------------------------------

GRAIN_COLS = [
    Col("measure_id", "规则", "Rule", width=7),
    Col("name_zh", "指标名称", "Indicator", width=26),
    Col("unit_id", "单位编号", "Unit ID", width=11),
    Col("unit_name", "单位名称", "Unit", width=16),
    Col("numerator", "分子", "Numerator", "int", 10),
    Col("denominator", "分母", "Denominator", "int", 10),
    Col("value", "数值", "Value", "value", 11),
    Col("threshold", "阈值", "Threshold", "value", 11),
    Col("comparison", "判定", "Comparison", width=8),
    Col("passed", "结果", "Result", "result", 9, of="value"),
    Col("prev_value", "上月数值", "Last month", "value", 11),
    Col("prev_passed", "上月结果", "Last month result", "result", 10, of="prev_value"),
]


SUMMARY_COLS = [
    Col("measure_id", "规则", "Rule", width=7),
    Col("name_zh", "指标名称", "Indicator", width=26),
    Col("name_en", "英文名称", "Indicator (English)", width=30),
    Col("value", "全公司数值", "Company value", "value", 12),
    Col("threshold", "阈值", "Threshold", "value", 10),
    Col("passed", "全公司结果", "Company result", "result", 11, of="value"),
    Col("prev_value", "上月数值", "Last month", "value", 11),
    Col("units_judged", "考核单位数", "Units judged", "int", 11),
    Col("units_failed", "未达标单位数", "Units failed", "count", 12),
    Col("source", "规定出处", "Source", width=9),
]

YEARLY_COLS = [
    Col("measure_id", "规则", "Rule", width=7),
    Col("grain", "考核层级", "Grain", width=10, labels={g: zh for g, (zh, _) in GRAINS.items()}),
    Col("unit_id", "单位编号", "Unit ID", width=11),
    Col("unit_name", "单位名称", "Unit", width=16),
    Col("months_judged", "考核月数", "Months judged", "int", 10),
    Col("months_passed", "达标月数", "Months passed", "int", 10),
    Col("months_failed", "未达标月数", "Months failed", "count", 11),
    Col("first_month", "起始月", "From", width=9),
    Col("last_month", "截至月", "To", width=9),
]


def ticket_cols() -> list[Col]:
    return [
        Col("measure_id", "规则", "Rule", width=7),
        Col("name_zh", "指标名称", "Indicator", width=24),
        Col("ticket_id", "工单编号", "Ticket", width=19),
        Col("district_id", "片区编号", "District ID", width=10),
        Col("district_name", "片区名称", "District", width=12),
        Col("technician_id", "维修人员编号", "Technician ID", width=12),
        Col("technician_name", "维修人员(脱敏)", "Technician (masked)", width=12),
        Col("ticket_type", "工单类型", "Type", width=9, labels=_labels("tickets", "ticket_type")),
        Col("severity", "故障等级", "Severity", width=9, labels=_labels("tickets", "severity")),
        Col("customer_tier", "客户级别", "Customer tier", width=10, labels=_labels("customers", "tier")),
        Col("opened_at", "受理时间", "Opened", "datetime", 16),
        Col("deadline_at", "时限截止", "Deadline", "datetime", 16),
        Col("completed_at", "完成时间", "Completed", "datetime", 16),
        Col("state", "状态", "State", width=12, labels=STATES),
        Col("hours_late", "超时(小时)", "Hours late", "hours", 10),
    ]


RULE_COLS = [
    Col("measure_id", "规则", "Measure", width=7),
    Col("rule_id", "条款", "Rule", width=6),
    Col("name_zh", "指标名称", "Indicator", width=26),
    Col("name_en", "英文名称", "Indicator (English)", width=30),
    Col("source", "规定出处", "Source", width=8),
    Col("kind", "类型", "Kind", width=8, labels={"kpi": "考核", "measured": "仅统计", "process": "工作要求"}),
    Col("comparison", "判定", "Comparison", width=8),
    Col("targets", "阈值", "Target", width=22),
    Col("wording", "规定原文", "Regulation wording", width=90),
]

# plain columns of the per-audience marts; <rule>_<part> columns are named from the rulebook
MART_COLS = {
    "district_id": ("片区编号", "District ID", "text"),
    "district_name": ("片区名称", "District", "text"),
    "area_type": ("城区/镇乡", "Area", "text"),
    "households": ("户数", "Households", "int"),
    "households_target": ("目标户数", "Household target", "int"),
    "technician_id": ("维修人员编号", "Technician ID", "text"),
    "technician_name": ("维修人员(脱敏)", "Technician (masked)", "text"),
    "rules_assessed": ("考核项数", "Rules judged", "int"),
    "measures_judged": ("考核项数", "Measures judged", "int"),
    "rules_passed": ("达标项数", "Rules passed", "int"),
    "measures_passed": ("达标项数", "Measures passed", "int"),
    "rules_failed": ("未达标项数", "Rules failed", "count"),
    "measures_failed": ("未达标项数", "Measures failed", "count"),
    "is_all_passed": ("全部达标", "All passed", "result"),
    "district_rank": ("排名", "Rank", "int"),  # the mart's ranking (D-147)
}
PARTS = {
    "numerator": ("分子", "numerator"),
    "denominator": ("分母", "denominator"),
    "value": ("数值", "value"),
    "threshold": ("阈值", "threshold"),
    "passed": ("结果", "result"),
}


NOT_MEASURABLE_COLS = [
    Col("measure_id", "规则", "Rule", width=8),
    Col("name_zh", "指标", "Indicator", width=26),
    Col("grain", "考核层级", "Grain", width=12, labels={g: zh for g, (zh, _) in GRAINS.items()}),
    Col("label", "原因", "Why not measurable", width=60),
]
NOTE_COLS = [  # measured without an optional column, and how (D-119)
    Col("measure_id", "规则", "Rule", width=8),
    Col("name_zh", "指标", "Indicator", width=26),
    Col("label", "说明", "How it was computed", width=80),
]


def mart_cols(keys: list[str]) -> list[Col]:
    """Columns of a per-audience mart, in its order: its plain columns and, per rule, numerator,
    denominator, value, threshold and result headed '<rule> 数值 / <rule> value'. Technical keys
    (district_month_key, period_month) are left out."""
    measures = {m.id.lower().replace(".", "_"): m for m in rulebook.load().values()}
    cols = []
    for key in keys:
        stem, _, part = key.rpartition("_")
        if key in MART_COLS:
            zh, en, kind = MART_COLS[key]
            labels = _labels("districts", "area_type") if key == "area_type" else {}
            cols.append(Col(key, zh, en, kind, 12, labels))
        elif stem in measures and part in PARTS:
            m = measures[stem]
            kind = {"numerator": "int", "denominator": "int", "passed": "result"}.get(part, m.value)
            cols.append(
                Col(
                    key,
                    f"{m.id} {PARTS[part][0]}",
                    f"{m.id} {PARTS[part][1]}",
                    kind,
                    10,
                    of=f"{stem}_value" if part == "passed" else None,
                )
            )
    return cols


def write(data: MonthData, path: Path) -> Path:
    """Write the month's workbook to path and return it."""
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    fmt = _formats(wb)
    label = f"{data.month[:4]}年{int(data.month[5:])}月"
    signed = f" · {data.signoff.label}" if data.signoff is not None else ""
    write_sheet(
        wb,
        fmt,
        "概览 Summary",
        f"{label} 考核概览 · Assessment summary {data.month}{signed}",
        SUMMARY_COLS,
        summary_rows(data),
        freeze_cols=2,
    )
    if data.signoff is not None:  # issue 21: raw / exempted / final figures and the appeals
        signoff_sheets.write(wb, fmt, data, label)
    for grain, (zh, en) in GRAINS.items():
        results = [r for r in data.results if r["grain"] == grain]
        if results:
            write_sheet(
                wb,
                fmt,
                f"{zh} {en}"[:31],
                f"{label} {zh}考核结果 · {en} results {data.month}",
                GRAIN_COLS,
                results,
                freeze_cols=4,
            )
    for name, title, rows, first in (
        ("片区考核 District A1-A6", "片区承包考核 (A1–A6) · District contract assessment", data.district, 2),
        ("维修人员记分卡 Technicians", "维修人员记分卡 · Technician scorecards", data.technician, 2),
    ):
        write_sheet(
            wb, fmt, name, f"{label} {title}", mart_cols(list(rows[0]) if rows else []), rows, freeze_cols=first
        )
    write_sheet(
        wb,
        fmt,
        "年度累计 Year to date",
        f"{data.month[:4]}年1月至{int(data.month[5:])}月 各单位达标月数 · Months passed / failed, year to date",
        YEARLY_COLS,
        data.yearly,
        freeze_cols=4,
    )
    from kefu.reports import score_sheets  # it builds on this module's Col and write_sheet

    score_sheets.write(wb, fmt, data, label)
    write_sheet(
        wb,
        fmt,
        "未达标工单 Tickets",
        f"{label} 超时工单明细 · Tickets behind the failed rules",
        ticket_cols(),
        data.tickets,
        freeze_cols=3,
    )
    write_sheet(
        wb,
        fmt,
        "无法计算 Not measurable",
        f"{label} 无数据的规则（导出缺列）· Rules the exports cannot measure {data.month}",
        NOT_MEASURABLE_COLS,
        data.not_measurable,
        freeze_cols=1,
    )
    if data.notes:
        write_sheet(
            wb,
            fmt,
            "计算口径 Notes",
            f"{label} 缺少可选列时的计算口径 · Measured without an optional column",
            NOTE_COLS,
            data.notes,
            freeze_cols=1,
        )
    write_sheet(
        wb,
        fmt,
        "规定原文 Regulations",
        "考核规则与规定原文 · Rules and regulation wording",
        RULE_COLS,
        data.measures,
        freeze_cols=1,
    )
    wb.set_properties(
        {
            "title": f"月度考核结果 {data.month}",
            "subject": "客服考核 monthly assessment",
            "comments": f"数据截至 as of {data.as_of:%Y-%m-%d %H:%M}{signed}",
        }
    )
    wb.close()
    return path

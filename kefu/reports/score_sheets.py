"""The workbook's score sheets: 考核得分 Score (every scored unit, its rank and year to date) and
扣分明细 Deductions (every failed measure and the points it cost), with the scheme in the title."""

from __future__ import annotations

import xlsxwriter

from kefu.reports.data import MonthData
from kefu.reports.score import SCORE_GRAINS, scheme
from kefu.reports.workbook import Col, write_sheet

GRAIN_LABELS = {g: zh for g, (zh, _) in SCORE_GRAINS.items()}

SCORE_COLS = [
    Col("grain", "考核层级", "Grain", width=11, labels=GRAIN_LABELS),
    Col("score_rank", "排名", "Rank", "int", 6),
    Col("unit_id", "单位编号", "Unit ID", width=10),
    Col("unit_name", "单位名称", "Unit", width=16),
    Col("score", "考核得分", "Score", "ratio", 10),
    Col("units_ranked", "参加排名数", "Units ranked", "int", 10),
    Col("measurable", "可计算项/考核项", "Measurable / scored", width=14),
    Col("measures_failed", "未达标项", "Measures failed", "count", 10),
    Col("deductions_uncapped", "扣分(封顶前)", "Deductions before cap", "ratio", 12),
    Col("deductions_applied", "扣分", "Deductions", "ratio", 9),
    Col("score_status", "得分状态", "Status", width=10, labels={"scored": "已计分", "not_measurable": "无法计算"}),
    Col("months_scored_ytd", "年累计考核月数", "Months scored YTD", "int", 12),
    Col("score_total_ytd", "年累计得分", "Score total YTD", "ratio", 12),
    Col("score_average_ytd", "年累计平均分", "Average YTD", "ratio", 12),
    Col("rank_ytd", "年累计排名", "Rank YTD", "int", 10),
]

DEDUCTION_COLS = [
    Col("grain", "考核层级", "Grain", width=11, labels=GRAIN_LABELS),
    Col("unit_id", "单位编号", "Unit ID", width=10),
    Col("unit_name", "单位名称", "Unit", width=16),
    Col("member_id", "所属片区/单位", "Of district / unit", width=12),
    Col("measure_id", "规则", "Rule", width=7),
    Col("name_zh", "指标名称", "Indicator", width=26),
    Col("value", "数值", "Value", "value", 11),
    Col("threshold", "阈值", "Threshold", "value", 11),
    Col("deduction", "扣分", "Points", "ratio", 8),
]


def title(label: str) -> str:
    s = scheme()
    return (
        f"{label} 考核得分 · Score — 基础分 {s['base']:g}，每项未达标扣分（默认 {s['default']:g}），"
        f"每月最多扣 {s['cap']:g} 分；无法计算的考核项不扣分 · base {s['base']:g} − min({s['cap']:g}, deductions)"
    )


def write(wb: xlsxwriter.Workbook, fmt: dict, data: MonthData, label: str) -> None:
    write_sheet(wb, fmt, "考核得分 Score", title(label), SCORE_COLS, data.scores, freeze_cols=4)
    write_sheet(
        wb,
        fmt,
        "扣分明细 Deductions",
        f"{label} 扣分明细（片区负责人按所负责片区平均）· Points lost per failed measure",
        DEDUCTION_COLS,
        data.deductions,
        freeze_cols=3,
    )

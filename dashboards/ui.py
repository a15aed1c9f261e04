"""What every page of the dashboard shares: the filters, number formats, status colours, tables
with CSV / Excel downloads, trend charts with the threshold line, and the rule-family page body."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, score_data
from kefu import access, contract, rulebook
from kefu.home import published_path
from kefu.safe_text import csv_bytes

COLOURS = {"green": "#2e7d32", "amber": "#ef8f00", "red": "#c62828", "none": "#9e9e9e"}
BADGES: dict[str, Literal["green", "orange", "red", "gray"]] = {
    "green": "green",
    "amber": "orange",
    "red": "red",
    "none": "gray",
}
FONT = "Noto Sans CJK SC, Source Han Sans SC, sans-serif"
GRAINS = {
    "company": "全公司",
    "district": "片区",
    "technician": "维修人员",
    "queue": "热线队列",
    "brand_group": "品牌",
    "tier_group": "客户等级",
    "hall": "营业厅",
}
WARNINGS = {"overdue": "已超时", "due_soon": "即将超时"}
STATES = {"met": "按时", "breached": "超时", "open_overdue": "未办结已超时", "open_within_limit": "办理中"}

# Chinese column headers of the tables and their downloads; ticket columns take the data contract's headers.
LABELS = {
    **{c.name: c.zh for c in contract.entity("tickets").columns},
    "rank": "排名",
    "measure_id": "规则",
    "name_zh": "名称",
    "grain": "考核层级",
    "unit_id": "单位编号",
    "unit_name": "单位",
    "numerator": "分子",
    "denominator": "分母",
    "value": "实际值",
    "comparison": "比较",
    "threshold": "阈值",
    "passed": "是否达标",
    "status": "状态",
    "previous_value": "上月值",
    "change": "环比变化",
    "value_kind": "值类型",
    "source": "制度",
    "wording": "规定原文",
    "period_month": "月份",
    "district_name": "片区名称",
    "households": "用户数",
    "households_target": "年度目标户数",
    "rules_assessed": "考核项数",
    "rules_passed": "达标项数",
    "rules_failed": "未达标项数",
    "is_all_passed": "全部达标",
    "technician_name": "姓名",
    "measures_judged": "考核项数",
    "measures_failed": "未达标项数",
    "clock_start_at": "计时开始",
    "deadline_at": "截止时间",
    "completed_at": "完成时间",
    "paused_hours": "挂起小时数",
    "state": "状态",
    "warning_level": "预警级别",
    "hours_left": "剩余小时",
    "limit_text": "时限",
    "weekday_index": "星期",
    "hour_of_day": "小时",
    "hours_with_calls": "有报修来电小时数",
    "hours_uncovered": "无人接听小时数",
    "calls_offered": "报修来电",
    "calls_answered": "人工接听",
    "customers_called": "外呼客户数",
    "customers_undisturbed": "未受打扰客户数",
    "phone_calls": "电话外呼次数",
    "breaching_calls": "违规外呼次数",
    "valid_answers": "有效评价",
    "satisfied_answers": "满意评价",
    "satisfaction_rate": "满意率",
    "notice_kind": "通知类型",
    "event_at": "停机/施工时间",
    "notice_at": "通知时间",
    "lead_hours": "提前小时数",
    "required_hours": "应提前小时数",
    "period_year": "年度",
    "months_assessed": "考核月数",
    "months_all_passed": "全部达标月数",
    "complaints_ytd": "年累计投诉",
    "household_months_ytd": "年累计户月",
    "complaint_rate_ytd": "年累计投诉率",
    "households_latest": "最新用户数",
    "households_target_ratio": "目标完成率",
    "is_households_target_reached": "达到年度目标",
    "first_month": "首月",
    "last_month": "末月",
    "area_type": "区域类型",
    "channel": "渠道",
    # data coverage (数据覆盖)
    "entity": "数据实体",
    "entity_zh": "中文名",
    "source_system": "数据源",
    "measurable": "可计算",
    "judged": "相关规则",
    "not_measurable": "无法计算",
    "measurable_since": "可计算起始日",
    "first_date": "首次导出",
    "last_date": "最近导出",
    "reason": "原因",
    "note": "说明",
    "business_date": "业务日期",
    "arrived": "已到达",
    "files": "文件数",
    "rows_read": "读取行数",
    "rows_loaded": "载入行数",
    "rows_quarantined": "隔离行数",
    "absent_columns": "缺少的列",
    **{f"{m.id.lower()}_value": f"{m.id} {m.name_zh}" for m in rulebook.load().values()},
    **{f"{m.id.lower()}_months_passed": f"{m.id} 达标月数" for m in rulebook.load().values()},
    **score_data.LABELS,
}


def status_column(label: str = LABELS["status"]):
    """The status column of a table: each cell a tag drawn in its status colour with the status name
    (the data grid paints the tag, so no emoji font is needed: Noto CJK has no colour dots, D-110)."""
    return st.column_config.MultiselectColumn(
        label, options=list(COLOURS), color=list(COLOURS.values()), format_func=data.STATUSES.get, width=100
    )  # fits 临界未达标


def css(status: str) -> str:
    """The cell style of a status colour."""
    return f"background-color: {COLOURS[status]}; color: white"


@dataclass(frozen=True)
class Filters:
    warehouse: Path
    month: str
    district: str | None
    technician: str | None
    tier: str | None
    tier_row: dict | None

    @property
    def scope(self) -> data.Scope:
        return data.scope_for(self.district, self.technician, self.tier, self.tier_row)


# ------------------------------------------------------------------ sidebar


def sidebar() -> Filters:
    """The warehouse and the four filters (month, district, technician, tier), shared by every page."""
    path = published_path()
    if not Path(path).exists():
        st.error(
            f"找不到已发布的数据仓库 {path}。请先运行夜间任务或 `make demo`。"
            f" (published warehouse {path} does not exist yet)"
        )
        st.stop()
    months = data.months(path)
    districts = data.districts(path)
    tiers = data.tiers(path)
    tier_names = contract.entity("customers").column("tier").values
    district_names = dict(zip(districts["district_id"], districts["district_name"]))
    with st.sidebar:
        st.markdown("### 筛选 · Filters")
        month = st.selectbox("月份", months, key="month")
        district = st.selectbox(
            "片区",
            [None, *district_names],
            key="district",
            format_func=lambda d: "全部片区" if d is None else f"{d} {district_names[d]}",
        )
        techs = data.technicians(path, month, district)
        tech_names = dict(zip(techs["technician_id"], techs["technician_name"]))
        technician = st.selectbox(
            "维修人员",
            [None, *tech_names],
            key="technician",
            format_func=lambda t: "全部维修人员" if t is None else f"{t} {tech_names[t]}",
        )
        tier = st.selectbox(
            "客户等级",
            [None, *tiers["tier"]],
            key="tier",
            format_func=lambda t: "全部等级" if t is None else tier_names.get(t, t),
        )
        as_of = data.as_of(path)
        st.caption(f"数据截至 {as_of}" if as_of else "")
        st.caption(
            f"状态：绿 达标 · 黄 未达标但距阈值不超过 {rulebook.amber_margin():.0%} · 红 未达标 · "
            "灰 无数据（导出缺列，无法计算 · not measurable）"
        )
    tier_row = tiers.set_index("tier").loc[tier].to_dict() if tier else None
    return Filters(Path(path), month, district, technician, tier, tier_row)


def filters() -> Filters:
    return st.session_state["filters"]


# ------------------------------------------------------------------ formats


def fmt(value, kind: str = "rate") -> str:
    """A rate as a percentage with four significant digits (A2's 0.0373 %), a ratio as a number."""
    if value is None or pd.isna(value):
        return "—"
    return f"{value * 100:.4g}%" if kind == "rate" else f"{value:,.4g}"


def fmt_change(value, kind: str = "rate") -> str | None:
    if value is None or pd.isna(value):
        return None
    return f"{value * 100:+.2f} 个百分点" if kind == "rate" else f"{value:+,.4g}"


def shown(frame: pd.DataFrame, text: dict[str, list], colours: dict[str, pd.Series]):
    """What a table shows: some columns as formatted text ("—" where empty: Streamlit would print None),
    some cells coloured by a status. The numbers themselves go to the downloads."""
    sty = frame.assign(**text).style
    for col, statuses in colours.items():
        sty = sty.apply(lambda _, s=list(statuses): [css(x) if x in COLOURS else "" for x in s], subset=[col])
    return sty


# ------------------------------------------------------------------ tables and downloads


def excel_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    # cells hold data, never live formulas or links (a text starting with "=" stays text)
    with pd.ExcelWriter(
        buffer, engine="xlsxwriter", engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}}
    ) as xl:
        frame.to_excel(xl, index=False, sheet_name="data")
    return buffer.getvalue()


def downloads(frame: pd.DataFrame, name: str) -> None:
    """CSV (UTF-8 with BOM, opens in Excel) and Excel buttons for a table, with Chinese headers.
    Each download is a line of the access log (who, page, scope, rows), written when it is made."""
    out = frame.rename(columns=LABELS)
    who, page = data.current_access(), st.session_state.get("page")

    def made(kind: str, content: bytes) -> bytes:
        access.log_event("download", who, page=page, rows=len(out), detail=f"{name}.{kind}")
        return content

    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "下载 CSV",
        lambda: made("csv", csv_bytes(out)),
        f"{name}.csv",
        "text/csv",
        key=f"{name}_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    right.download_button(
        "下载 Excel",
        lambda: made("xlsx", excel_bytes(out)),
        f"{name}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{name}_xlsx",
        on_click="ignore",
        icon=":material/download:",
    )


def table(
    frame: pd.DataFrame,
    name: str,
    columns: list[str] | None = None,
    display=None,
    rows: int = 12,
    percent: tuple[str, ...] = (),
    config: dict | None = None,
    **kwargs,
):
    """A table with Chinese headers (LABELS), `rows` rows high, and its CSV / Excel downloads of `frame`;
    `display` (see shown()) is what the table shows instead, if given; `config` overrides the column
    configuration of some columns. Returns the selection event."""
    columns = columns or list(frame.columns)
    config = {
        **{
            c: st.column_config.NumberColumn(LABELS.get(c, c), format="percent") if c in percent else LABELS.get(c, c)
            for c in columns
        },
        **(config or {}),
    }
    event = st.dataframe(
        frame if display is None else display,
        key=name,
        hide_index=True,
        column_order=columns,
        column_config=config,
        height=35 * min(max(len(frame), 1), rows) + 38,
        **kwargs,
    )
    downloads(frame[columns], name)
    return event


def rule_table(frame: pd.DataFrame, name: str, columns: list[str] | None = None, rows: int = 12):
    """Rule rows: value, threshold and change formatted by value kind, the status cell coloured."""
    columns = columns or [
        "measure_id",
        "name_zh",
        "grain",
        "unit_name",
        "numerator",
        "denominator",
        "value",
        "comparison",
        "threshold",
        "status",
        "change",
    ]
    labelled = frame.assign(grain=frame["grain"].map(GRAINS), status=frame["status"].map(data.STATUSES))
    kinds = frame["value_kind"]
    text: dict[str, list] = {
        c: [fmt(v, k) for v, k in zip(frame[c], kinds)] for c in ("value", "threshold", "previous_value")
    }
    text["change"] = [fmt_change(v, k) or "—" for v, k in zip(frame["change"], kinds)]
    text["comparison"] = frame["comparison"].map({">=": "≥", "<=": "≤", ">": ">", "<": "<"}).fillna("—").tolist()
    # the status column is a coloured tag (status_column), not a cell style: a pandas Styler over a
    # page's ~1,400 rule rows (city preset) costs Streamlit 0.5 s per page run (docs/benchmarks.md)
    text["status"] = [[s] for s in frame["status"]]
    return table(labelled, name, columns, labelled.assign(**text), rows=rows, config={"status": status_column()})


# ------------------------------------------------------------------ charts


def layout(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    return fig.update_layout(
        title=title,
        height=height,
        font_family=FONT,
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", y=-0.2),
        plot_bgcolor="white",
    )


def trend_chart(trend: pd.DataFrame, kind: str, title: str) -> go.Figure:
    """Value by month with the threshold as read from the mart (a dashed step line: C6's moves)."""
    fig = go.Figure()
    fig.add_scatter(
        x=trend["period_month"],
        y=trend["threshold"],
        name="阈值",
        mode="lines",
        line=dict(color="#555", dash="dash", shape="hv"),
    )
    fig.add_scatter(
        x=trend["period_month"],
        y=trend["value"],
        name="实际值",
        mode="lines+markers+text",
        text=[fmt(v, kind) for v in trend["value"]],
        textposition="top center",
        line=dict(color="#1565c0"),
        marker=dict(size=12, color=[COLOURS[s] for s in trend["status"]]),
    )
    fig.update_yaxes(tickformat=".2%" if kind == "rate" else ",.4g", gridcolor="#eee")
    fig.update_xaxes(type="category")
    return layout(fig, title)


def bar_chart(frame: pd.DataFrame, x: str, kind: str, title: str) -> go.Figure:
    """One bar per unit coloured by status, with each unit's threshold as a marker line."""
    fig = go.Figure()
    fig.add_bar(
        x=frame[x],
        y=frame["value"],
        name="实际值",
        marker_color=[COLOURS[s] for s in frame["status"]],
        text=[fmt(v, kind) for v in frame["value"]],
        textposition="outside",
    )
    fig.add_scatter(
        x=frame[x],
        y=frame["threshold"],
        name="阈值",
        mode="markers",
        marker=dict(symbol="line-ew-open", size=28, color="#333", line=dict(width=3)),
    )
    top = max(frame["value"].max(), frame["threshold"].max())
    fig.update_yaxes(tickformat=".2%" if kind == "rate" else ",.4g", gridcolor="#eee", range=[0, top * 1.15])
    return layout(fig, title)


# ------------------------------------------------------------------ the page body of a family of rules


def metric_card(r) -> None:
    """A rule of a unit: status, value, change from last month; the threshold and counts on hover."""
    with st.container(border=True):
        st.badge(data.STATUSES[r.status], color=BADGES[r.status])
        st.metric(
            f"{r.measure_id} {r.name_zh}",
            fmt(r.value, r.value_kind),
            fmt_change(r.change, r.value_kind),
            delta_color="inverse" if r.comparison in ("<=", "<") else "normal",
            help=f"{r.unit_name} · 阈值 {r.comparison or ''} {fmt(r.threshold, r.value_kind)}"
            f" · {r.numerator:,}/{r.denominator:,}",
        )


def metric_cards(rows: pd.DataFrame, per_row: int = 4) -> None:
    """One card per rule of the scope."""
    for start in range(0, len(rows), per_row):
        for col, r in zip(st.columns(per_row), rows.iloc[start : start + per_row].itertuples()):
            with col:
                metric_card(r)


def rule_detail(rows: pd.DataFrame, f: Filters, key: str, card: bool = True) -> None:
    """A rule of the scope on demand: the regulation's wording and its trend with the threshold line."""
    labels = [f"{r.measure_id} {r.name_zh} · {r.unit_name}" for r in rows.itertuples()]
    pick = st.selectbox("查看规则（规定原文与趋势）", labels, key=f"{key}_rule")
    if pick is None:
        return
    r = rows.iloc[labels.index(pick)]
    left, right = st.columns([2, 3])
    with left:
        if card:
            metric_card(r)
        st.markdown(f"**{r.measure_id} {r.name_zh}**（制度 {r.source}）")
        st.info(r.wording or "—")
        st.caption(
            f"{GRAINS[r.grain]}：{r.unit_name} · 分子 {r.numerator:,} / 分母 {r.denominator:,} · "
            f"阈值 {r.comparison or ''} {fmt(r.threshold, r.value_kind)}"
        )
    trend = data.rule_trend(f.warehouse, r.measure_id, r.grain, r.unit_id)
    right.plotly_chart(trend_chart(trend, r.value_kind, f"{r.measure_id} 月度趋势 · {r.unit_name}"), key=f"{key}_trend")


def quarter_ended(month: str, as_of: str | None) -> bool:
    """Whether the calendar quarter of `month` has ended by the data's as-of time (unknown: not ended)."""
    start = pd.Period(month, "M").asfreq("Q").end_time.normalize() + pd.Timedelta(days=1)
    return as_of is not None and pd.Timestamp(as_of) >= start


def unshown_reason(m: rulebook.Measure, month: str, grains: set[str], as_of: str | None) -> str:
    """Why a judged measure has no row at a scope (its grains) in a month: kpi_rule_results holds a row
    only where something was judged. A duty per calendar quarter (every limit "1 quarter": C8) is judged
    in the quarter's last month, once that month is complete (int_months_enumerated)."""
    if not grains & set(m.grains):
        return f"只在{'、'.join(GRAINS[g] for g in m.grains)}层级考核 (judged at other levels only)"
    quarterly = m.limits and all(str(x.raw) == "1 quarter" for x in m.limits.values())
    if quarterly:
        quarter = pd.Period(month, "M").asfreq("Q")
        last = quarter.asfreq("M", "end").strftime("%Y-%m")
        if not quarter_ended(month, as_of):
            return (
                f"按季度考核，{quarter.year} 年第 {quarter.quarter} 季度尚未结束，季末月 {last} 考核"
                f" (judged per quarter: the quarter has not ended yet)"
            )
        if month != last:
            return f"按季度考核，在季末月 {last} 考核 (judged per quarter, in its last month {last})"
    return "本月该范围没有考核对象 (nothing to judge at this scope this month)"


def unshown_note(
    rules: list[str] | None, shown: set[str], month: str, grains: set[str], as_of: str | None
) -> str | None:
    """The caption naming the judged measures of a page not shown at the scope, grouped by the reason."""
    reasons: dict[str, list[str]] = {}
    for m in rulebook.load().values():
        if m.grains and (rules is None or m.id in rules) and m.id not in shown:
            reasons.setdefault(unshown_reason(m, month, grains, as_of), []).append(m.id)
    if not reasons:
        return None
    return "本范围未显示的规则 · not shown at this scope：" + "；".join(
        f"{'、'.join(ids)}：{reason}" for reason, ids in reasons.items()
    )


def not_measurable(f: Filters, rules: list[str] | None) -> pd.DataFrame:
    """The scope's rules the month's exports cannot measure, each shown grey with its reason (D-92):
    `无数据 · not measurable: tickets.product missing from ticket_system`."""
    missing = data.not_measurable(f.warehouse, f.month, rules)
    grains = {g for g, _, _ in f.scope}
    # the scope's grains, and the grains of a rule judged only elsewhere (A3: districts only)
    judged = {m.id: set(m.grains) for m in rulebook.load().values()}
    keep = [g in grains or not (judged.get(r, set()) & grains) for r, g in zip(missing["measure_id"], missing["grain"])]
    missing = missing[pd.Series(keep, index=missing.index, dtype=bool)]  # a list would select columns when empty
    if missing.empty:
        return missing
    st.markdown("**无数据的规则 · Not measurable**")
    for r in missing.itertuples():
        st.markdown(
            f":gray[**{r.measure_id} {r.name_zh}**（{GRAINS.get(r.grain, r.grain)}）· "
            f"{data.not_measurable_label(r.reason)}]"
        )
    return missing


def rule_family(title: str, rules: list[str] | None, key: str, cards: bool = True) -> pd.DataFrame:
    """The body shared by the rule pages: the scope's cards, one rule on demand, every unit's table."""
    f = filters()
    st.title(title)
    scoped = data.rule_results(f.warehouse, f.month, rules, f.scope)
    missing = not_measurable(f, rules)
    if scoped.empty:
        st.info("本月该范围没有考核数据。")
        return scoped
    note = unshown_note(
        rules,
        set(scoped["measure_id"]) | set(missing["measure_id"]),
        f.month,
        {g for g, _, _ in f.scope},
        data.as_of(f.warehouse),
    )
    if note:
        st.caption(note)
    if cards:
        metric_cards(scoped)
    else:
        counts = scoped["status"].value_counts()
        for col, s in zip(st.columns(4), ("green", "amber", "red", "none")):
            col.metric(f":{BADGES[s]}[{data.STATUSES[s]}]", f"{counts.get(s, 0)} 项")
    rule_detail(scoped, f, key, card=not cards)
    st.subheader(f"{f.month} 考核结果" + ("（当前范围）" if not cards else "（全部单位）"))
    rows = scoped if not cards else data.rule_results(f.warehouse, f.month, rules)
    rule_table(rows, f"{key}_{f.month}", rows=len(rows) if not cards else 12)
    return scoped

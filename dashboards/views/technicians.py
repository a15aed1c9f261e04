"""维修人员: technician scorecards of the month (kpi_technician_monthly; each cell coloured by its
kpi_rule_results status). Click a cell: the tickets behind it (marts.fct_ticket_sla)."""

import streamlit as st

from dashboards import data, ui
from kefu import rulebook

f = ui.filters()
st.title("维修人员考核 · Technician scorecards")
values, statuses = data.technician_scorecards(f.warehouse, f.month, f.district, f.technician)
if values.empty:
    st.info("本月该范围没有维修人员考核数据。")
    st.stop()
rules = [c for c in values.columns if c in rulebook.load()]
kinds = {r: rulebook.load()[r].value for r in rules}
display = ui.shown(values, {r: [ui.fmt(v, kinds[r]) for v in values[r]] for r in rules}, statuses[rules])
st.caption(
    "点击单元格查看其背后的未按时工单（红/黄 = 未达标）。"
    + "  ".join(f"{r} {rulebook.load()[r].name_zh}" for r in rules)
)
key = f"scorecards_{f.month}_{f.district}_{f.technician}"
event = ui.table(
    values,
    key,
    ["technician_id", "technician_name", "district_id", "measures_judged", "measures_failed", *rules],
    display,
    rows=len(values),
    on_select="rerun",
    selection_mode="single-cell",
)

cells = [(row, col) for row, col in event.selection.cells if col in rules]
if cells:
    row, rule = cells[0]
    tech = values.iloc[row]
    tickets = data.failed_tickets(f.warehouse, rule, f.month, technician=tech["technician_id"])
    st.subheader(
        f"{tech['technician_id']} {tech['technician_name']} · {rule} {rulebook.load()[rule].name_zh} · {f.month}"
    )
    cols = st.columns(3)
    cols[0].metric("考核值", ui.fmt(tech[rule], kinds[rule]))
    cols[1].metric("状态", data.STATUSES.get(statuses.iloc[row][rule], "—"))
    cols[2].metric("未按时工单", f"{len(tickets)} 张")
    if tickets.empty:
        st.info("该单元格没有未按时的工单（达标，或该规则不按工单时限计：S3 来自满意度评价）。")
    else:
        ui.table(
            tickets.assign(state=tickets["state"].map(ui.STATES)), f"tickets_{rule}_{tech['technician_id']}_{f.month}"
        )

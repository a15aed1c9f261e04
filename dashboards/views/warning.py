"""超时预警: open tickets already overdue or due within the warning window (rpt_early_warning), by owner
(the technician on the ticket, else its district). Filters: district, technician, tier (not month: this is now)."""

import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui

f = ui.filters()
st.title("超时预警 · Early warning")
frame = data.early_warning(f.warehouse, f.district, f.technician, f.tier)
st.caption(f"截至 {data.as_of(f.warehouse)}：未办结且已超时、或将在预警窗口内到期的工单时限（不受月份筛选影响）。")
counts = frame["warning_level"].value_counts()
cols = st.columns(3)
cols[0].metric("已超时", f"{counts.get('overdue', 0)} 项")
cols[1].metric("即将超时", f"{counts.get('due_soon', 0)} 项")
cols[2].metric("涉及工单", f"{frame['ticket_id'].nunique()} 张")
if frame.empty:
    st.success("没有需要预警的工单。")
    st.stop()

owner = frame["technician_id"].fillna(frame["district_id"])
by_owner = frame.assign(owner=owner).groupby(["owner", "warning_level"]).size().unstack(fill_value=0)
by_owner = by_owner.loc[by_owner.sum(axis=1).sort_values(ascending=False).index]
fig = go.Figure()
for level, colour in (("overdue", ui.COLOURS["red"]), ("due_soon", ui.COLOURS["amber"])):
    if level in by_owner:
        fig.add_bar(x=by_owner.index, y=by_owner[level], name=ui.WARNINGS[level], marker_color=colour)
fig.update_layout(barmode="stack")
st.plotly_chart(ui.layout(fig, "按责任人（维修人员，无则片区）"), key="warning_owner")
ui.table(frame.assign(warning_level=frame["warning_level"].map(ui.WARNINGS)), "early_warning")

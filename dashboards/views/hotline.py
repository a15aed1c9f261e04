"""热线: VIP service level (H1), expert-seat and self-service transfers (H2, H3), VIP callers transferred
without asking (H4), and the 7×24 coverage of fault calls (H5) as an hour × weekday heat map.
The tier filter selects the hotline queue of the tier's group."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from kefu import rulebook

ui.rule_family("热线 · Hotline", rulebook.page_measures("hotline"), "hotline")
f = ui.filters()
queue = f.tier_row["tier_group"] if f.tier_row else None
heat = data.coverage_heatmap(f.warehouse, f.month, queue)
st.subheader("H5 故障报修 7×24 小时人工服务覆盖" + (f"（{data.group_labels()[('queue', queue)]}）" if queue else ""))
if heat.empty:
    st.info("本月没有要求人工服务的报修来电。")
else:
    weekdays = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
    cells = pd.MultiIndex.from_product([range(7), range(24)], names=["weekday_index", "hour_of_day"])
    full = heat.set_index(["weekday_index", "hour_of_day"]).reindex(cells)
    grid = {c: full[c].unstack().values for c in ("calls_offered", "calls_answered", "hours_uncovered")}
    hover = [
        [
            f"{weekdays[d]} {h:02d}时<br>"
            + (
                "无报修来电"
                if pd.isna(grid["calls_offered"][d, h])
                else f"报修来电 {grid['calls_offered'][d, h]:.0f} · 人工接听 {grid['calls_answered'][d, h]:.0f}"
                f"<br>无人接听小时数 {grid['hours_uncovered'][d, h]:.0f}"
            )
            for h in range(24)
        ]
        for d in range(7)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=grid["calls_answered"] / grid["calls_offered"],
            x=[f"{h:02d}" for h in range(24)],
            y=weekdays,
            hovertext=hover,
            hoverinfo="text",
            colorscale=[[0, ui.COLOURS["red"]], [0.5, ui.COLOURS["amber"]], [1, ui.COLOURS["green"]]],
            zmin=0,
            zmax=1,
            xgap=2,
            ygap=2,
            colorbar=dict(title="人工接听占比", tickformat=".0%"),
            text=[[f"{v:.0f}" if v > 0 else "" for v in row] for row in grid["hours_uncovered"]],
            texttemplate="%{text}",
        )
    )
    fig.update_yaxes(autorange="reversed")
    st.plotly_chart(ui.layout(fig, "人工接听占比（格内数字：无人接听的小时数）", height=360), key="coverage")
    ui.table(heat, f"coverage_{f.month}")

"""满意度: hotline satisfaction by brand group (S1, a threshold per group), district satisfaction (S2),
VIP install/repair satisfaction (S3), and the satisfied share of every customer tier (measured)."""

import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from kefu import contract, rulebook

ui.rule_family("满意度 · Satisfaction", rulebook.page_measures("satisfaction"), "satisfaction")
f = ui.filters()
left, right = st.columns(2)
brands = data.rule_results(f.warehouse, f.month, rulebook.grain_measures("brand_group"), (("brand_group", "*", 1),))
left.plotly_chart(ui.bar_chart(brands, "unit_name", "rate", f"S1 热线满意率 · 分品牌 · {f.month}"), key="s1_brands")

by_tier = data.satisfaction_by_tier(f.warehouse, f.month)
tier_names = contract.entity("customers").column("tier").values
channels = {"hotline": "热线", "ticket": "工单回访"}
fig = go.Figure()
for channel, rows in by_tier.groupby("channel"):
    fig.add_bar(
        x=rows["customer_tier"].map(tier_names),
        y=rows["satisfaction_rate"],
        name=channels.get(channel, channel),
        text=[ui.fmt(v) for v in rows["satisfaction_rate"]],
        textposition="outside",
    )
fig.update_yaxes(tickformat=".0%", gridcolor="#eee")
right.plotly_chart(ui.layout(fig, f"各客户等级满意率（仅统计）· {f.month}"), key="tier_satisfaction")
st.subheader("各客户等级满意度评价")
shown = by_tier if f.tier is None else by_tier[by_tier["customer_tier"] == f.tier]
ui.table(
    shown.assign(customer_tier=shown["customer_tier"].map(tier_names), channel=shown["channel"].map(channels)),
    f"satisfaction_tiers_{f.month}",
    percent=("satisfaction_rate",),
)

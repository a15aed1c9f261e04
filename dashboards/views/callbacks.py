"""回访与免打扰: callback duties C1–C9 and outbound do-not-disturb P1 (with the phone calls behind it)."""

import streamlit as st

from dashboards import data, ui
from kefu import rulebook

ui.rule_family("回访与免打扰 · Callbacks and do-not-disturb", rulebook.page_measures("callbacks"), "callbacks")
f = ui.filters()
st.subheader("外呼免打扰 (P1) · 外呼与违规次数")
policy = data.contact_policy(f.warehouse, f.month)
units = [data.group_labels()[(g, u)] for g, u in zip(policy["grain"], policy["unit_id"])]
ui.table(
    policy.assign(grain=policy["grain"].map(ui.GRAINS), unit_id=units).rename(columns={"unit_id": "unit_name"}),
    f"contact_policy_{f.month}",
    percent=("value", "threshold"),
)

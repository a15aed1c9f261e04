"""营业厅: B1 (waiting time within the tier's limit) and B2 (VIP card holders received by a dedicated person), per hall."""

import streamlit as st

from dashboards import data, ui
from kefu import rulebook

ui.rule_family("营业厅 · Business halls", rulebook.page_measures("hall"), "hall")
f = ui.filters()
halls = data.rule_results(f.warehouse, f.month, rulebook.grain_measures("hall"), (("hall", "*", 1),))
for col, (rule, rows) in zip(st.columns(2), halls.groupby("measure_id", sort=True)):
    col.plotly_chart(
        ui.bar_chart(rows, "unit_name", "rate", f"{rule} {rows['name_zh'].iloc[0]} · 各营业厅"), key=f"hall_{rule}"
    )

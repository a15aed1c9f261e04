"""停机与施工通知: N1 (notice before suspension for arrears) and N2 (before engineering / line works),
with the notices given too late."""

import streamlit as st

from dashboards import data, ui

ui.rule_family("停机与施工通知 · Notices", ["N1", "N2"], "notices")
f = ui.filters()
late = data.late_notices(f.warehouse, f.month, f.district)
st.subheader(f"通知不及时明细（{len(late)} 条）")
ui.table(late, f"late_notices_{f.month}")

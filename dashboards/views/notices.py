"""停机与施工通知: N1 (notice before suspension for arrears) and N2 (before engineering / line works),
with the notices given too late."""

import streamlit as st

from dashboards import data, ui
from kefu import rulebook

ui.rule_family("停机与施工通知 · Notices", rulebook.page_measures("notices"), "notices")
f = ui.filters()
late = data.late_notices(f.warehouse, f.month, f.district)
st.subheader(f"通知不及时明细（{len(late)} 条）")
never = late["notice_at"].isna()
ui.table(
    late,
    f"late_notices_{f.month}",
    display=ui.shown(
        late,
        {
            "notice_at": ["未通知" if n else f"{t:%Y-%m-%d %H:%M}" for n, t in zip(never, late["notice_at"])],
            "lead_hours": ["—" if n else f"{h:.1f}" for n, h in zip(never, late["lead_hours"])],
        },
        {},
    ),
)

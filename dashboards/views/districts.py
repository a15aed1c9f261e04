"""片区考核: the district contract assessment (客户服务承包制度) A1–A6 of the month — ranking,
pass/fail per rule — and the yearly tally (A5) from kpi_district_monthly / kpi_district_yearly."""

import streamlit as st

from dashboards import data, ui
from kefu import rulebook

RULES = rulebook.family_measures("A")
f = ui.filters()
st.title("片区考核 · District assessment (A1–A6)")
frame = data.district_assessment(f.warehouse, f.month)
kinds = {r.lower(): rulebook.load()[r].value for r in RULES}

if f.district:
    st.subheader(f"{f.district} {frame.set_index('district_id').at[f.district, 'district_name']}")
    ui.metric_cards(data.rule_results(f.warehouse, f.month, RULES, (("district", f.district, 1),)), per_row=5)
else:
    cols = st.columns(3)
    cols[0].metric("参加考核片区", f"{len(frame)} 个")
    cols[1].metric("全部达标片区", f"{int(frame['is_all_passed'].sum())} 个")
    cols[2].metric("未达标考核项", f"{int(frame['rules_failed'].sum())} 项")

a2 = frame.rename(columns={"a2_value": "value", "a2_threshold": "threshold", "a2_status": "status"})
st.plotly_chart(
    ui.bar_chart(a2, "district_name", "rate", f"A2 片区月投诉率 · {f.month}（虚线标记为阈值）"), key="districts_a2"
)

st.subheader(f"{f.month} 片区排名（未达标项少者在前，同数按投诉率）")
values = [f"{r}_value" for r in kinds]
display = ui.shown(
    frame,
    {f"{r}_value": [ui.fmt(v, k) for v in frame[f"{r}_value"]] for r, k in kinds.items()},
    {f"{r}_value": frame[f"{r}_status"] for r in kinds},
)
ui.table(
    frame,
    f"districts_{f.month}",
    ["rank", "district_id", "district_name", "area_type", "households", *values, "rules_passed", "rules_failed"],
    display,
)

year = f.month[:4]
st.subheader(f"{year} 年度汇总 (A5)")
ui.table(
    data.district_yearly(f.warehouse, year),
    f"districts_year_{year}",
    [
        "district_id",
        "district_name",
        "months_assessed",
        "months_all_passed",
        *[f"{r}_months_passed" for r in kinds],
        "complaints_ytd",
        "complaint_rate_ytd",
        "households_latest",
        "households_target",
        "households_target_ratio",
    ],
    percent=("complaint_rate_ytd", "households_target_ratio"),
)

"""考核得分: the monthly score of districts, district heads and technicians (base − capped deductions
of the failed measures, the rulebook's `score:`), their rank, the year to date, and for a picked
unit the points it lost by measure (marts.kpi_score_*; docs/decisions.md D-135..D-139)."""

import streamlit as st

from dashboards import data, score_data, ui

f = ui.filters()
access = data.current_access()
st.title("考核得分 · Assessment score")
st.caption(score_data.scheme_text())

grains = ["technician"] if access.role == "technician" else list(score_data.GRAINS)
grain = st.radio("考核层级", grains, format_func=score_data.GRAINS.get, horizontal=True, key="score_grain")
frame = score_data.monthly(f.warehouse, f.month, grain, f.district, f.technician)
if frame.empty:
    if grain == "district_head":
        st.info(
            "本月没有片区负责人得分：片区清单未提供片区负责人工号（head_id），无法计算 · "
            "not measurable: the districts reference names no district head (head_id)."
        )
    else:
        st.info("本月该范围没有考核得分。")
    st.stop()

scored = frame[frame["score"].notna()]
cols = st.columns(4)
cols[0].metric(f"参加排名{score_data.GRAINS[grain]}", f"{len(scored)} 个")
cols[1].metric("平均得分", f"{scored['score'].mean():.1f}" if len(scored) else "—")
cols[2].metric("最高 / 最低", f"{scored['score'].max():g} / {scored['score'].min():g}" if len(scored) else "—")
cols[3].metric("扣分封顶", f"{int(frame['is_capped'].fillna(False).sum())} 个")
unmeasurable = frame[frame["score"].isna()]
if len(unmeasurable):
    st.warning("无法计算得分（没有可计算的考核项，不记 100 分）：" + "、".join(unmeasurable["unit_id"]))

st.subheader(f"{f.month} {score_data.GRAINS[grain]}得分排名")
frame = frame.assign(
    measurable_label=[
        score_data.measurable_zh(n, m) for n, m in zip(frame["measures_measurable"], frame["measures_scored"])
    ]
)
display = frame.assign(
    score=[ui.fmt(v, "ratio") for v in frame["score"]],
    score_average_ytd=[ui.fmt(v, "ratio") for v in frame["score_average_ytd"]],
    deductions_applied=[ui.fmt(v, "ratio") for v in frame["deductions_applied"]],
)
ui.table(
    frame,
    f"score_{grain}_{f.month}",
    [
        "score_rank",
        "unit_id",
        "unit_name",
        "score",
        "measurable_label",
        "measures_failed",
        "deductions_applied",
        "is_capped",
        "score_average_ytd",
        "rank_ytd",
        "months_scored_ytd",
    ],
    display,
    rows=len(frame),
)

units = frame["unit_id"].tolist()
names = dict(zip(frame["unit_id"], frame["unit_name"]))
unit = st.selectbox("查看扣分明细", units, key="score_unit", format_func=lambda u: f"{u} {names[u]}")
row = frame.set_index("unit_id").loc[unit]
cols = st.columns(4)
cols[0].metric("考核得分", ui.fmt(row["score"], "ratio"))
cols[1].metric(
    "排名",
    "—"
    if row["score_rank"] is None or row["score_rank"] != row["score_rank"]
    else f"{int(row['score_rank'])} / {int(row['units_ranked'])}",
)
cols[2].metric("可计算考核项", row["measurable_label"])
cols[3].metric("年累计平均分", ui.fmt(row["score_average_ytd"], "ratio"))

st.subheader(f"{unit} 扣分（按考核项）")
by_measure = score_data.deductions_by_measure(f.warehouse, f.month, grain, unit)
if by_measure.empty:
    st.info("本月没有扣分。")
else:
    ui.table(
        by_measure,
        f"score_deductions_{grain}_{unit}_{f.month}",
        ["measure_id", "name_zh", "measures_failed", "deduction"],
    )
detail = score_data.lines(f.warehouse, f.month, grain, unit)
with st.expander(f"全部考核项（{row['measurable_label']}，无法计算的不扣分）"):
    shown = detail.assign(
        status=detail["status"].map({"passed": "达标", "failed": "未达标", "not_measurable": "无法计算"})
    )
    ui.table(detail, f"score_lines_{grain}_{unit}_{f.month}", None, shown)

st.subheader(f"{f.month[:4]} 年度累计")
ui.table(score_data.year(f.warehouse, f.month, grain, unit), f"score_year_{grain}_{unit}_{f.month}")

"""数据覆盖 · Data coverage: per entity and source, which rules its exports make measurable and since
when, rows per business date, and the business dates whose export never arrived (D-94)."""

import streamlit as st

from dashboards import data, ui

f = ui.filters()
st.title("数据覆盖 · Data coverage")
rules = data.coverage_rules(f.warehouse)
daily = data.coverage_daily(f.warehouse)
if daily.empty:
    st.info("尚未载入任何导出文件。 (no export loaded yet)")
    st.stop()

st.subheader("各数据源可计算的规则 · Rules each source makes measurable")
summary = (
    rules.groupby(["entity", "entity_zh", "source_system"])
    .agg(measurable=("measurable", "sum"), judged=("measurable", "size"))
    .reset_index()
)
summary["not_measurable"] = summary["judged"] - summary["measurable"]
ui.table(
    summary, "coverage_sources", ["entity", "entity_zh", "source_system", "judged", "measurable", "not_measurable"]
)
missing = rules[~rules["measurable"].astype(bool)]
if not missing.empty:
    st.markdown("**无数据的规则 · Not measurable**")
    for r in missing.itertuples():
        st.markdown(
            f":gray[**{r.measure_id} {r.name_zh}**（{ui.GRAINS.get(r.grain, r.grain)}）· "
            f"{data.not_measurable_label(r.reason)}]"
        )
noted = rules[rules["note"].notna()]
if not noted.empty:  # measurable, but computed without an optional column (D-119)
    st.markdown("**计算口径说明 · Measured without an optional column**")
    for r in noted.itertuples():
        st.markdown(
            f"**{r.measure_id} {r.name_zh}**（{ui.GRAINS.get(r.grain, r.grain)}）· 注 · note: "
            f"{r.note.removeprefix('column ')}"
        )
ui.table(
    rules,
    "coverage_rules",
    [
        "entity",
        "source_system",
        "measure_id",
        "name_zh",
        "grain",
        "measurable",
        "measurable_since",
        "first_date",
        "last_date",
        "reason",
        "note",
    ],
)

st.subheader("每个业务日的行数 · Rows per business date")
rows = daily.pivot_table(index="business_date", columns="entity", values="rows_loaded", aggfunc="sum")
st.line_chart(rows)
gaps = daily[~daily["arrived"].astype(bool)]
st.subheader("未到达的导出 · Exports that never arrived")
if gaps.empty:
    st.success("每个业务日的导出都已到达。 (every business date's exports arrived)")
else:
    ui.table(gaps, "coverage_gaps", ["entity", "entity_zh", "source_system", "business_date"])
ui.table(
    daily,
    "coverage_daily",
    [
        "entity",
        "source_system",
        "business_date",
        "arrived",
        "files",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "absent_columns",
    ],
)

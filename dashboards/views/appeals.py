"""申诉: appeals against failed items of a draft month, the manager's decisions and the sign-off
(issue 21, docs/decisions.md D-134). The same functions as `kefu appeals` / `kefu assessment`
(kefu/appeals.py), so the window, the scope and "failed items only" hold here too. Reads the
appeals ledger and the frozen months of $KEFU_HOME, not the published warehouse."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from kefu import appeals, appeals_excel
from kefu.appeals import AppealError
from kefu.home import Home

access = st.session_state.get("access")
if access is None:
    st.error("请先登录。Please sign in.")
    st.stop()
home = Home.from_env()
folder = home.published_dir / "assessment"
months = (
    sorted((p.name for p in folder.iterdir() if (p / "kpi_rule_results.parquet").exists()), reverse=True)
    if folder.is_dir()
    else []
)
st.title("申诉 · Appeals")
if not months:
    st.info("还没有结账的月份。No month has been closed yet: the monthly_assessment run publishes the draft.")
    st.stop()
month = st.selectbox("考核月份 Month", months, key="appeal_month")
status = appeals.status(home, month)
(st.success if status.state == "final" else st.warning)(
    status.label
    + (
        f" · 申诉截止 window closes {status.window_ends:%Y-%m-%d %H:%M}"
        if status.state == "draft" and status.window_ends
        else ""
    )
)


def visible(a: appeals.Appeal) -> bool:
    if access.role in ("manager", "analyst", "auditor"):
        return True
    if access.role == "district_head":
        return a.district_id in (access.districts or ())
    return a.technician_id == access.technician


listed = [a for a in appeals.appeals(home, month) if visible(a)]
clear = access.role == "manager"  # the decider reads the reason as written; everyone else masked
frame = pd.DataFrame(
    [
        {
            "编号": a.appeal_id,
            "规则": a.item.measure_id,
            "工单/单位": a.item.item_id,
            "申诉人": a.filed_by,
            "理由": a.reason if clear else appeals.published_text(a.reason),
            "附件": a.attachment or "",
            "结果": {"pending": "待审核", "approved": "核减", "rejected": "驳回"}[a.state],
            "审核人": a.decided_by or "",
            "意见": appeals.published_text(a.comment) or "",
        }
        for a in listed
    ]
)
st.subheader("申诉清单 · Appeals")
if frame.empty:
    st.caption("本月暂无申诉。No appeal yet.")
else:
    st.dataframe(frame, hide_index=True, use_container_width=True)

if access.role in appeals.FILERS and status.state == "draft":
    st.subheader("提交申诉 · File an appeal")
    items = appeals_excel.failed_items(home, month, access)
    taken = {a.item.item_id + "|" + a.item.measure_id for a in listed if a.state != "rejected"}
    items = [i for i in items if f"{i['item_id']}|{i['measure_id']}" not in taken]
    if not items:
        st.caption("没有可申诉的未达标项。No failed item of yours to appeal.")
    else:
        with st.form("file_appeal", clear_on_submit=True):
            pick = st.selectbox(
                "未达标项 Failed item",
                range(len(items)),
                key="appeal_item",
                format_func=lambda i: f"{items[i]['measure_id']} · {items[i]['item_id']} · {items[i]['detail']}",
            )
            reason = st.text_area("申诉理由 Reason", key="appeal_reason")
            upload = st.file_uploader("附件 Attachment", key="appeal_attachment")
            if st.form_submit_button("提交 File"):
                chosen = items[pick]
                item = (
                    appeals.Item.ticket(chosen["measure_id"], chosen["item_id"])
                    if chosen["item_kind"] == "ticket"
                    else appeals.Item.unit(chosen["measure_id"], *chosen["item_id"].split(":", 1))
                )
                try:
                    with tempfile.TemporaryDirectory() as tmp:
                        path = None
                        if upload is not None:
                            path = Path(tmp) / Path(upload.name).name
                            path.write_bytes(upload.getvalue())
                        filed = appeals.file_appeal(home, access, month, item, reason, path)
                    st.success(f"已提交 filed {filed.appeal_id}")
                except AppealError as exc:
                    st.error(str(exc))

if access.role in appeals.DECIDERS and status.state == "draft":
    pending = [a for a in listed if a.state == "pending"]
    st.subheader("审核 · Decide")
    if pending:
        with st.form("decide_appeal", clear_on_submit=True):
            which = st.selectbox("申诉 Appeal", [a.appeal_id for a in pending], key="decide_which")
            decision = st.radio(
                "结果 Decision",
                list(appeals.DECISIONS),
                key="decide_decision",
                format_func=appeals.DECISIONS.get,
                horizontal=True,
            )
            comment = st.text_area("审核意见 Comment", key="decide_comment")
            if st.form_submit_button("提交审核 Decide"):
                try:
                    appeals.decide(home, access, month, which, decision, comment)
                    st.success(f"{which}: {appeals.DECISIONS[decision]}")
                except AppealError as exc:
                    st.error(str(exc))
        with_file = [a for a in pending if a.attachment]
        if with_file:
            a = st.selectbox(
                "查看附件 Attachment of",
                with_file,
                key="attachment_of",
                format_func=lambda x: f"{x.appeal_id} · {x.attachment}",
            )
            with tempfile.TemporaryDirectory() as tmp:
                data = appeals.attachment_copy(home, a, Path(tmp) / "a").read_bytes()
            st.download_button("下载附件 Download", data, file_name=a.attachment, key="attachment_download")
    else:
        st.caption("没有待审核的申诉。Nothing pending.")
    if st.button("签发本月 Sign the month", key="sign_month", type="primary", disabled=bool(pending)):
        try:
            signed = appeals.sign(home, access, month)
            st.success(signed.label)
        except AppealError as exc:
            st.error(str(exc))

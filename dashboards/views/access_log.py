"""访问日志: sign-ins, refusals and downloads (user, time, page, scope, rows), newest first — the
department manager's page only (kefu/access.py log_event; the file is outside the published warehouse)."""

import pandas as pd
import streamlit as st

from dashboards import ui
from kefu import access as acl

if st.session_state.get("access") is None or st.session_state["access"].role != "manager":
    st.error("只有部门经理可以查看访问日志。Only the department manager can see the access log.")
    st.stop()
st.title("访问日志 · Access log")
path = acl.access_log_path()
log = pd.DataFrame(acl.read_log(path), columns=["time", "event", "user", "role", "scope", "page", "rows", "detail"])
st.caption(f"{path} · {len(log)} 条记录")
events = {"sign_in": "登录", "refused": "拒绝访问", "download": "下载"}
headers = {
    "time": "时间",
    "event": "事件",
    "user": "用户",
    "role": "角色",
    "scope": "数据范围",
    "page": "页面",
    "rows": "行数",
    "detail": "说明",
}
shown = log.iloc[::-1].assign(event=lambda f: f["event"].map(events).fillna(f["event"])).rename(columns=headers)
ui.table(shown, "access_log", rows=20)

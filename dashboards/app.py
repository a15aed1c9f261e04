"""客服考核看板 · the manager dashboard: `streamlit run dashboards/app.py` (or `kefu dashboard`).

Reads the published warehouse read-only (kefu.home.published_path: $KEFU_PUBLISHED, else
$KEFU_HOME/published/kefu.duckdb). Before any query, dashboards/auth.py decides who the visitor
is and their scope (kefu/access.py); every query is scoped by it in SQL (dashboards/data.py
query()). The sidebar filters (month, district, technician, tier) are shared by every page; each
page is a file under dashboards/views/ (not pages/: a pages/ folder beside the app would switch
Streamlit to its older multipage mode, which skips this entrypoint on reruns).
"""

import streamlit as st

from dashboards import auth, ui

st.set_page_config(page_title="客服考核看板", page_icon=":material/monitoring:", layout="wide")

access = auth.gate()  # stops here, before any query, unless the visitor may see the dashboard

technicians = st.Page(
    "views/technicians.py", title="维修人员", icon=":material/engineering:", default=access.role == "technician"
)
warning = st.Page("views/warning.py", title="超时预警", icon=":material/alarm:")
score = st.Page("views/score.py", title="考核得分", icon=":material/leaderboard:")
appeal = st.Page("views/appeals.py", title="申诉", icon=":material/gavel:")  # issue 21
if access.role == "technician":  # their own scorecard and their own tickets only
    PAGES = {"考核": [technicians, score, warning, appeal]}
else:
    PAGES = {
        "考核": [
            st.Page("views/overview.py", title="总览", icon=":material/dashboard:", default=True),
            st.Page("views/districts.py", title="片区考核", icon=":material/map:"),
            technicians,
            score,
            warning,
            appeal,
            st.Page("views/coverage.py", title="数据覆盖", icon=":material/dataset:"),
        ],
        "服务": [
            st.Page("views/hotline.py", title="热线", icon=":material/call:"),
            st.Page("views/satisfaction.py", title="满意度", icon=":material/sentiment_satisfied:"),
            st.Page("views/callbacks.py", title="回访与免打扰", icon=":material/phone_callback:"),
            st.Page("views/vip.py", title="VIP服务", icon=":material/workspace_premium:"),
            st.Page("views/hall.py", title="营业厅", icon=":material/storefront:"),
            st.Page("views/notices.py", title="停机与施工通知", icon=":material/campaign:"),
        ],
    }
if access.role == "manager":  # the access log: the department manager only
    PAGES["管理"] = [st.Page("views/access_log.py", title="访问日志", icon=":material/history:")]

page = st.navigation(PAGES)
st.session_state["page"] = page.title
st.session_state["filters"] = ui.sidebar()
page.run()

"""客服考核看板 · the manager dashboard: `streamlit run dashboards/app.py` (or `kefu dashboard`).

Reads the published warehouse read-only (kefu.home.published_path: $KEFU_PUBLISHED, else
$KEFU_HOME/published/kefu.duckdb). The sidebar filters (month, district, technician, tier)
are shared by every page; each page is a file under dashboards/pages/.
"""

import streamlit as st

from dashboards import ui

st.set_page_config(page_title="客服考核看板", page_icon=":material/monitoring:", layout="wide")

PAGES = {
    "考核": [
        st.Page("pages/overview.py", title="总览", icon=":material/dashboard:", default=True),
        st.Page("pages/districts.py", title="片区考核", icon=":material/map:"),
        st.Page("pages/technicians.py", title="维修人员", icon=":material/engineering:"),
        st.Page("pages/warning.py", title="超时预警", icon=":material/alarm:"),
    ],
    "服务": [
        st.Page("pages/hotline.py", title="热线", icon=":material/call:"),
        st.Page("pages/satisfaction.py", title="满意度", icon=":material/sentiment_satisfied:"),
        st.Page("pages/callbacks.py", title="回访与免打扰", icon=":material/phone_callback:"),
        st.Page("pages/vip.py", title="VIP服务", icon=":material/workspace_premium:"),
        st.Page("pages/hall.py", title="营业厅", icon=":material/storefront:"),
        st.Page("pages/notices.py", title="停机与施工通知", icon=":material/campaign:"),
    ],
}

page = st.navigation(PAGES)
st.session_state["filters"] = ui.sidebar()
page.run()

"""Who is using this session, before any query runs (decisions D-95).

With an identity provider configured (an [auth] section in the dashboard's auth file, Streamlit's
own OpenID Connect support: st.login / st.user / st.logout), a visitor signs in and the roles
file (kefu/access.py) gives the scope; a user it does not name is refused. Without one, the
dashboard serves the loopback address only, to the one local user with the manager's scope —
unless started with `kefu dashboard --insecure-no-login` (KEFU_INSECURE_NO_LOGIN=1), which says
on every page that anyone who can reach it sees everything."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from kefu import access as acl

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
INSECURE_ENV = "KEFU_INSECURE_NO_LOGIN"
ROLES_ENV = "KEFU_ROLES"


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def roles_path() -> Path | None:
    if os.environ.get(ROLES_ENV):
        return Path(os.environ[ROLES_ENV])
    try:
        value = st.secrets.get("kefu", {}).get("roles_file")
    except Exception:
        value = None
    return Path(value) if value else None


def _refuse(title: str, text: str, sign_out: bool) -> None:
    st.title("客服考核看板 · KPI dashboard")
    st.error(f"**{title}**\n\n{text}")
    if sign_out:
        st.button("退出登录 · Sign out", on_click=st.logout, key="sign_out_refused")
    st.stop()


def _log_once(event: str, who: acl.Access | None, user: str, detail: str | None = None) -> None:
    key = (event, user)
    if st.session_state.get("_access_logged") != key:
        acl.log_event(event, who, page=st.session_state.get("page"), user=user, detail=detail)
        st.session_state["_access_logged"] = key


def _exposed() -> bool:
    """Whether this app may be reached from another machine: the server listens on a non-loopback
    address (unset: every interface), or this session's client is not on the loopback address.
    Streamlit's AppTest runs the script with no server at all (a stand-in runtime): nothing listens."""
    from streamlit.runtime import Runtime

    if type(Runtime.instance()) is not Runtime:
        return False
    address = st.get_option("server.address") or "0.0.0.0"
    return address not in LOOPBACK or st.context.ip_address is not None


def gate() -> acl.Access:
    """The session's scope (also in st.session_state["access"], read by every query); stops the page
    with no data at all when the visitor may not see the dashboard."""
    st.session_state.pop("access", None)
    if oidc_configured():
        if not st.user.is_logged_in:
            st.title("客服考核看板 · KPI dashboard")
            st.info("请先登录。Please sign in.")
            st.button("登录 · Sign in", on_click=st.login, type="primary", key="sign_in")
            st.stop()
        claims = st.user.to_dict()
        user = str(claims.get("email") or claims.get("sub") or "?")
        path = roles_path()
        try:
            if path is None:
                raise acl.RolesError("no roles file configured ([kefu] roles_file in the auth file, or $KEFU_ROLES)")
            who = acl.resolve(acl.load_roles(path), claims)
        except acl.RolesError as exc:
            _refuse("角色文件无法使用，暂不显示数据。The roles file cannot be used: no data is shown.", str(exc), True)
        if who is None:
            _log_once("refused", None, user, "not in the roles file")
            _refuse(
                f"账号 {user} 未获授权。",
                f"Your account ({user}) is not authorised to see this dashboard. "
                "请联系部门经理在角色文件中添加您的账号 / ask the department manager to add it to the roles file.",
                True,
            )
        with st.sidebar:
            st.caption(f"{who.user} · {who.label}")
            st.button("退出登录 · Sign out", on_click=st.logout, key="sign_out")
    else:
        insecure = os.environ.get(INSECURE_ENV) == "1"
        if not insecure and _exposed():
            _refuse(
                "未配置身份认证，看板只在本机（127.0.0.1）提供。",
                "No identity provider is configured: the dashboard serves the loopback address only. "
                "Configure sign-in (docs/security.md), or start it with `kefu dashboard --insecure-no-login`.",
                False,
            )
        who = acl.LOCAL if not insecure else acl.Access("anyone (--insecure-no-login)", "manager")
        with st.sidebar:
            if insecure:
                st.warning(
                    "未登录模式：任何能访问本端口的人都能看到全部数据。No sign-in: anyone who can reach "
                    "this port sees everything (--insecure-no-login)."
                )
            else:
                st.caption("本机模式（未配置身份认证，仅 127.0.0.1）· local mode: no identity provider, loopback only")
    st.session_state["access"] = who
    _log_once("sign_in", who, who.user)
    return who

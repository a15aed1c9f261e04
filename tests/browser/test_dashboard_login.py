"""Signing in to the dashboard in a real browser (headless Chromium, Playwright) against a local mock
OpenID Connect provider (oidc-provider-mock) started here: no sign-in → no data, an unknown user
is refused, a district head sees only their districts on every page and in every download, a
technician only their own scorecard and tickets, the manager the access log (decisions D-95)."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from dashboards.cli import streamlit_command

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HEAD_DISTRICTS = ("D01", "D02")
PAGES = ["", "districts", "technicians", "warning", "hotline", "satisfaction", "callbacks", "vip", "hall", "notices"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rows(warehouse: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module")
def world(built_demo):
    """The demo warehouse and who is who in it: a technician of D01, the ids of every district and
    of every technician outside the district head's districts."""
    warehouse = built_demo(1, 3)[0]
    districts = [d for (d,) in rows(warehouse, "select distinct district_id from marts.dim_district order by 1")]
    names = dict(
        rows(warehouse, "select district_id, arg_max(district_name, period_month) from marts.dim_district group by 1")
    )
    # a technician of D01 with a scorecard and open tickets in the early warning
    tech = rows(
        warehouse,
        "select technician_id from marts.kpi_technician_monthly where technician_id in "
        "(select technician_id from marts.dim_technician group by 1 "
        " having bool_and(district_id = 'D01')) and technician_id in "
        "(select technician_id from marts.rpt_early_warning) order by 1 limit 1",
    )[0][0]
    foreign_techs = {
        t
        for (t,) in rows(
            warehouse,
            "select technician_id from marts.dim_technician group by 1 "
            "having not bool_or(list_contains(?, district_id))",
            [list(HEAD_DISTRICTS)],
        )
    }
    assert len(districts) > len(HEAD_DISTRICTS) and foreign_techs
    return {
        "warehouse": warehouse,
        "districts": districts,
        "names": names,
        "tech": tech,
        "foreign_techs": foreign_techs,
    }


@pytest.fixture(scope="module")
def provider():
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(port=free_port()) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def app(world, provider, tmp_path_factory):
    """`kefu dashboard`'s streamlit command with an auth file pointing at the mock provider."""
    folder = tmp_path_factory.mktemp("login")
    port = free_port()
    (folder / "roles.yml").write_text(
        f"""
users:
  boss@example.com: {{role: manager}}
  head@example.com: {{role: district_head, districts: [{", ".join(HEAD_DISTRICTS)}]}}
  tech@example.com: {{role: technician, technician: {world["tech"]}}}
""",
        encoding="utf-8",
    )
    auth = folder / "dashboard_auth.toml"
    auth.write_text(
        f"""[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "{secrets.token_urlsafe(32)}"
client_id = "kefu-dashboard"
client_secret = "{secrets.token_urlsafe(16)}"
server_metadata_url = "{provider}/.well-known/openid-configuration"

[kefu]
roles_file = "roles.yml"
""",
        encoding="utf-8",
    )
    log = folder / "access_log.jsonl"
    cmd, env = streamlit_command(world["warehouse"], port, "127.0.0.1", auth)
    env["KEFU_ACCESS_LOG"] = str(log)
    out = folder / "streamlit.log"
    with open(out, "wb") as f:
        server = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{out.read_text()}")
            time.sleep(0.5)
        yield {"url": f"http://localhost:{port}", "log": log, "server_log": out}
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def signed_in(browser, app, who: str):
    """A fresh browser (no cookies) signed in as WHO at the mock provider; the page after sign-in."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1440, "height": 1600}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.goto(app["url"])
    page.get_by_role("button", name="登录 · Sign in").click(timeout=120_000)
    page.locator("input[name=sub]").fill(who, timeout=60_000)
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text(who).first).to_be_visible(timeout=120_000)
    return context, page


def downloads(page) -> list[list[dict]]:
    """Every CSV download of the page (the rows of every table), read as a user would save them."""
    from playwright.sync_api import expect

    buttons = page.get_by_role("button", name="下载 CSV")
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=120_000)
    expect(buttons.first).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("stSpinner")).to_have_count(0, timeout=120_000)
    page.wait_for_timeout(1_500)
    tables = []
    for i in range(buttons.count()):
        with page.expect_download(timeout=60_000) as d:
            buttons.nth(i).click()
        text = Path(d.value.path()).read_text(encoding="utf-8-sig")
        tables.append(list(csv.DictReader(io.StringIO(text))))
    return tables


def foreign(text: str, world) -> set[str]:
    """District ids, district names and technician ids outside the district head's scope found in TEXT."""
    found = {d for d in world["districts"] if d not in HEAD_DISTRICTS and re.search(rf"\b{d}\b", text)}
    found |= {world["names"][d] for d in world["districts"] if d not in HEAD_DISTRICTS and world["names"][d] in text}
    found |= {t for t in world["foreign_techs"] if re.search(rf"\b{t}\b", text)}
    return found


def test_no_sign_in_no_data(app, browser):
    from playwright.sync_api import expect

    context = browser.new_context()
    page = context.new_page()
    for path in ("", "districts", "technicians?district=D03"):
        page.goto(f"{app['url']}/{path}")
        expect(page.get_by_role("button", name="登录 · Sign in")).to_be_visible(timeout=120_000)
        assert page.get_by_test_id("stDataFrame").count() == 0 and page.get_by_test_id("stMetric").count() == 0
        assert (
            page.get_by_test_id("stSidebar").count() == 0 or "片区" not in page.get_by_test_id("stSidebar").inner_text()
        )
    context.close()


def test_an_unknown_user_is_refused(app, browser):
    context, page = signed_in(browser, app, "stranger@example.com")
    from playwright.sync_api import expect

    expect(page.get_by_text("未获授权")).to_be_visible()
    assert page.get_by_test_id("stDataFrame").count() == 0 and page.get_by_test_id("stMetric").count() == 0
    context.close()
    assert any(
        r["event"] == "refused" and r["user"] == "stranger@example.com"
        for r in map(json.loads, app["log"].read_text(encoding="utf-8").splitlines())
    )


def test_a_district_head_sees_only_their_districts_on_every_page_and_download(app, browser, world):
    from playwright.sync_api import expect

    context, page = signed_in(browser, app, "head@example.com")
    # the district filter offers their districts only
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="片区").click()
    options = page.get_by_role("option").all_inner_texts()
    assert [o.split()[0] for o in options if o != "全部片区"] == list(HEAD_DISTRICTS), options
    page.keyboard.press("Escape")
    assert page.get_by_role("link", name="访问日志").count() == 0  # the manager's page only
    counted = 0
    for path in PAGES:
        page.goto(f"{app['url']}/{path}?district=D03")  # a URL parameter cannot widen the scope
        expect(page.get_by_text("head@example.com").first).to_be_visible(timeout=120_000)
        tables = downloads(page)
        assert tables, path
        for t in tables:
            counted += len(t)
            for r in t:
                if r.get("所属片区"):  # district_id's header
                    assert r["所属片区"] in HEAD_DISTRICTS, (path, r)
            assert not foreign(json.dumps(t, ensure_ascii=False), world), (
                path,
                foreign(json.dumps(t, ensure_ascii=False), world),
            )
        assert not foreign(page.locator("section.main, [data-testid=stMain]").first.inner_text(), world), path
    assert counted > 0
    context.close()
    log = [json.loads(x) for x in app["log"].read_text(encoding="utf-8").splitlines()]
    mine = [r for r in log if r["user"] == "head@example.com"]
    assert any(r["event"] == "sign_in" for r in mine)
    downloaded = [r for r in mine if r["event"] == "download"]
    assert downloaded and all(r["scope"] == "片区负责人 · D01, D02" and r["rows"] is not None for r in downloaded)


def test_a_technician_sees_only_their_own_scorecard_and_tickets(app, browser, world):
    from playwright.sync_api import expect

    context, page = signed_in(browser, app, "tech@example.com")
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert "维修人员" in nav and "总览" not in nav and "片区考核" not in nav
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=120_000)
    (scorecard,) = [t for t in downloads(page) if t and "姓名" in t[0]]
    assert {r["处理人工号"] for r in scorecard} == {world["tech"]}  # technician_id's header
    page.goto(f"{app['url']}/warning")
    expect(page.get_by_text("tech@example.com").first).to_be_visible(timeout=120_000)
    for t in downloads(page):
        assert t and {r["处理人工号"] for r in t} == {world["tech"]}
    context.close()


def test_the_manager_reads_the_access_log(app, browser):
    from playwright.sync_api import expect

    context, page = signed_in(browser, app, "boss@example.com")
    # a manager's navigation lists 17 pages; Streamlit folds the last ones under "View more": go by URL
    page.goto(f"{app['url']}/access_log")
    expect(page.get_by_role("heading", name="访问日志 · Access log")).to_be_visible(timeout=120_000)
    (log,) = downloads(page)
    assert {"head@example.com", "stranger@example.com", "boss@example.com"} <= {r["用户"] for r in log}
    context.close()

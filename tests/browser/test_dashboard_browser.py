"""The dashboard in a real browser: `streamlit run` as a subprocess, headless Debian Chromium driven by
Playwright. Switching a filter shows the mart's value for it; the screenshots land in docs/img/
(the README shows docs/img/dashboard.png)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from dashboards.cli import streamlit_command
from kefu import contract

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
IMG = Path(__file__).resolve().parents[2] / "docs" / "img"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


def one(warehouse: Path, sql: str, params=()):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (value,) = con.execute(sql, list(params)).fetchone()
    return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dashboard(built_demo, tmp_path_factory):
    """The app served by `streamlit run --server.headless true` on a free port: (warehouse, url)."""
    warehouse = built_demo(1, 3)[0]
    port = free_port()
    cmd, env = streamlit_command(warehouse, port)
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log.read_text()}")
            time.sleep(0.5)
        yield warehouse, f"http://127.0.0.1:{port}"
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


def pick(page, label: str, option: str) -> None:
    """Choose an option of a sidebar filter the way a user does: open the box, click the option."""
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def settled(locator, text: str) -> None:
    """While Streamlit reruns after a filter change the old element can stand beside the new one
    for a moment: wait for exactly one, showing `text`."""
    from playwright.sync_api import expect

    expect(locator.filter(has_text=text)).to_have_count(1, timeout=60_000)
    expect(locator).to_have_count(1, timeout=60_000)
    expect(locator).to_have_text(text)


def settle_and_shoot(page, name: str) -> None:
    """Wait for the charts and tables to draw, move the focus away, save docs/img/<name>."""
    from playwright.sync_api import expect

    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=60_000)
    page.mouse.click(1300, 20)
    page.wait_for_timeout(2_000)
    IMG.mkdir(exist_ok=True)
    page.screenshot(path=str(IMG / name))


def test_overview_district_filter_shows_the_districts_value(dashboard, browser):
    from playwright.sync_api import expect

    from dashboards import ui  # imports Streamlit: not while collecting the fast lane

    warehouse, url = dashboard
    month = one(warehouse, "select max(period_month) from marts.kpi_rule_results")
    name = one(
        warehouse, "select arg_max(district_name, period_month) from marts.dim_district where district_id = 'D02'"
    )
    value = "select value from marts.kpi_rule_results where measure_id = 'T1' and grain = ? and unit_id = ? and period_month = ?"
    company, district = (
        one(warehouse, value, ["company", "ALL", month]),
        one(warehouse, value, ["district", "D02", month]),
    )
    assert ui.fmt(company) != ui.fmt(district)

    page = browser.new_page(viewport={"width": 1440, "height": 1700}, locale="zh-CN")
    page.goto(url)
    t1 = page.get_by_test_id("stMetric").filter(has_text="T1 ").get_by_test_id("stMetricValue")
    expect(t1).to_have_text(ui.fmt(company), timeout=120_000)
    pick(page, "片区", f"D02 {name}")
    settled(t1, ui.fmt(district))
    settle_and_shoot(page, "dashboard.png")
    page.close()


def test_hotline_tier_filter_shows_the_vip_queue_and_the_heat_map(dashboard, browser):
    from playwright.sync_api import expect

    from dashboards import ui

    warehouse, url = dashboard
    month = one(warehouse, "select max(period_month) from marts.kpi_rule_results")
    value = "select value from marts.kpi_hotline_monthly where measure_id = 'H2.1' and grain = ? and unit_id = ? and period_month = ?"
    company, vip = one(warehouse, value, ["company", "ALL", month]), one(warehouse, value, ["queue", "vip", month])

    page = browser.new_page(viewport={"width": 1440, "height": 2100}, locale="zh-CN")
    page.goto(f"{url}/hotline")
    h21 = page.get_by_test_id("stMetric").filter(has_text="H2.1 ").get_by_test_id("stMetricValue")
    expect(h21).to_have_text(ui.fmt(company), timeout=120_000)
    pick(page, "客户等级", contract.entity("customers").column("tier").values["red_vip"])
    settled(h21, ui.fmt(vip))
    settle_and_shoot(page, "dashboard-hotline.png")
    page.close()

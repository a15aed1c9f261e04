"""`kefu airflow-ui` exactly as the README writes it (`.venv/bin/kefu airflow-ui --home out/demo
--demo-key`, no activated venv: PATH without the venv's bin folder), on a small finished demo home
(one demo month, its history loaded through the backfill DAG: the session's `airflow_backfilled`
home, tests/conftest.py, copied; D-210). Headless Debian Chromium signs in
to the UI (simple auth manager, the generated admin password) and reads the DAG runs list: the
run is there, succeeded, with its real duration (dag.test starts a run at its logical date)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ROOT = Path(__file__).resolve().parents[2]
KEFU = Path(sys.executable).with_name("kefu")  # .venv/bin/kefu

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.airflow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
    pytest.mark.skipif(not KEFU.exists(), reason=f"needs the kefu script beside {sys.executable}"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DURATION = r"(?:(\d+)d\s*)?(\d+):(\d\d):(\d\d(?:\.\d+)?)"  # how the UI shows a duration


def parse_duration(text: str) -> float:
    """The UI's duration HH:MM:SS.mmm (or with a leading `Nd `) in seconds."""
    m = re.fullmatch(DURATION, text.strip())
    assert m, f"not a duration: {text!r}"
    days, h, mi, s = m.groups()
    return int(days or 0) * 86400 + int(h) * 3600 + int(mi) * 60 + float(s)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory, airflow_backfilled):
    """A demo home like `kefu demo` leaves it (landing, published copy, OUT/airflow), one backfill run."""
    home, _env, result = airflow_backfilled(tmp_path_factory.mktemp("airflow_ui"))
    assert result["state"] == "success", result["log_tail"]
    return home.root, result


@pytest.fixture(scope="module")
def airflow_ui(demo_home, tmp_path_factory):
    """`kefu airflow-ui --home DIR --demo-key` with a PATH that does not hold the venv: (url, password, log)."""
    root, _ = demo_home
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join(
        p for p in ("/usr/local/bin", "/usr/bin", "/bin") if Path(p).resolve() != KEFU.parent.resolve()
    )
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, not what the venv has installed
    log = tmp_path_factory.mktemp("airflow_ui_log") / "standalone.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(KEFU), "airflow-ui", "--home", str(root), "--demo-key", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if urllib.request.urlopen(url + "/api/v2/monitor/health", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"airflow standalone did not start:\n{log.read_text(errors='replace')[-6000:]}")
            time.sleep(1)
        passwords = root / "airflow" / "simple_auth_manager_passwords.json.generated"
        yield url, json.loads(passwords.read_text())["admin"], log
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # standalone and the components it started (own session)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:  # a component that outlives standalone's SIGTERM (the scheduler's executor workers)
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.wait()


def test_airflow_ui_signs_in_and_lists_the_demo_run_with_its_real_duration(demo_home, airflow_ui):
    sync_api = pytest.importorskip("playwright.sync_api")
    root, result = demo_home
    url, password, log = airflow_ui
    assert "FileNotFoundError" not in log.read_text(errors="replace")

    # what the metadata database holds for the run: its real start and end
    with sqlite3.connect(root / "airflow" / "airflow.db") as db:
        start, end, logical = db.execute(
            "select start_date, end_date, logical_date from dag_run where run_id = ?", [result["run_id"]]
        ).fetchone()
    seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    assert str(logical).startswith("2026-01-29"), logical  # 02:00 on 30 Jan Shanghai: loaded through 29 Jan
    assert 0 < seconds <= result["seconds"] + 1, (start, end, result["seconds"])

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url + "/dags/backfill/runs")
            page.get_by_label("Username").fill("admin")
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/dags/backfill/runs", timeout=60_000)
            row = page.get_by_role("row").filter(has_text=result["run_id"])
            sync_api.expect(row).to_have_count(1, timeout=60_000)
            text = row.inner_text()
            cells = [c.strip() for c in row.get_by_role("cell").all_inner_texts()]
        finally:
            browser.close()
    assert "Success" in text
    durations = [c for c in cells if re.fullmatch(DURATION, c)]  # the Duration column
    assert len(durations) == 1, f"no single duration among the run's cells: {cells}"
    assert abs(parse_duration(durations[0]) - seconds) < 1, (durations[0], seconds)

"""The Airflow nightly DAG when a night goes wrong: a corrupt export stops it at the contract gate,
a run killed during dbt leaves the published copy as it was, and the next run completes.

Both run on a copy of the session's `airflow_backfilled` home (tests/conftest.py, D-210): seed 1's
January loaded through the backfill DAG up to the 29th, so the nights they break are the 30th and
the 31st.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from airflow_checks import assert_success, sha256

from kefu import airflow_runner, build

pytestmark = [pytest.mark.slow, pytest.mark.airflow]


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory, airflow_backfilled):
    home, env, _ = airflow_backfilled(tmp_path_factory.mktemp("airflow_fail"))
    return home, env


def corrupt_districts(csv: Path) -> int:
    """Every ticket of the file points at a district that is not in the reference list (a code
    system change upstream): ingest quarantines every row, the contract gate stops the night."""
    text = csv.read_text(encoding="utf-8-sig")
    new, n = re.subn(r",D(\d\d),", r",X\1,", text)
    csv.write_text(new, encoding="utf-8-sig")
    return n


def test_corrupt_export_fails_at_the_contract_gate_and_publishes_nothing(backfilled, tmp_path):
    home, env = backfilled
    published_before, manifest_before = sha256(home.published), home.manifest.read_text(encoding="utf-8")
    day = "2026-01-30"  # the first night after the backfill
    tickets = next((home.landing / day).glob("工单明细_*.csv"))
    original = tmp_path / tickets.name
    original.write_bytes(tickets.read_bytes())
    assert corrupt_districts(tickets) > 0

    res = airflow_runner.run_in_child("nightly", [day], env)
    assert res[0]["state"] == "failed"
    assert res[0]["tasks"]["contract_gate"] == "failed"
    assert res[0]["tasks"]["ingest"] == "success" and res[0]["tasks"]["dbt_build"] == "success"
    assert res[0]["tasks"]["publish"] != "success"
    # the failure callback records why, naming suite, table and expectation
    failed = [p.read_text(encoding="utf-8") for p in (home.logs / day).glob("*/failed.txt")]
    assert len(failed) == 1, failed
    assert "contract_gate" in failed[0] and "data contract gate failed" in failed[0]
    # (ingest quarantines rows naming an unknown district: the day is left without tickets)
    assert re.search(r"\[contract\.stg_tickets\] staging\.stg_tickets: expect_\w+\(", failed[0]), failed[0]
    assert sha256(home.published) == published_before
    assert home.manifest.read_text(encoding="utf-8") == manifest_before

    # the source system re-delivers the corrected export: the next run loads it over the bad rows
    (home.landing / day).mkdir(parents=True, exist_ok=True)
    (home.landing / day / original.name.replace(".csv", "_重发.csv")).write_bytes(original.read_bytes())
    assert_success(airflow_runner.run_in_child("nightly", [day], env), [day])
    assert json.loads(home.manifest.read_text(encoding="utf-8"))["business_date"] == day


def _dbt_children(proc: subprocess.Popen) -> list:
    import psutil

    try:
        kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [k for k in kids if build.DBT_CHILD in k.cmdline()]


def test_run_killed_during_dbt_leaves_published_unchanged_and_next_run_succeeds(backfilled):
    import psutil

    from kefu import dbt_zygote

    home, env = backfilled
    published_before, manifest_before = sha256(home.published), home.manifest.read_text(encoding="utf-8")
    day = json.loads(manifest_before)["business_date"]
    nxt = date.fromordinal(date.fromisoformat(day).toordinal() + 1).isoformat()
    # as a night runs in production: dbt a child of the task's process, not of the session's zygote
    env = {k: v for k, v in env.items() if k != dbt_zygote.ENV}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kefu.airflow_runner", "nightly", nxt],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    dbt = []
    while not dbt and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
        dbt = _dbt_children(proc)
    assert dbt, "dbt never started"
    time.sleep(3)  # well inside the build
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    psutil.wait_procs(dbt, timeout=30)
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in dbt)
    assert sha256(home.published) == published_before
    assert home.manifest.read_text(encoding="utf-8") == manifest_before

    assert_success(airflow_runner.run_in_child("nightly", [nxt], env), [nxt])
    assert json.loads(home.manifest.read_text(encoding="utf-8"))["business_date"] == nxt
    con = duckdb.connect(str(home.published), read_only=True)
    assert con.execute("select max(as_of_date) from intermediate.int_tickets_as_of").fetchone()[0].isoformat() == nxt
    con.close()

"""The Airflow DAGs end to end (issue 5): dag.test() of `nightly` and `monthly_assessment` on a
private AIRFLOW_HOME (SQLite), the published copy, backfill/idempotency, a corrupt export and a
run killed during dbt.

To fit CI, one demo month is used: its first 29 days are loaded by the backfill DAG (one bulk
batch, one build, the gates, publish), the last two go through the nightly DAG, then the month is
closed through monthly_assessment — and equals what night-by-night runs publish (D-71, D-105).
"""

from __future__ import annotations

import hashlib
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

from kefu import airflow_runner, exactness, pipeline
from kefu.home import Home

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

NIGHTLY_TASKS = {"ingest", "dbt_build", "contract_gate", "threshold_suites", "publish", "dbt_docs", "notify"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_home(tmp: Path) -> tuple[Home, dict]:
    from generator.run import generate

    root = tmp / "home"
    generate(preset="demo", seed=1, months=1, out=root, faults=False, progress=False)
    env = airflow_runner.airflow_env(root, tmp / "airflow", demo_key=True)
    env["KEFU_RETRIES"] = "0"
    airflow_runner.init_airflow(env)
    return Home(root), env


def assert_success(results: list[dict], keys: list[str]) -> None:
    assert [r["key"] for r in results] == keys
    for r in results:
        failed = {t: s for t, s in r["tasks"].items() if s != "success"}
        assert r["state"] == "success" and not failed, f"{r['key']}: {failed}\n{r['log_tail']}"


def publications(home: Home) -> list[dict]:
    lines = (home.published_dir / "publications.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines]


def test_dagbag_imports_both_dags_with_their_settings(tmp_path):
    env = airflow_runner.airflow_env(tmp_path / "home", tmp_path / "airflow")
    code = (
        "import json\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(airflow_runner.DAGS)!r})\n"
        "out = {'errors': {k: str(v) for k, v in bag.import_errors.items()}, 'dags': {}}\n"
        "for dag_id, dag in bag.dags.items():\n"
        "    out['dags'][dag_id] = {'max_active_runs': dag.max_active_runs, 'doc_md': bool(dag.doc_md),\n"
        "        'callback': dag.on_failure_callback is not None, 'schedule': str(getattr(dag.timetable, '_expression', '')),\n"
        "        'tasks': {t.task_id: {'pool': t.pool, 'retries': t.retries,\n"
        "                             'callback': bool(t.on_failure_callback)} for t in dag.tasks}}\n"
        "print('RESULT ' + json.dumps(out))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    line = next(x for x in res.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line[len("RESULT ") :])
    assert out["errors"] == {}
    assert set(out["dags"]) == {"nightly", "monthly_assessment", "backfill"}
    nightly = out["dags"]["nightly"]
    assert nightly["max_active_runs"] == 1 and nightly["doc_md"] and nightly["callback"]
    assert set(nightly["tasks"]) == NIGHTLY_TASKS
    writers = {"ingest", "dbt_build", "contract_gate", "threshold_suites", "publish"}
    assert {t for t, v in nightly["tasks"].items() if v["pool"] == pipeline.POOL} == writers
    assert nightly["tasks"]["dbt_build"]["retries"] >= 1 and nightly["tasks"]["dbt_build"]["callback"]
    assert nightly["tasks"]["contract_gate"]["retries"] == 0  # a data problem is not retried
    monthly = out["dags"]["monthly_assessment"]
    assert monthly["max_active_runs"] == 1 and monthly["doc_md"]
    backfill = out["dags"]["backfill"]
    assert backfill["max_active_runs"] == 1 and backfill["doc_md"] and backfill["callback"]
    assert set(backfill["tasks"]) == NIGHTLY_TASKS and backfill["schedule"] == ""  # triggered by hand
    assert {t for t, v in backfill["tasks"].items() if v["pool"] == pipeline.POOL} == writers


# --- the happy path, backfill and idempotency ---------------------------------------------------


@pytest.fixture(scope="module")
def month_run(tmp_path_factory):
    """Backlog Jan 1-29 by the backfill DAG, then nightly Jan 30 and Jan 31 through Airflow."""
    home, env = make_home(tmp_path_factory.mktemp("airflow_month"))
    days = pipeline.day_folders(home.landing)
    assert days[-1] == date(2026, 1, 31)
    backfilled = airflow_runner.run_in_child("backfill", ["2026-01-29"], env)
    assert_success(backfilled, ["2026-01-29"])
    assert set(backfilled[0]["tasks"]) == NIGHTLY_TASKS
    # the batch loaded exactly the days up to its date, each archived under its own day
    assert sorted(p.name for p in home.archive.iterdir()) == [d.isoformat() for d in days[:-2]]
    assert all(any((home.landing / d.isoformat()).iterdir()) for d in days[-2:])
    results = airflow_runner.run_in_child("nightly", ["2026-01-30", "2026-01-31"], env)
    return home, env, results


def test_nightly_dag_publishes_the_answer_key(month_run):
    home, _env, results = month_run
    assert_success(results, ["2026-01-30", "2026-01-31"])
    for r in results:
        assert set(r["tasks"]) == NIGHTLY_TASKS
    diff = exactness.compare(home.published, home.root / "expected" / "kpi_expected.csv")
    assert diff.empty, exactness.summary(diff)
    manifest = json.loads(home.manifest.read_text(encoding="utf-8"))
    assert manifest["business_date"] == "2026-01-31"
    assert [p["business_date"] for p in publications(home)] == ["2026-01-29", "2026-01-30", "2026-01-31"]
    assert not os.access(home.published, os.W_OK) or os.geteuid() == 0  # read-only file mode
    assert home.published.stat().st_mode & 0o222 == 0
    assert home.manifest.stat().st_mode & 0o444 == 0o444  # every reader may read what was published
    # the run's summary and Great Expectations Data Docs sit together under logs/<date>/<run>/
    run = home.run_dir("2026-01-31", results[-1]["run_id"])
    assert "data contract gate: passed" in (run / "summary.txt").read_text(encoding="utf-8")
    assert (run / "data_docs" / "contract" / "index.html").exists()
    assert (run / "data_docs" / "thresholds" / "index.html").exists()
    # every breach of the threshold suites is in audit.kpi_breaches: the failed rule results of the months
    con = duckdb.connect(str(home.published), read_only=True)
    failed = con.execute(
        "select count(*) from marts.kpi_rule_results where not passed and period_month in ('2025-12', '2026-01')"
    ).fetchone()[0]
    recorded = con.execute(
        "select count(*) from audit.kpi_breaches where business_date = date '2026-01-31'"
    ).fetchone()[0]
    con.close()
    assert failed > 0 and recorded == failed


def test_monthly_assessment_closes_the_month(month_run):
    home, env, _ = month_run
    results = airflow_runner.run_in_child("monthly_assessment", ["2026-01"], env)
    assert_success(results, ["2026-01"])
    assert set(results[0]["tasks"]) == {"prepare", "close_month", "reports", "notify", "cleanup"}
    out = home.assessment_dir("2026-01")
    info = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    assert info["as_of_date"] == "2026-01-31"
    assert {p.stat().st_mode & 0o444 for p in out.iterdir()} == {0o444}  # readable by every reader
    con = duckdb.connect(str(home.published), read_only=True)
    diff = con.execute(
        f"select count(*) from ((select * from read_parquet('{out / 'kpi_rule_results.parquet'}') "
        f"except select * from marts.kpi_rule_results where period_month = '2026-01') union all "
        f"(select * from marts.kpi_rule_results where period_month = '2026-01' "
        f"except select * from read_parquet('{out / 'kpi_rule_results.parquet'}')))"
    ).fetchone()[0]
    n = con.execute("select count(*) from marts.kpi_rule_results where period_month = '2026-01'").fetchone()[0]
    con.close()
    assert n > 0 and diff == 0
    assert info["tables"]["kpi_rule_results"] == n


def test_rerunning_dates_and_the_month_changes_nothing(month_run):
    home, env, _ = month_run
    published_before = sha256(home.published)
    manifest_before = home.manifest.read_text(encoding="utf-8")
    closed = home.assessment_dir("2026-01") / "kpi_rule_results.parquet"
    closed_before = sha256(closed)
    jan30 = next(p for p in publications(home) if p["business_date"] == "2026-01-30")

    # the newest date again (same marts: the published copy is not even rewritten), then a past
    # date: the working warehouse is rebuilt as that night saw it (export history) and its marts
    # equal what was published that night; the published copy (a newer date) stays
    assert_success(
        airflow_runner.run_in_child("nightly", ["2026-01-31", "2026-01-30"], env), ["2026-01-31", "2026-01-30"]
    )
    assert sha256(home.published) == published_before
    assert home.manifest.read_text(encoding="utf-8") == manifest_before
    assert pipeline.fingerprint(home.warehouse) == jan30["fingerprint"]

    # the month closed again from that state gives the identical assessment
    assert_success(airflow_runner.run_in_child("monthly_assessment", ["2026-01"], env), ["2026-01"])
    assert sha256(closed) == closed_before


# --- failures: a corrupt export, a killed run -----------------------------------------------------


@pytest.fixture(scope="module")
def first_night(tmp_path_factory):
    home, env = make_home(tmp_path_factory.mktemp("airflow_fail"))
    assert_success(airflow_runner.run_in_child("nightly", ["2026-01-01"], env), ["2026-01-01"])
    return home, env


def corrupt_districts(csv: Path) -> int:
    """Every ticket of the file points at a district that is not in the reference list (a code
    system change upstream): ingest quarantines every row, the contract gate stops the night."""
    text = csv.read_text(encoding="utf-8-sig")
    new, n = re.subn(r",D(\d\d),", r",X\1,", text)
    csv.write_text(new, encoding="utf-8-sig")
    return n


def test_corrupt_export_fails_at_the_contract_gate_and_publishes_nothing(first_night, tmp_path):
    home, env = first_night
    published_before, manifest_before = sha256(home.published), home.manifest.read_text(encoding="utf-8")
    tickets = next((home.landing / "2026-01-02").glob("工单明细_*.csv"))
    original = tmp_path / tickets.name
    original.write_bytes(tickets.read_bytes())
    assert corrupt_districts(tickets) > 0

    res = airflow_runner.run_in_child("nightly", ["2026-01-02"], env)
    assert res[0]["state"] == "failed"
    assert res[0]["tasks"]["contract_gate"] == "failed"
    assert res[0]["tasks"]["ingest"] == "success" and res[0]["tasks"]["dbt_build"] == "success"
    assert res[0]["tasks"]["publish"] != "success"
    # the failure callback records why, naming suite, table and expectation
    failed = [p.read_text(encoding="utf-8") for p in (home.logs / "2026-01-02").glob("*/failed.txt")]
    assert len(failed) == 1, failed
    assert "contract_gate" in failed[0] and "data contract gate failed" in failed[0]
    # (ingest quarantines rows naming an unknown district: the day is left without tickets)
    assert re.search(r"\[contract\.stg_tickets\] staging\.stg_tickets: expect_\w+\(", failed[0]), failed[0]
    assert sha256(home.published) == published_before
    assert home.manifest.read_text(encoding="utf-8") == manifest_before

    # the source system re-delivers the corrected export: the next run loads it over the bad rows
    (home.landing / "2026-01-02").mkdir(parents=True, exist_ok=True)
    (home.landing / "2026-01-02" / original.name.replace(".csv", "_重发.csv")).write_bytes(original.read_bytes())
    assert_success(airflow_runner.run_in_child("nightly", ["2026-01-02"], env), ["2026-01-02"])
    assert json.loads(home.manifest.read_text(encoding="utf-8"))["business_date"] == "2026-01-02"


def _dbt_children(proc: subprocess.Popen) -> list:
    import psutil

    try:
        kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [k for k in kids if "dbt.cli.main" in " ".join(k.cmdline())]


def test_run_killed_during_dbt_leaves_published_unchanged_and_next_run_succeeds(first_night):
    import psutil

    home, env = first_night
    published_before, manifest_before = sha256(home.published), home.manifest.read_text(encoding="utf-8")
    day = json.loads(manifest_before)["business_date"]
    nxt = date.fromordinal(date.fromisoformat(day).toordinal() + 1).isoformat()
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

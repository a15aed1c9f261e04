"""Run the project's Airflow DAGs in-process (`dag.test()`), on a private AIRFLOW_HOME with a
SQLite metadata database: the main job of `make demo`, and what the tests drive.

    python -m kefu.airflow_runner nightly 2026-01-01 2026-01-02 ...   # one dag.test per business date
    python -m kefu.airflow_runner monthly_assessment 2026-01 2026-02  # one dag.test per month
    python -m kefu.airflow_runner backfill 2026-03-28                 # bulk-load the history up to a date
    python -m kefu.airflow_runner backfill 2026-03-28 --then nightly 2026-03-29   # both in one process

The environment (AIRFLOW_HOME, KEFU_HOME, ...) must be set before Airflow is imported, so
callers run this module as a child process with `airflow_env()`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from kefu.home import POOL  # the one writer slot of the working warehouse, defined once

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"


def airflow_env(kefu_home: Path, airflow_home: Path, demo_key: bool = False) -> dict[str, str]:
    """The environment of every Airflow child. PATH starts with this interpreter's bin folder:
    `airflow standalone` starts its components by name (`airflow scheduler`, ...) from PATH, which
    holds no venv when kefu is called as .venv/bin/kefu without an activated venv."""
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home.resolve()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "KEFU_HOME": str(kefu_home.resolve()),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
        "PATH": os.pathsep.join(filter(None, [bin_dir, os.environ.get("PATH", "")])),
    }
    if demo_key:
        env["KEFU_DEMO_KEY"] = "1"
    return env


def _airflow(args: list[str], env: dict[str, str]) -> str:
    exe = Path(sys.executable).with_name("airflow")
    res = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(f"airflow {' '.join(args)} failed:\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}")
    return res.stdout


def init_airflow(env: dict[str, str]) -> None:
    """`airflow db migrate` (SQLite in AIRFLOW_HOME) and the 1-slot writer pool; idempotent. The
    SQLite file is put in WAL mode (it stays so): run_lanes' children write to it at the same time,
    and a reader then never waits for a writer."""
    import sqlite3

    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    _airflow(["db", "migrate"], env)
    _airflow(["pools", "set", POOL, "1", "the one writer of the working DuckDB warehouse"], env)
    db = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    if db.exists():
        con = sqlite3.connect(db)
        try:
            con.execute("pragma journal_mode=wal")
        finally:
            con.close()


def register_dags(env: dict[str, str]) -> None:
    """`airflow dags reserialize`: the DAG bundle and every DAG of dags/ written to the metadata
    database once, before run_lanes starts its children — each dag.test() syncs them too, and two
    children inserting the same new rows at once would collide (dag_bundle's unique name)."""
    _airflow(["dags", "reserialize"], env)


def run_in_child(
    dag_id: str, keys: list[str], env: dict[str, str], conf: dict | None = None, on_result=None
) -> list[dict]:
    """Run this module as a child process with env (one Airflow start-up for all keys); return one
    result dict per run, calling on_result(result) as each run ends. The last failed run carries the
    tail of the child's output (the task logs) in `log_tail`."""
    return run_plan_in_child([(dag_id, keys)], env, conf, on_result)


THEN = "--then"  # separates the DAGs of one child's plan on its command line


def run_plan_in_child(
    plan: list[tuple[str, list[str]]],
    env: dict[str, str],
    conf: dict | None = None,
    on_result=None,
    on_start=None,
) -> list[dict]:
    """run_in_child for several DAGs in turn — [(dag_id, keys), ...] — in ONE child process: one
    Airflow start-up, and the imports every DAG shares (Great Expectations, DuckDB, kefu) paid once
    (what `kefu demo` runs). The child stops at the first run that fails. on_start(proc) is called
    with the child's Popen as soon as it runs (run_lanes stops it when another lane fails)."""
    import collections
    import tempfile

    cmd = [sys.executable, "-m", "kefu.airflow_runner"]
    for i, (dag_id, keys) in enumerate(plan):
        cmd += ([THEN] if i else []) + [dag_id, *keys] + (["--conf", json.dumps(conf)] if conf else [])
    results: list[dict] = []
    tail: collections.deque[str] = collections.deque(maxlen=300)
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        if on_start:
            on_start(proc)
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("KEFU_RUN_RESULT "):
                r = json.loads(line[len("KEFU_RUN_RESULT ") :])
                r["log_tail"] = ""
                results.append(r)
                if on_result:
                    on_result(r)
            elif "Skipping registering function" not in line:  # GX import noise
                tail.append(line)
        rc = proc.wait()
        err.seek(0)
        err_tail = err.read()[-6000:]
    if rc and not results:
        names = ", ".join(dag_id for dag_id, _ in plan)
        raise RuntimeError(f"dag.test of {names} crashed:\n{''.join(tail)[-3000:]}\n{err_tail}")
    if results and results[-1]["state"] != "success":
        results[-1]["log_tail"] = "".join(tail)[-8000:] + "\n" + err_tail
    return results


def run_lanes(lanes: list[list[tuple[str, list[str]]]], env: dict[str, str], on_result=None) -> list[list[dict]]:
    """Several plans at once, each in a child of its own (run_plan_in_child): what Airflow's scheduler
    does with the runs of different DAGs — each DAG still one run at a time, in order. `kefu demo`
    runs the writer's DAGs (backfill, nightly) in one lane and monthly_assessment in another, whose
    sensor waits for each month's last night (D-204). A run that fails, or a lane that crashes, stops
    the other lanes; returns each lane's results, in the order of `lanes`."""
    import threading

    lock, failed = threading.Lock(), threading.Event()
    procs: list[subprocess.Popen] = []
    out: list[list[dict] | BaseException] = [[] for _ in lanes]

    # SIGKILL: a child inside dag.test() goes on through SIGTERM (its sensor kept poking)
    def stop_all() -> None:
        failed.set()
        with lock:
            for p in procs:
                if p.poll() is None:
                    p.kill()

    def started(proc: subprocess.Popen) -> None:
        with lock:
            procs.append(proc)
        if failed.is_set():
            proc.kill()

    def seen(r: dict) -> None:
        if on_result:
            with lock:
                on_result(r)
        if r["state"] != "success":
            stop_all()

    def lane(i: int) -> None:
        try:
            out[i] = run_plan_in_child(lanes[i], env, on_result=seen, on_start=started)
        except BaseException as exc:  # re-raised below, after the other lanes stopped
            # a lane stopped because another one failed ends without its last result: not a cause
            out[i] = [] if failed.is_set() else exc
            stop_all()

    threads = [threading.Thread(target=lane, args=(i,), name=f"kefu-lane-{i}") for i in range(len(lanes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in out:
        if isinstance(r, BaseException):
            raise r
    return [r for r in out if not isinstance(r, BaseException)]


def _logical_date(dag_id: str, key: str) -> datetime:
    import pendulum

    if dag_id == "monthly_assessment":  # the run on the 1st of the next month closes `key`
        y, m = (int(x) for x in key.split("-"))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return pendulum.datetime(y, m, 1, 6, tz="Asia/Shanghai")
    d = date.fromisoformat(key) + timedelta(days=1)  # the run at 02:00 the next morning processes `key`
    return pendulum.datetime(d.year, d.month, d.day, 2, tz="Asia/Shanghai")


def _record_real_start(run, started: datetime) -> float | None:
    """dag.test() creates its run with start_date = the logical date (a January business date
    run today would last ~300 days in the UI); the tasks' own start and end dates are real. Set
    the run's start_date to when it really started, so the UI shows its real duration; return
    that duration in seconds."""
    from airflow import settings
    from airflow.models.dagrun import DagRun

    session = settings.Session()
    try:
        dr = session.get(DagRun, run.id)
        if dr is not None:
            dr.start_date = started
            if dr.end_date is not None and dr.end_date < started:
                dr.end_date = started
            session.commit()
            return dr.duration
        return None
    finally:
        session.close()


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children that have ended (dbt)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def serve_only_the_sdks_api_version() -> bool:
    """dag.test() runs each task through Airflow's Task Execution API served in this process
    (InProcessExecutionAPI), whose Cadwyn app, on its first request, generates a router for every
    API version Airflow still serves to older workers (nine in Airflow 3.3): ≈ 4.6 CPU s per child, the
    first task's cost (docs/decisions.md D-219). The only client here is this process's own Task SDK,
    which speaks one version, so the app is given a bundle of that version alone. Only when the SDK's
    version is the bundle's newest (what the routes are written for); otherwise nothing changes.
    Returns whether the bundle was replaced."""
    from airflow.api_fastapi.execution_api import versions
    from airflow.sdk.api.datamodels._generated import API_VERSION
    from cadwyn import HeadVersion, Version, VersionBundle

    served = [v.value for v in versions.bundle.versions]
    if not served or served[0] != API_VERSION or len(served) == 1:
        return False
    # the routes kept only for older clients (Cadwyn requires a served older version to restore them)
    from airflow.api_fastapi.execution_api.routes import execution_api_router
    from cadwyn.route_generation import _DELETED_ROUTE_TAG

    execution_api_router.routes[:] = [
        r for r in execution_api_router.routes if _DELETED_ROUTE_TAG not in getattr(r, "tags", ())
    ]
    versions.bundle = VersionBundle(HeadVersion(), Version(API_VERSION))
    return True


PROFILE_ENV = "KEFU_TASK_PROFILE"  # a file: one JSON line per task try, its wall and CPU seconds


def _profile_tasks(path: Path) -> None:
    """Wrap dag.test()'s in-process task runner so each task try appends its wall time and the CPU
    seconds of this process and of its waited-for children (dbt runs as a child) to `path` — the
    per-task profile of docs/benchmarks.md ("make demo"). dag.test() runs every task in this process."""
    import resource

    from airflow.sdk.definitions import dag as sdk_dag

    inner = sdk_dag._run_task

    def cpu() -> tuple[float, float]:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime

    def timed(*, ti, task, run_triggerer=False):
        (s0, c0), t0 = cpu(), time.monotonic()
        try:
            return inner(ti=ti, task=task, run_triggerer=run_triggerer)
        finally:
            (s1, c1), wall = cpu(), time.monotonic() - t0
            row = {"dag_id": ti.dag_id, "task_id": ti.task_id, "run_id": ti.run_id, "state": str(ti.state)}
            row |= {"wall": round(wall, 2), "cpu_self": round(s1 - s0, 2), "cpu_children": round(c1 - c0, 2)}
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")

    sdk_dag._run_task = timed


def _parse(argv: list[str]):
    import argparse

    p = argparse.ArgumentParser(prog="python -m kefu.airflow_runner")
    p.add_argument("dag_id", choices=["nightly", "monthly_assessment", "backfill"])
    p.add_argument(
        "keys",
        nargs="+",
        help="business dates YYYY-MM-DD (nightly; backfill: load up to it) or months YYYY-MM (monthly); "
        f"`{THEN} DAG KEY...` runs another DAG after these in the same process",
    )
    p.add_argument("--conf", default=None, help="JSON run conf added to every run")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    plan, part = [], list[str]()
    for arg in [*argv, THEN]:
        if arg == THEN:
            plan.append(_parse(part))
            part = []
        else:
            part.append(arg)

    if os.environ.get(PROFILE_ENV):
        _profile_tasks(Path(os.environ[PROFILE_ENV]))
    serve_only_the_sdks_api_version()
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    if bag.import_errors:
        print(f"DAG import errors: {bag.import_errors}", file=sys.stderr)
        return 2
    for args in plan:
        dag = bag.get_dag(args.dag_id)
        extra = json.loads(args.conf) if args.conf else {}
        for key in args.keys:
            conf = dict(extra)
            if args.dag_id == "backfill":
                conf["through"] = key
            t0, c0 = time.monotonic(), _cpu_seconds()
            started = datetime.now(UTC)
            run = dag.test(logical_date=_logical_date(args.dag_id, key), run_conf=conf or None)
            run_seconds = _record_real_start(run, started)
            tis = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
            state = str(run.state)
            result = {
                "dag_id": args.dag_id,
                "key": key,
                "run_id": run.run_id,
                "state": state,
                "seconds": round(time.monotonic() - t0, 1),
                "run_seconds": None if run_seconds is None else round(run_seconds, 1),
                "cpu_seconds": round(_cpu_seconds() - c0, 1),  # this process and its dbt children
                "tasks": tis,
            }
            print("KEFU_RUN_RESULT " + json.dumps(result), flush=True)
            if state != "success":
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

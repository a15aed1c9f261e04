"""Cosmos (one Airflow task per dbt node) against the nightly's one `dbt build` task (D-72).

    /work/venv/bin/python -m benchmarks.bench_cosmos [--warehouse kefu.duckdb] [--work DIR] [--limit-min 25]

On copies of a built warehouse (default: the demo fixture /work/fixtures/demo/kefu.duckdb; the
script waits for it to exist), back to back in one process, the machine's load average printed
beside each figure:
1. DAG parse: a DagBag of benchmarks/cosmos_dag_template.py (Cosmos 1.15 DbtDag, ExecutionMode.LOCAL,
   default AFTER_EACH tests) with LoadMode.DBT_MANIFEST and LoadMode.DBT_LS, each in a fresh
   process; DBT_LS once at Airflow's default dagbag_import_timeout, then cold and warm with the
   timeout raised; the nightly DAG (dags/nightly.py) for reference. Task counts by operator.
2. a full dag.test() of the Cosmos DAG (AIRFLOW_HOME a temp dir, SQLite, `airflow db migrate`
   first). Stopped after --limit-min minutes: then tasks done per minute and an extrapolation.
3. the one-task path: kefu.build.build(copy, exclude=...) with the data tests (what month close and
   rebuild run) and without them (models only: what the nightly runs), with dbt's partial parsing
   warm as it is night after night. Repeated after the Cosmos run to bracket drifting load.
Every warehouse copy is made at the same absolute path, so that dbt's partial parse and Cosmos'
caches see one profile. Results: <work>/results.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "benchmarks" / "cosmos_dag_template.py"
NIGHTLY = ROOT / "dags" / "nightly.py"
FIXTURE = Path("/work/fixtures/demo/kefu.duckdb")
WITH_TESTS = "resource_type:unit_test"  # kefu.pipeline.FULL_EXCLUDE
MODELS_ONLY = "resource_type:test resource_type:unit_test"  # kefu.pipeline.NIGHTLY_EXCLUDE

PARSE = r"""
import collections, json, sys, time
from airflow.dag_processing.dagbag import DagBag
t0 = time.monotonic()
bag = DagBag(dag_folder=sys.argv[1])
seconds = time.monotonic() - t0
dags = {d.dag_id: dict(collections.Counter(type(t).__name__ for t in d.tasks)) for d in bag.dags.values()}
errors = {k: ([ln for ln in v.splitlines() if "timeout" in ln or "Error" in ln] or [v])[-1][:300]
          for k, v in bag.import_errors.items()}
print("KEFU_RESULT " + json.dumps({"seconds": seconds, "dags": dags, "errors": errors}))
"""

DAG_TEST = r"""
import collections, json, sys, time
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).get_dag("kefu_cosmos")
t0 = time.monotonic()
run = dag.test()
seconds = time.monotonic() - t0
states = collections.Counter(str(ti.state) for ti in run.get_task_instances())
print("KEFU_RESULT " + json.dumps({"seconds": seconds, "state": str(run.state), "states": dict(states)}))
"""


def load() -> str:
    return "{:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


def wait_for(path: Path, minutes: float = 30) -> None:
    deadline = time.monotonic() + minutes * 60
    size = -1
    while not (path.exists() and path.stat().st_size == size):  # exists and stopped growing
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} did not appear within {minutes} minutes")
        size = path.stat().st_size if path.exists() else -1
        time.sleep(10)


def fresh_copy(src: Path, dst: Path) -> Path:
    for p in dst.parent.glob(dst.name + "*"):  # the file and any .wal
        p.unlink()
    shutil.copyfile(src, dst)
    return dst


def environment(work: Path, warehouse: Path) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),  # Cosmos' dbt ls finds the same dbt
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
        "AIRFLOW_HOME": str(work / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(TEMPLATE),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(work / "cosmos_cache"),
        "KEFU_WAREHOUSE": str(warehouse.resolve()),
        "KEFU_COSMOS_MANIFEST": str(work / "target" / "manifest.json"),
        "KEFU_DBT_EXECUTABLE": str(Path(venv_bin) / "dbt"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "KEFU_AS_OF_DATE": "",  # as kefu.build.run_dbt: no run var pinned
        "KEFU_HISTORY_AS_OF": "",
    }


def child(
    code: str, args: list[str], env: dict[str, str], log: Path, limit_s: float | None = None, progress=None
) -> dict:
    """Run python -c code in its own process group; its output goes to log. Returns the KEFU_RESULT
    dict, or {"stopped": True} when limit_s passed (the whole group is then killed)."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        t0 = time.monotonic()
        while proc.poll() is None:
            time.sleep(5)
            if progress:
                progress(time.monotonic() - t0)
            if limit_s is not None and time.monotonic() - t0 > limit_s:
                os.killpg(proc.pid, signal.SIGKILL)  # the child and its dbt processes
                proc.wait()
                return {"stopped": True, "seconds": time.monotonic() - t0}
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if line.startswith("KEFU_RESULT "):
            return json.loads(line[len("KEFU_RESULT ") :])
    raise RuntimeError(f"{code.splitlines()[2]} failed (exit {proc.returncode}); see {log}")


def ti_states(airflow_home: Path) -> dict[str, int]:
    db = airflow_home / "airflow.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as con:
        rows = con.execute(
            "SELECT coalesce(state, 'none'), count(*) FROM task_instance WHERE dag_id = 'kefu_cosmos' GROUP BY 1"
        ).fetchall()
    return dict(rows)


def ti_seconds(airflow_home: Path) -> dict[str, dict]:
    """Sum and count of finished task durations by kind (seed / run / test)."""
    db = airflow_home / "airflow.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as con:
        rows = con.execute(
            "SELECT task_id, duration FROM task_instance WHERE dag_id = 'kefu_cosmos' AND duration IS NOT NULL"
        ).fetchall()
    out: dict[str, dict] = collections.defaultdict(lambda: {"n": 0, "seconds": 0.0})
    for task_id, dur in rows:
        kind = next((k for k in ("seed", "run", "test") if task_id.endswith(k)), task_id)  # x.run or x_run
        out[kind]["n"] += 1
        out[kind]["seconds"] += dur
    return dict(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_cosmos", description=__doc__.split("\n")[0])
    p.add_argument("--warehouse", type=Path, default=FIXTURE, help="a built warehouse (copied, never written)")
    p.add_argument("--work", type=Path, default=None, help="work folder (default: a new temp dir, kept)")
    p.add_argument("--limit-min", type=float, default=25.0, help="stop the Cosmos dag.test after this many minutes")
    a = p.parse_args(argv)

    wait_for(a.warehouse)
    work = (a.work or Path(tempfile.mkdtemp(prefix="kefu_bench_cosmos_"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    wh = work / "wh" / "kefu.duckdb"
    wh.parent.mkdir(exist_ok=True)
    env = environment(work, wh)
    os.environ.update({k: env[k] for k in ("KEFU_AS_OF_DATE", "KEFU_HISTORY_AS_OF", "DBT_SEND_ANONYMOUS_USAGE_STATS")})
    res: dict = {"work": str(work), "warehouse": str(a.warehouse), "cpus": os.cpu_count()}
    rows: list[tuple[str, str, str, str]] = []  # measurement, seconds, tasks, load

    def row(name: str, seconds, tasks="", ld=None):
        rows.append((name, seconds if isinstance(seconds, str) else f"{seconds:.1f}", str(tasks), ld or load()))
        print(f"  {name}: {rows[-1][1]} s  {tasks}  (load {rows[-1][3]})", flush=True)

    from kefu import build

    print(f"work folder {work}", flush=True)
    fresh_copy(a.warehouse, wh)
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    # manifest.json for LoadMode.DBT_MANIFEST (a deploy-time step); also warms partial parsing in work/target
    ld, t0 = load(), time.monotonic()
    build.run_dbt(["parse"], wh, target_path=work / "target")
    row("dbt parse -> manifest.json (cold, deploy step)", time.monotonic() - t0, "", ld)

    # 1. DAG parse, each in a fresh process
    def parse(name: str, dag_file: Path, extra: dict[str, str]) -> dict:
        ld = load()
        r = child(PARSE, [str(dag_file)], {**env, **extra}, work / f"parse_{len(rows)}.log")
        tasks = (
            "; ".join(
                f"{d}: {sum(c.values())} tasks ({', '.join(f'{k} {v}' for k, v in sorted(c.items()))})"
                for d, c in r["dags"].items()
            )
            or f"IMPORT ERROR: {next(iter(r['errors'].values()))}"
        )
        row(name, r["seconds"], tasks, ld)
        res.setdefault("parse", {})[name] = r
        return r

    def clear_cosmos_cache() -> None:
        shutil.rmtree(work / "cosmos_cache", ignore_errors=True)
        with sqlite3.connect(work / "airflow" / "airflow.db") as con:  # Cosmos' dbt ls cache (Airflow Variables)
            con.execute("DELETE FROM variable WHERE key LIKE 'cosmos_cache%'")

    parse("DagBag nightly.py (one dbt_build task)", NIGHTLY, {"KEFU_HOME": str(work / "kefu_home")})
    parse("DagBag Cosmos DBT_MANIFEST", TEMPLATE, {"KEFU_COSMOS_LOAD_MODE": "dbt_manifest"})
    parse("DagBag Cosmos DBT_MANIFEST (again)", TEMPLATE, {"KEFU_COSMOS_LOAD_MODE": "dbt_manifest"})
    clear_cosmos_cache()
    parse("DagBag Cosmos DBT_LS, default 30 s import timeout, cold", TEMPLATE, {"KEFU_COSMOS_LOAD_MODE": "dbt_ls"})
    clear_cosmos_cache()
    long = {"KEFU_COSMOS_LOAD_MODE": "dbt_ls", "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "1800"}
    parse("DagBag Cosmos DBT_LS, timeout raised, cold cache", TEMPLATE, long)
    parse("DagBag Cosmos DBT_LS, timeout raised, warm cache", TEMPLATE, long)

    # 3. the one-task path (before the Cosmos run)
    def one_task(name: str, exclude: str) -> None:
        fresh_copy(a.warehouse, wh)
        ld, t0 = load(), time.monotonic()
        build.build(wh, exclude=exclude, target_path=work / "target")
        row(name, time.monotonic() - t0, "1 task", ld)

    one_task("one task: dbt build, models + data tests", WITH_TESTS)
    one_task("one task: dbt build, models only (nightly)", MODELS_ONLY)

    # 2. dag.test of the Cosmos DAG
    fresh_copy(a.warehouse, wh)
    total = sum(sum(c.values()) for c in res["parse"]["DagBag Cosmos DBT_MANIFEST"]["dags"].values())
    home = work / "airflow"
    last = [0.0]

    def progress(elapsed: float) -> None:
        if elapsed - last[0] >= 60:
            last[0] = elapsed
            try:
                st = ti_states(home)
            except sqlite3.Error:
                return
            print(f"    {elapsed / 60:.1f} min: {st}", flush=True)

    ld = load()
    r = child(
        DAG_TEST,
        [str(TEMPLATE)],
        {**env, "KEFU_COSMOS_LOAD_MODE": "dbt_manifest"},
        work / "cosmos_dag_test.log",
        limit_s=a.limit_min * 60,
        progress=progress,
    )
    states = ti_states(home)
    done = states.get("success", 0) + states.get("failed", 0)
    r.update(states_db=states, by_kind=ti_seconds(home), total_tasks=total)
    res["cosmos_dag_test"] = r
    if r.get("stopped"):
        per_min = done / (r["seconds"] / 60)
        r["extrapolated_seconds"] = total / per_min * 60 if per_min else None
        row(
            f"Cosmos dag.test STOPPED at {a.limit_min:g} min: {done}/{total} tasks done "
            f"({per_min:.2f}/min); EXTRAPOLATED full run",
            r["extrapolated_seconds"] or "n/a",
            f"{total} tasks",
            ld,
        )
    else:
        row(
            f"Cosmos dag.test (DBT_MANIFEST, LOCAL, AFTER_EACH) -> {r['state']} {r['states']}",
            r["seconds"],
            f"{total} tasks",
            ld,
        )
    for kind, v in sorted(r["by_kind"].items()):
        print(f"    {kind}: {v['n']} tasks, mean {v['seconds'] / v['n']:.1f} s each", flush=True)

    one_task("one task: dbt build, models + data tests (after Cosmos)", WITH_TESTS)
    one_task("one task: dbt build, models only (after Cosmos)", MODELS_ONLY)

    res["rows"] = rows
    (work / "results.json").write_text(json.dumps(res, indent=2, ensure_ascii=False))
    w = max(len(r[0]) for r in rows)
    print(f"\n{'measurement':<{w}}  {'seconds':>8}  {'load 1/5/15':<15}  tasks")
    for name, sec, tasks, ld in rows:
        print(f"{name:<{w}}  {sec:>8}  {ld:<15}  {tasks}")
    print(f"\nsame machine, back to back ({os.cpu_count()} cores, shared); results: {work / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The same dbt project on Spark (dbt-spark, target `spark` in dbt_project/profiles.yml).

Ingest stays on DuckDB. Spark reads the DuckDB warehouse's inputs — every raw source of
dbt_project/models/staging/_sources.yml and every rulebook seed table — exported to Parquet
and registered under the same schema.table names (macro spark_register_parquet), then
`dbt run --target spark` builds the same models, both commands in one process and one Spark
session (build.run_dbt_commands; the catalog is the session's, in memory). With `method: session`
the Spark state (inputs, managed tables) lives in `<warehouse>.spark/` beside the DuckDB file.

    build_on_spark(warehouse)  -> seconds of `dbt run --target spark` (tests=True: `dbt build`)
    parity(warehouse)          -> rows of marts.kpi_rule_results that differ between DuckDB and Spark
    standalone_cluster(dir)    -> a Spark standalone cluster on this machine (a master and two
                                  workers, pyspark's own bin/spark-class launchers): its spark:// URL,
                                  for build_on_spark(warehouse, master=url)

Needs the optional extra: pip install "kefu-kpi[spark]" (dbt-spark[session], pyspark; Java 17).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd
import yaml

from kefu import build
from kefu.exactness import KEY

SOURCES_YML = build.DBT_DIR / "models" / "staging" / "_sources.yml"
SEED_SCHEMA = "rulebook"


def spark_dir(warehouse: Path) -> Path:
    """The local Spark state of the `spark` target (profiles.yml: KEFU_WAREHOUSE + '.spark')."""
    return Path(str(Path(warehouse).resolve()) + ".spark")


def input_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """schema.table of every input dbt reads but does not build: the sources and the seed tables."""
    spec = yaml.safe_load(SOURCES_YML.read_text(encoding="utf-8"))
    sources = [f"{s['schema']}.{t['name']}" for s in spec["sources"] for t in s["tables"]]
    seeds = [
        f"{SEED_SCHEMA}.{name}"
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [SEED_SCHEMA]
        ).fetchall()
    ]
    return sources + seeds


def export_inputs(warehouse: Path, out: Path) -> dict[str, str]:
    """Write every input table of the DuckDB warehouse to out/<schema>/<table>/ as Parquet."""
    tables = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for name in input_tables(con):
            folder = out.joinpath(*name.split("."))
            folder.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy (select * from {name}) to '{folder / 'part-0.parquet'}' (format parquet)")
            tables[name] = str(folder)
    finally:
        con.close()
    return tables


def build_on_spark(
    warehouse: Path,
    tests: bool = False,
    master: str | None = None,
    executor_memory: str = "1g",
    select: str | None = None,
) -> float:
    """Export the inputs, register them on Spark and build the models there (`dbt run --target
    spark`; with tests=True `dbt build`: unit and data tests too); return the dbt seconds.

    master: a Spark master URL (spark://host:port, e.g. from standalone_cluster()); default the
    target's local[2] session. The driver stays in dbt's process (client mode) with the
    in-memory catalog; the executors read the inputs and write the tables under <warehouse>.spark/, a path
    every worker of this machine sees.

    select: dbt's --select (e.g. "+kpi_rule_results": that mart and every model it is built from);
    default every model.

    Seeds are not loaded by dbt here: the rulebook tables come from the DuckDB warehouse with the
    other inputs, so both engines compute from the same rows."""
    state = spark_dir(warehouse)
    shutil.rmtree(state, ignore_errors=True)
    tables = export_inputs(warehouse, state / "inputs")
    target_path = state / "dbt_target"
    env = (
        {"KEFU_SPARK_MASTER": master, "KEFU_SPARK_EXECUTOR_MEMORY": executor_memory, "SPARK_LOCAL_IP": "127.0.0.1"}
        if master
        else None
    )
    command = ["build", "--exclude-resource-type", "seed"] if tests else ["run"]
    selection = ["--select", select] if select else []
    timings = build.run_dbt_commands(
        [
            ["run-operation", "spark_register_parquet", "--target", "spark", "--args", json.dumps({"tables": tables})],
            [*command, *selection, "--quiet", "--target", "spark"],
        ],
        warehouse,
        target_path,
        extra_env=env,
    )
    return timings[-1]


def spark_home() -> Path:
    """The Spark distribution pip installed with pyspark (bin/spark-class, jars/)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


_T = TypeVar("_T")

# the master's log line naming its web UI's address ("... started at http://localhost:PORT")
_MASTER_UI = re.compile(r"MasterWebUI: Bound MasterWebUI to \S+ and started at http://[^:\s]+:(\d+)")


PROFILES_YML = build.DBT_DIR / "profiles.yml"


def jvm_options() -> str:
    """The Spark target's JVM options for its short-lived JVMs (profiles.yml, D-216): the executors', which
    the cluster's master and workers get as well."""
    spark_target = yaml.safe_load(PROFILES_YML.read_text(encoding="utf-8"))["kefu"]["outputs"]["spark"]
    return spark_target["server_side_parameters"]["spark.executor.extraJavaOptions"]


@dataclass
class Cluster:
    url: str  # spark://127.0.0.1:PORT, the master URL for build_on_spark(master=...)
    webui: str  # the master's web UI
    work_dir: Path

    def state(self) -> dict:
        """The master's view (its web UI's /json/): workers, active and completed applications."""
        with urllib.request.urlopen(f"{self.webui}/json/", timeout=5) as r:
            return json.loads(r.read())


@contextmanager
def standalone_cluster(
    work_dir: Path,
    workers: int = 2,
    cores: int = 1,
    memory: str = "1536m",
    daemon_memory: str = "256m",
    timeout: float = 180,
) -> Iterator[Cluster]:
    """A Spark standalone cluster on this machine, each daemon a process of its own started by
    pyspark's bin/spark-class: org.apache.spark.deploy.master.Master and `workers` x
    org.apache.spark.deploy.worker.Worker spark://127.0.0.1:PORT (`cores` cores and `memory` for
    executors each). Yields the Cluster once every worker has registered ALIVE; stops them all
    (their process groups) on exit. Logs and the workers' folders go to work_dir."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    home = spark_home()
    spark_class = str(home / "bin" / "spark-class")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_DAEMON_MEMORY": daemon_memory,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(work_dir),
        "SPARK_CONF_DIR": str(work_dir),
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",  # no REST server on the fixed port 6066
        # the master and the workers are JVMs of a few minutes too: C1 only, the serial collector (D-216)
        "SPARK_DAEMON_JAVA_OPTS": os.environ["SPARK_DAEMON_JAVA_OPTS"]
        if "SPARK_DAEMON_JAVA_OPTS" in os.environ
        else jvm_options(),
    }
    procs: list[tuple[subprocess.Popen, Path]] = []

    def start(name: str, *args: str) -> None:
        log = work_dir / f"{name}.log"
        with open(log, "wb") as out:
            procs.append(
                (
                    subprocess.Popen(
                        [spark_class, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                    ),
                    log,
                )
            )

    def logs() -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for _, log in procs)

    deadline = time.monotonic() + timeout

    def wait(what: str, ready: Callable[[], _T | None]) -> _T:
        while True:
            try:
                if found := ready():
                    return found
            except (OSError, ValueError):  # not listening yet, or the UI not serving JSON yet
                pass
            dead = [log.name for p, log in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(
                    f"Spark standalone cluster did not come up: {what} "
                    f"({'exited: ' + ', '.join(dead) if dead else 'timeout'}):\n{logs()}"
                )
            time.sleep(0.5)

    try:
        # port 0: the master binds ports the OS picks when it binds them. A port found free
        # beforehand can be taken by the time the JVM binds it; Spark then moves to the next
        # port and workers told the old one never register (CI, 2026-12-03).
        start(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--webui-port",
            "0",
        )
        master_log = procs[0][1]
        ui_port = wait(
            "the master's web UI",
            lambda: (m := _MASTER_UI.search(master_log.read_text(errors="replace"))) and m.group(1),
        )
        webui = f"http://127.0.0.1:{ui_port}"
        url = wait("the master", lambda: Cluster("", webui, work_dir).state().get("url"))
        cluster = Cluster(url, webui, work_dir)
        for i in range(workers):
            folder = work_dir / f"worker{i + 1}"
            folder.mkdir(exist_ok=True)
            start(
                f"worker{i + 1}",
                "org.apache.spark.deploy.worker.Worker",
                cluster.url,
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--cores",
                str(cores),
                "--memory",
                memory,
                "--webui-port",
                "0",
                "--work-dir",
                str(folder),
            )
        wait(
            f"{workers} workers ALIVE",
            lambda: sum(w.get("state") == "ALIVE" for w in cluster.state().get("workers", [])) >= workers,
        )
        yield cluster
    finally:
        for p, _ in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p, _ in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def spark_table(warehouse: Path, relation: str) -> str:
    """A DuckDB expression reading a managed Spark table (Parquet files under the Spark warehouse dir)."""
    schema, table = relation.split(".")
    return f"read_parquet('{spark_dir(warehouse) / 'warehouse' / f'{schema}.db' / table}/*.parquet')"


def row_counts(warehouse: Path, relation: str = "marts.kpi_rule_results") -> tuple[int, int]:
    """Rows of `relation` in the DuckDB warehouse and in its Spark build."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return tuple(
            con.execute(f"select count(*) from {source}").fetchone()[0]
            for source in (relation, spark_table(warehouse, relation))
        )
    finally:
        con.close()


def parity(warehouse: Path, relation: str = "marts.kpi_rule_results", tolerance: float = 1e-9) -> pd.DataFrame:
    """Rows of `relation` that differ between the DuckDB warehouse and its Spark build.

    side = only_duckdb | only_spark | differs (columns named in `columns`); numbers within `tolerance`."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        duck = con.execute(f"select * from {relation}").df()
        spark = con.execute(f"select * from {spark_table(warehouse, relation)}").df()
    finally:
        con.close()
    m = duck.merge(spark, on=KEY, how="outer", suffixes=("_duckdb", "_spark"), indicator=True)
    m["side"] = m["_merge"].astype(str).map({"left_only": "only_duckdb", "right_only": "only_spark", "both": ""})
    m["columns"] = ""
    for col in (c for c in duck.columns if c not in KEY):
        a, b = m[f"{col}_duckdb"], m[f"{col}_spark"]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(a):
            same = ((a.astype(float) - b.astype(float)).abs() <= tolerance) | (a.isna() & b.isna())
        else:
            same = (a == b) | (a.isna() & b.isna())
        m.loc[~same & (m["_merge"] == "both"), "columns"] += col + " "
    m.loc[m["columns"] != "", "side"] = "differs"
    return m[m.side != ""].drop(columns="_merge").sort_values(KEY).reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    """python -m kefu.spark WAREHOUSE [--tests]: build a DuckDB warehouse's models on Spark and compare."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m kefu.spark", description=main.__doc__)
    ap.add_argument("warehouse", type=Path, help="a built DuckDB warehouse (kefu run / make demo); not modified")
    ap.add_argument("--tests", action="store_true", help="dbt build: unit and data tests too, not only the models")
    args = ap.parse_args(argv)
    seconds = build_on_spark(args.warehouse, tests=args.tests)
    diff = parity(args.warehouse)
    print(f"Spark build: {seconds:.0f} s ({spark_dir(args.warehouse)})")
    print("marts.kpi_rule_results: Spark equals DuckDB" if diff.empty else diff.to_string(index=False))
    return 0 if diff.empty else 1


if __name__ == "__main__":
    raise SystemExit(main())

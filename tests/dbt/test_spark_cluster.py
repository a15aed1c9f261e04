"""The Spark parity test on a real cluster (issue 18 point 6; docs/scaling.md §1b): the test starts
a Spark standalone cluster on this machine — a master and two workers, separate processes launched
by pyspark's own bin/spark-class, one core each — builds there with dbt-spark marts.kpi_rule_results
and every model it is built from (the local-session test builds every model), compares every
marts.kpi_rule_results row with DuckDB's, and stops the cluster. A file
of its own so that `pytest -n 2 --dist loadfile` runs it beside the local-session test."""

import shutil
import subprocess

import psutil
import pytest

from kefu import spark

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("java") is None, reason="needs Java 17 (openjdk-17-jre-headless)"),
]


def _cmdline(p: psutil.Process) -> list[str]:
    """[] for a process gone or a zombie (spark-class's launcher, exited and never reaped by the JVM)."""
    try:
        return p.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return []


def _is_daemon(cmdline: list[str]) -> bool:
    return any(c.startswith("org.apache.spark.deploy.") for c in cmdline)


def assert_parity(warehouse, seconds: float, where: str) -> None:
    diff = spark.parity(warehouse)
    counts = spark.row_counts(warehouse)
    print(f"dbt run --target spark ({where}): {seconds:.0f} s; kpi_rule_results rows duckdb/spark: {counts}")
    assert counts[0] > 0 and counts[0] == counts[1]
    assert diff.empty, "rows of marts.kpi_rule_results that differ between DuckDB and Spark:\n" + diff[
        spark.KEY + ["side", "columns"]
    ].to_string(index=False)


def test_kpi_rule_results_built_on_a_standalone_cluster_equal_the_duckdb_build(built_demo, tmp_path):
    shared, _ = built_demo(1, 3)
    warehouse = tmp_path / "kefu.duckdb"
    shutil.copyfile(shared, warehouse)
    with spark.standalone_cluster(tmp_path / "cluster", workers=2, cores=1) as cluster:
        workers = cluster.state()["workers"]
        assert [w["state"] for w in workers] == ["ALIVE", "ALIVE"] and all(w["cores"] == 1 for w in workers)
        daemons = [c for c in map(_cmdline, psutil.Process().children(recursive=True)) if _is_daemon(c)]
        assert len(daemons) == 3 and all("-XX:TieredStopAtLevel=1" in c for c in daemons), daemons  # D-216
        # the compared mart and every model it is built from; every model of the project is built
        # on Spark by the local-session test (test_spark_parity.py, D-200)
        seconds = spark.build_on_spark(warehouse, master=cluster.url, select="+kpi_rule_results")
        apps = cluster.state()
    # dbt's Spark application ran on the cluster: the master saw it, with both workers' cores, and
    # each worker started an executor for it (its folder under the worker's work dir)
    ran = apps.get("completedapps", []) + apps.get("activeapps", [])
    assert ran and max(a["cores"] for a in ran) == 2, ran
    for i in (1, 2):
        assert list((tmp_path / "cluster" / f"worker{i}").glob("app-*/*/stderr")), f"worker{i} ran no executor"
    # torn down: no daemon of this cluster is left
    left = subprocess.run(["pgrep", "-f", str(tmp_path / "cluster")], capture_output=True, text=True).stdout
    assert not left.strip(), left
    assert_parity(warehouse, seconds, f"standalone cluster {cluster.url}, 2 workers x 1 core")

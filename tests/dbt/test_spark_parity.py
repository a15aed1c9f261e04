"""The same dbt project on Spark (docs/scaling.md): the demo warehouse built on DuckDB,
its inputs registered on Spark, the models built there by dbt-spark, and marts.kpi_rule_results
compared row by row on a local Spark session (tests/dbt/test_spark_cluster.py: on a standalone
cluster). Needs the optional extra `spark` and Java 17."""

import shutil

import pytest

from kefu import spark

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("java") is None, reason="needs Java 17 (openjdk-17-jre-headless)"),
]


def assert_parity(warehouse, seconds: float, where: str) -> None:
    diff = spark.parity(warehouse)
    counts = spark.row_counts(warehouse)
    print(f"dbt run --target spark ({where}): {seconds:.0f} s; kpi_rule_results rows duckdb/spark: {counts}")
    assert counts[0] > 0 and counts[0] == counts[1]
    assert diff.empty, "rows of marts.kpi_rule_results that differ between DuckDB and Spark:\n" + diff[
        spark.KEY + ["side", "columns"]
    ].to_string(index=False)


def test_kpi_rule_results_built_on_spark_equal_the_duckdb_build(built_demo, tmp_path):
    shared, _ = built_demo(1, 3)
    warehouse = tmp_path / "kefu.duckdb"  # the Spark state is written beside the file: a copy
    shutil.copyfile(shared, warehouse)
    assert_parity(warehouse, spark.build_on_spark(warehouse), "local[2] session")

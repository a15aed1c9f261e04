"""The same dbt project on Spark (issue 7; docs/scaling.md): the demo warehouse built on DuckDB,
its inputs registered on a local Spark session, the models built there by dbt-spark, and
marts.kpi_rule_results compared row by row. Needs the optional extra `spark` and Java 17."""

import pytest

from kefu import spark


@pytest.mark.slow
def test_kpi_rule_results_built_on_spark_equal_the_duckdb_build(built_demo):
    warehouse, _ = built_demo(1, 3)
    seconds = spark.build_on_spark(warehouse)
    diff = spark.parity(warehouse)
    counts = spark.row_counts(warehouse)
    print(f"dbt run --target spark: {seconds:.0f} s; kpi_rule_results rows duckdb/spark: {counts}")
    assert counts[0] > 0 and counts[0] == counts[1]
    assert diff.empty, "rows of marts.kpi_rule_results that differ between DuckDB and Spark:\n" + \
        diff[spark.KEY + ["side", "columns"]].to_string(index=False)

"""The model-level not_null_columns test (dbt_project/tests/generic/not_null_columns.sql, D-223): a NULL
in any listed column fails the model's test, and its failing rows name each such column and how many
rows hold NULL there."""

import shutil

import duckdb
import pytest

from kefu import build


def test_a_null_fails_the_models_test_and_its_rows_name_the_column(built_demo, tmp_path):
    shared, _ = built_demo(1, 3)
    warehouse = tmp_path / "kefu.duckdb"
    shutil.copyfile(shared, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("update marts.fct_calls set queue = null where call_id in (select min(call_id) from marts.fct_calls)")
    con.execute(
        "update marts.fct_calls set arrived_at = null where call_id in (select max(call_id) from marts.fct_calls)"
    )
    con.close()
    select = ["--select", "fct_calls,test_name:not_null_columns", "--exclude", "resource_type:unit_test"]
    with pytest.raises(RuntimeError, match="not_null_columns_fct_calls"):
        build.run_dbt(["test", "--quiet", *select], warehouse, tmp_path / "target")
    (compiled,) = (tmp_path / "target" / "compiled").rglob("not_null_columns_fct_calls*.sql")
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(compiled.read_text(encoding="utf-8")).fetchall()
    con.close()
    assert sorted(rows) == [("arrived_at", 1), ("queue", 1)]

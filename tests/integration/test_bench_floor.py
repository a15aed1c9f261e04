"""The benchmark's floor (one DuckDB query over the exports) and pandas baseline compute the same
T9, A2, H1, S1 and C1 figures as the warehouse. Correctness only: no timing is asserted here."""

from pathlib import Path

import pandas as pd
import pytest

from benchmarks import baseline_pandas, bench_pipeline, floor

KEY = ["measure_id", "period_month", "grain", "unit_id"]


@pytest.fixture(scope="module")
def demo(built_demo, tmp_path_factory):
    from kefu.vault import Vault, restore_tree

    warehouse, _ = built_demo(1, 3)
    # ingest moved every export from landing/ to archive/ (encrypted, D-97), day folders kept: the clear copy
    exports = tmp_path_factory.mktemp("exports")
    restore_tree(Vault.for_home(warehouse.parent), warehouse.parent / "archive", exports)
    return warehouse, exports


def _compare(warehouse: Path, theirs: pd.DataFrame) -> pd.DataFrame:
    ours = bench_pipeline.warehouse_rows(warehouse)
    assert set(ours["measure_id"]) == set(bench_pipeline.RULES)
    m = ours.merge(theirs, on=KEY, how="outer", suffixes=("_warehouse", "_script"), indicator=True)
    return m[
        (m["_merge"] != "both")
        | (m["numerator_warehouse"] != m["numerator_script"])
        | (m["denominator_warehouse"] != m["denominator_script"])
    ]


def test_floor_equals_warehouse(demo, tmp_path):
    warehouse, exports = demo
    df, seconds = floor.run(exports, tmp_path / "work")
    assert set(seconds) == {"decode_seconds", "query_seconds"}
    diff = _compare(warehouse, df)
    assert diff.empty, diff.head(20).to_string()


def test_pandas_baseline_equals_warehouse(demo):
    warehouse, exports = demo
    diff = _compare(warehouse, baseline_pandas.compute(exports))
    assert diff.empty, diff.head(20).to_string()


def test_mismatch_count_sees_a_changed_figure(demo, tmp_path):
    warehouse, _ = demo
    rows = bench_pipeline.warehouse_rows(warehouse)
    csv = tmp_path / "kpis.csv"
    rows.to_csv(csv, index=False)
    assert bench_pipeline.mismatches(warehouse, csv) == 0
    rows.loc[rows.index[0], "numerator"] += 1
    rows.to_csv(csv, index=False)
    assert bench_pipeline.mismatches(warehouse, csv) == 1

"""The same dbt project on Spark (dbt-spark, target `spark` in dbt_project/profiles.yml).

Ingest stays on DuckDB. Spark reads the DuckDB warehouse's inputs — every raw source of
dbt_project/models/staging/_sources.yml and every rulebook seed table — exported to Parquet
and registered under the same schema.table names (macro spark_register_parquet), then
`dbt run --target spark` builds the same models. With `method: session` the Spark state
(Derby metastore, managed tables) lives in `<warehouse>.spark/` beside the DuckDB file.

    build_on_spark(warehouse)  -> seconds of `dbt run --target spark` (tests=True: `dbt build`)
    parity(warehouse)          -> rows of marts.kpi_rule_results that differ between DuckDB and Spark

Needs the optional extra: pip install "kefu-kpi[spark]" (dbt-spark[session], pyspark; Java 17).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

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
    seeds = [f"{SEED_SCHEMA}.{name}" for (name,) in con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1",
        [SEED_SCHEMA]).fetchall()]
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


def build_on_spark(warehouse: Path, tests: bool = False) -> float:
    """Export the inputs, register them on Spark and build the models there (`dbt run --target
    spark`; with tests=True `dbt build`: unit and data tests too); return the dbt seconds.

    Seeds are not loaded by dbt here: the rulebook tables come from the DuckDB warehouse with the
    other inputs, so both engines compute from the same rows."""
    state = spark_dir(warehouse)
    shutil.rmtree(state, ignore_errors=True)
    tables = export_inputs(warehouse, state / "inputs")
    target_path = state / "dbt_target"
    build.run_dbt(["run-operation", "spark_register_parquet", "--target", "spark",
                   "--args", json.dumps({"tables": tables})], warehouse, target_path)
    command = ["build", "--exclude-resource-type", "seed"] if tests else ["run"]
    started = time.perf_counter()
    build.run_dbt([*command, "--quiet", "--target", "spark"], warehouse, target_path)
    return time.perf_counter() - started


def spark_table(warehouse: Path, relation: str) -> str:
    """A DuckDB expression reading a managed Spark table (Parquet files under the Spark warehouse dir)."""
    schema, table = relation.split(".")
    return f"read_parquet('{spark_dir(warehouse) / 'warehouse' / f'{schema}.db' / table}/*.parquet')"


def row_counts(warehouse: Path, relation: str = "marts.kpi_rule_results") -> tuple[int, int]:
    """Rows of `relation` in the DuckDB warehouse and in its Spark build."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return tuple(con.execute(f"select count(*) from {source}").fetchone()[0]
                     for source in (relation, spark_table(warehouse, relation)))
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

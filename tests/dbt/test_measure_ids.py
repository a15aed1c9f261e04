"""One name per concept (docs/style.md, D-159): a mart column named `rule_id` holds catalogue rules
(H2), never measures (H2.1); a table keyed by measure says `measure_id`."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from kefu import rulebook


def measure_ids_named_rule_id(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """marts table -> the values of its `rule_id` column that are measures and not catalogue rules."""
    rules = {m.rule for m in rulebook.load().values()}
    measures = set(rulebook.load()) - rules  # H2.1, H3.2, … (a measure that is also its rule, T1, is both)
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.columns where table_schema = 'marts' "
            "and column_name = 'rule_id' order by 1"
        ).fetchall()
    ]
    out = {}
    for t in tables:
        held = {r[0] for r in con.execute(f'select distinct rule_id from marts."{t}"').fetchall()}
        if bad := sorted(held & measures):
            out[t] = bad
    return out


def test_the_check_sees_a_measure_in_a_rule_id_column(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.good as select * from (values ('H2', 'H2.1'), ('T1', 'T1')) t(rule_id, measure_id)")
    con.execute("create table marts.bad as select * from (values ('H2.1'), ('T1')) t(rule_id)")
    assert measure_ids_named_rule_id(con) == {"bad": ["H2.1"]}


@pytest.mark.slow
def test_no_mart_column_named_rule_id_holds_a_measure(built_demo) -> None:
    warehouse, _ = built_demo(1, 3)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert measure_ids_named_rule_id(con) == {}
        cols = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = 'kpi_rule_results'"
            ).fetchall()
        }
        assert {"measure_id", "rule_id"} <= cols and "catalogue_rule_id" not in cols
    finally:
        con.close()

"""The dbt unit tests (`unit_tests:` in dbt_project/models/**/*.yml) on an empty warehouse: no demo
build. ingest creates every raw table of the contract (empty), `dbt build --empty` builds the seeds
and every model with zero rows (unit tests need their inputs' columns, not their rows) and runs
each unit test with its own fixture rows. The fast lane's check of the models' logic."""

import re

import duckdb
import yaml

from ingest import warehouse as raw_tables
from kefu import build


def declared_unit_tests() -> set[str]:
    names = set()
    for path in (build.DBT_DIR / "models").rglob("*.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names |= {f"{u['model']}::{u['name']}" for u in doc.get("unit_tests", []) or []}
    return names


def test_every_dbt_unit_test_passes_on_an_empty_warehouse(dbt_scratch):
    declared = declared_unit_tests()
    assert declared, "no unit_tests found under dbt_project/models"
    warehouse, target = dbt_scratch()  # the worker's one dbt path: parsed once (tests/conftest.py, D-183)
    con = duckdb.connect(str(warehouse))
    raw_tables.ensure(con)
    con.close()
    # the models under test and every model upstream of them: a unit test needs its inputs' columns
    # (the other models have no unit test and nothing here reads them)
    tested = " ".join(sorted({"+" + name.split("::")[0] for name in declared}))
    out = build.run_dbt(["build", "--empty", "--select", tested, "--exclude", "resource_type:test"], warehouse, target)
    passed = set(re.findall(r"PASS (\S+::\S+)\s", out))  # "... PASS model::unit_test ... [PASS in 0.6s]"
    assert passed >= declared, f"unit tests that did not pass: {sorted(declared - passed)}"
    assert not re.search(r"\bERROR=[1-9]|\bFAIL=[1-9]", out), out[-3000:]

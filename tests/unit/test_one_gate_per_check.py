"""One gate per check (issue 20 point 3, docs/decisions.md D-155): a check the Great Expectations
contract suites make (generated from kefu/contract.yml) is not also a dbt data test on the same
model and column, and the other way round."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "expectations" / "suites"
MODELS = ROOT / "dbt_project" / "models"

Check = tuple[str, str, str]  # (model, column or "a,b" for a compound key, kind)


def suite_model(table: str) -> str:
    """The dbt model a suite's table is: staging.stg_x / marts.x are models, audit.x is staged as stg_x."""
    schema, name = table.split(".")
    return f"stg_{name}" if schema == "audit" else name


def gx_checks(suite: dict[str, Any]) -> set[Check]:
    model = suite_model(suite["meta"]["kefu"]["table"])
    out: set[Check] = set()
    for e in suite["expectations"]:
        kind, kw = e["type"], e["kwargs"]
        column = kw.get("column", "")
        if kind == "expect_column_values_to_not_be_null":
            out.add((model, column, "not_null"))
        elif kind == "expect_column_values_to_be_null" and column.startswith("unexplained_null_"):
            out.add((model, column.removeprefix("unexplained_null_"), "not_null"))
        elif kind == "expect_column_values_to_be_null" and column.startswith("unknown_"):
            out.add((model, column.removeprefix("unknown_"), "relationships"))
        elif kind == "expect_column_values_to_be_unique":
            out.add((model, column, "unique"))
        elif kind == "expect_compound_columns_to_be_unique":
            out.add((model, ",".join(sorted(kw["column_list"])), "unique"))
        elif kind == "expect_column_values_to_be_in_set":
            out.add((model, column, "accepted_values"))
    return out


DBT_KINDS = {
    "not_null": "not_null",
    "not_null_unless_absent": "not_null",
    "unique": "unique",
    "accepted_values": "accepted_values",
    "relationships": "relationships",
}


def _test_name(test: Any) -> str:
    return test if isinstance(test, str) else next(iter(test))


def dbt_checks(yml_texts: Iterable[str]) -> set[Check]:
    out: set[Check] = set()
    for text in yml_texts:
        for model in (yaml.safe_load(text) or {}).get("models") or []:
            for test in model.get("data_tests") or model.get("tests") or []:
                if _test_name(test).endswith("unique_combination_of_columns"):
                    spec = test[_test_name(test)]
                    cols = (spec.get("arguments") or spec)["combination_of_columns"]
                    out.add((model["name"], ",".join(sorted(cols)), "unique"))
                if _test_name(test) == "not_null_columns":  # the model's not-null columns in one test (D-223)
                    out.update((model["name"], c, "not_null") for c in test["not_null_columns"]["arguments"]["columns"])
            for col in model.get("columns") or []:
                for test in col.get("data_tests") or col.get("tests") or []:
                    kind = DBT_KINDS.get(_test_name(test).split(".")[-1])
                    if kind:
                        out.add((model["name"], col["name"], kind))
    return out


def committed_suites() -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SUITES.glob("contract.*.json"))]


def test_no_check_is_both_a_dbt_test_and_a_contract_expectation() -> None:
    gx = set().union(*(gx_checks(s) for s in committed_suites()))
    dbt = dbt_checks(p.read_text(encoding="utf-8") for p in sorted(MODELS.rglob("*.yml")))
    both = sorted(gx & dbt)
    assert not both, (
        "checks made twice, by a dbt data test and a GX contract suite (keep the GX one, "
        f"generated from kefu/contract.yml; D-155): {both}"
    )


def test_the_contract_suites_cover_the_staged_entities() -> None:
    gx = set().union(*(gx_checks(s) for s in committed_suites()))
    assert ("stg_tickets", "ticket_id", "unique") in gx
    assert ("stg_tickets", "district_id", "relationships") in gx
    assert ("stg_district_households", "district_id,month", "unique") in gx
    assert ("stg_load_log", "file_id", "unique") in gx


def test_a_duplicated_check_is_seen() -> None:
    yml = """
models:
  - name: stg_tickets
    columns:
      - name: ticket_id
        data_tests: [unique]
      - name: district_id
        data_tests:
          - relationships: {arguments: {to: ref('stg_districts'), field: district_id}}
  - name: stg_district_households
    data_tests:
      - dbt_utils.unique_combination_of_columns: {arguments: {combination_of_columns: [month, district_id]}}
"""
    gx = set().union(*(gx_checks(s) for s in committed_suites()))
    assert {
        ("stg_tickets", "ticket_id", "unique"),
        ("stg_tickets", "district_id", "relationships"),
        ("stg_district_households", "district_id,month", "unique"),
    } <= gx & dbt_checks([yml])


def test_the_columns_of_a_not_null_columns_test_are_not_null_checks() -> None:
    yml = """
models:
  - name: fct_calls
    data_tests:
      - not_null_columns: {arguments: {columns: [call_id, queue]}}
    columns:
      - name: call_id
        data_tests: [unique]
"""
    assert dbt_checks([yml]) == {
        ("fct_calls", "call_id", "not_null"),
        ("fct_calls", "queue", "not_null"),
        ("fct_calls", "call_id", "unique"),
    }

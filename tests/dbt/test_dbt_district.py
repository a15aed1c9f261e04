"""Static checks of the district / callbacks / notices dbt models that dbt's own tests cannot make:
portability (the same SQL must run on Spark), no limit or threshold typed in SQL, and every model
and every column documented in the yml beside it. Fast: no warehouse is built."""

import re
from pathlib import Path

import pytest
import yaml

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
FAMILY_DIRS = [
    DBT / "models" / layer / family
    for layer in ("intermediate", "marts")
    for family in ("district", "callbacks", "notices", "core")
] + [DBT / "models" / "intermediate" / "assessment"]
FAMILY_SQL = sorted(p for d in FAMILY_DIRS for p in d.glob("*.sql")) + sorted((DBT / "macros").glob("district_*.sql"))

# DuckDB-only syntax that would not run on Spark (use dbt's cross-database macros instead). A `::`
# cast in a model is sqlfluff's CV11 (.sqlfluff, `make lint`); sqlfluff does not lint macro files,
# so the macros keep that pattern here.
CAST_IN_MACROS = [r"::"]
DUCKDB_ONLY = [
    r"\bqualify\b",
    r"\bstrftime\b",
    r"\bstrptime\b",
    r"\blist_\w+\(",
    r"\bstruct_\w+\(",
    r"\bdate_diff\(",
    r"\bdate_add\(",
    r"\bepoch\(",
    r"\binterval\s+'",
]
# Limits and thresholds of the family's measures: they live in the rulebook seeds only.
TYPED_LIMITS = [
    r"\b86400\b",
    r"\b172800\b",
    r"\b4950\b",
    r"\b4951\b",
    r"\b4500\b",
    r"\b2200\b",
    r"\b2000\b",
    r"\b0\.000015\b",
    r"\b1\.5e-05\b",
    r"\b24\s*\*\s*3600\b",
    r"\b48\s*\*\s*3600\b",
    r"/\s*12(\.0)?\b",
]


def _code(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)  # jinja comments
    return "\n".join(line.split("--", 1)[0] for line in text.splitlines())  # sql comments


@pytest.mark.parametrize("path", FAMILY_SQL, ids=lambda p: p.name)
def test_family_sql_has_no_duckdb_only_syntax(path):
    """Not a sqlfluff rule: sqlfluff's duckdb dialect parses these functions and QUALIFY as valid SQL,
    and no core rule bans a function name or a clause (that would take a custom sqlfluff plugin)."""
    code = _code(path).lower()
    for pattern in DUCKDB_ONLY + (CAST_IN_MACROS if path.parent.name == "macros" else []):
        assert not re.search(pattern, code), (
            f"{path.name}: DuckDB-only syntax {pattern!r}; use a dbt cross-database macro"
        )


@pytest.mark.parametrize("path", FAMILY_SQL, ids=lambda p: p.name)
def test_family_sql_types_no_limit_or_threshold(path):
    """Not a linter's rule: which numbers are the rulebook's limits is this project's knowledge."""
    code = _code(path)
    for pattern in TYPED_LIMITS:
        assert not re.search(pattern, code), (
            f"{path.name}: {pattern!r} looks like a typed limit; join rulebook_limits / rulebook_targets"
        )


def test_every_family_model_has_a_yml_entry():
    for d in FAMILY_DIRS:
        documented: dict[str, set[str]] = {}
        for yml in d.glob("*.yml"):
            doc = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
            for m in doc.get("models", []):
                documented[m["name"]] = {c["name"] for c in m.get("columns", []) if c.get("description")}
        for sql in d.glob("*.sql"):
            assert sql.stem in documented, f"{sql.name} has no yml entry in {d.name}/"


def test_every_family_unit_test_edge_is_present():
    names = set()
    for d in FAMILY_DIRS:
        for yml in d.glob("*.yml"):
            doc = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
            names |= {u["name"] for u in doc.get("unit_tests", [])}
    for edge in (
        "a1_a2_c6_pass_fail_edges",
        "a1_a2_staffing_on_last_day_and_complaints_of_the_month",
        "c3_repeat_fault_vip_called_in_the_last_week",
        "c5_second_working_day_across_tiaoxiu_and_holiday",
        "c6_red_vip_sms_year_to_date",
    ):
        assert edge in names, f"unit test {edge} is missing"

"""Static checks of the contacts family's dbt SQL that dbt's own tests cannot make.

dbt's data and unit tests prove the numbers on DuckDB; these prove the SQL stays
portable (the same models must later run on Spark) and never types a rulebook limit.
Exactness against the answer key is proven by tests/dbt/test_warehouse_exactness.py.
"""

import re
from pathlib import Path

import pytest

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
FAMILY_SQL = sorted(
    [
        p
        for layer in ("intermediate", "marts")
        for family in ("hotline", "satisfaction", "hall")
        for p in DBT.glob(f"models/{layer}/{family}/*.sql")
    ]
    + [*DBT.glob("models/intermediate/assessment/int_kpi__contacts.sql"), *DBT.glob("macros/contacts_*.sql")]
)

# DuckDB-only syntax with a portable form (a dbt cross-database macro or plain ANSI SQL). A `::` cast
# in a model is sqlfluff's CV11 (.sqlfluff, `make lint`); sqlfluff does not lint macro files, so the
# macros keep that pattern here.
CAST_IN_MACROS = {"'::' cast": r"::"}
DUCKDB_ONLY = {
    "QUALIFY": r"\bqualify\b",
    "strftime": r"\bstrftime\s*\(",
    "date_diff / date_add": r"\bdate_(diff|add|sub)\s*\(",
    "list / struct functions": r"\b(list_\w+|struct_\w+|array_agg|unnest)\s*\(",
    "RANGE INTERVAL window frame": r"\brange\s+between\s+interval\b|\binterval\s+'",
    "epoch": r"\bepoch\s*\(",
}


def _code(path: Path) -> str:
    """The file without SQL and Jinja comments."""
    text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"--[^\n]*", "", text).lower()


def test_the_family_has_its_models():
    names = {p.stem for p in FAMILY_SQL}
    assert {
        "int_kpi__contacts",
        "fct_calls",
        "fct_surveys",
        "fct_outbound",
        "fct_hall_visits",
        "kpi_hotline_monthly",
        "kpi_hotline_coverage_hourly",
        "kpi_satisfaction_monthly",
        "kpi_hall_monthly",
        "kpi_repeat_contacts_monthly",
        "kpi_contact_policy_monthly",
    } <= names


@pytest.mark.parametrize("path", FAMILY_SQL, ids=lambda p: p.name)
def test_contacts_sql_uses_no_duckdb_only_syntax(path):
    """Not a sqlfluff rule: sqlfluff's duckdb dialect parses these functions and QUALIFY as valid SQL,
    and no core rule bans a function name or a clause (that would take a custom sqlfluff plugin)."""
    code = _code(path)
    patterns = {**DUCKDB_ONLY, **(CAST_IN_MACROS if path.parent.name == "macros" else {})}
    found = [name for name, pattern in patterns.items() if re.search(pattern, code)]
    assert not found, f"{path.relative_to(DBT)} uses DuckDB-only syntax: {found}"


@pytest.mark.parametrize("path", FAMILY_SQL, ids=lambda p: p.name)
def test_contacts_sql_types_no_limit_from_the_rulebook(path):
    """Not a linter's rule: which numbers are the rulebook's limits is this project's knowledge."""
    # 20 s, 5/10/15/30 min, 168 h / 7 d, 720 h / 30 d as seconds, minutes, hours or days
    limits = r"\b(20|300|600|900|1800|168|720|604800|2592000)\b"
    code = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", _code(path), flags=re.S)  # macro calls are not literals
    assert not re.search(limits, code), f"{path.relative_to(DBT)} types a limit: read it from rulebook_limits"


@pytest.mark.parametrize(
    "path",
    [p for p in FAMILY_SQL if p.parent.name in {"hotline", "satisfaction", "hall"} and p.stem.startswith("kpi_")],
    ids=lambda p: p.name,
)
def test_kpi_marts_read_pass_fail_from_kpi_rule_results(path):
    code = _code(path)
    if path.stem == "kpi_hotline_coverage_hourly":
        return  # the heat map's rows are hours, not rule results
    assert "ref('kpi_rule_results')" in code
    assert "threshold" in code and not re.search(r"\bthen\s+(true|false)\b", code)


@pytest.mark.parametrize(
    "path", [p for p in FAMILY_SQL if p.parent.parent.name in {"intermediate", "marts"}], ids=lambda p: p.name
)
def test_every_contacts_model_has_a_yml_beside_it(path):
    assert path.with_suffix(".yml").exists(), f"{path.name} has no {path.stem}.yml beside it"

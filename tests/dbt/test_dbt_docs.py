"""Every dbt model is documented: a yml entry with a description, and a description for every column
the model really builds — compared with the columns of a built warehouse, not with the SQL text.
The marts come first (the analysts' dbt docs site and `kefu sql` read them); staging, intermediate
and utilities are held to the same rule."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"


def documented_models(models: Path = MODELS) -> dict[str, dict]:
    """model name -> {"yml": path, "description": text, "columns": {column: description}} from every yml."""
    out: dict[str, dict] = {}
    for yml in sorted(models.rglob("*.yml")):
        for m in (yaml.safe_load(yml.read_text(encoding="utf-8")) or {}).get("models") or []:
            assert m["name"] not in out, f"{m['name']} is documented twice: {out[m['name']]['yml']} and {yml}"
            out[m["name"]] = {
                "yml": yml,
                "description": (m.get("description") or "").strip(),
                "columns": {c["name"]: (c.get("description") or "").strip() for c in m.get("columns") or []},
            }
    return out


def documentation_gaps(sql_models: dict[str, Path], built: dict[str, list[str]], docs: dict[str, dict]) -> list[str]:
    """What is missing, one line each: a model without yml or description, a built column without a
    description, a documented column the model does not build (stale), a model not built."""
    gaps = []
    for name, sql in sorted(sql_models.items()):
        where = Path(*sql.parts[sql.parts.index("dbt_project") + 1 :]).as_posix()
        doc = docs.get(name)
        if doc is None:
            gaps.append(f"{where}: no yml entry (add a `- name: {name}` with a description and its columns)")
            continue
        if not doc["description"]:
            gaps.append(f"{where}: the model has no description ({doc['yml'].name})")
        if name not in built:
            gaps.append(f"{where}: not in the built warehouse")
            continue
        gaps += [
            f"{where}: column {c} is not described in {doc['yml'].name}"
            for c in built[name]
            if not doc["columns"].get(c)
        ]
        gaps += [
            f"{where}: {doc['yml'].name} documents column {c}, which the model does not build"
            for c in doc["columns"]
            if c not in built[name]
        ]
    return gaps


def built_columns(warehouse: Path) -> dict[str, list[str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema in ('staging', 'intermediate', 'marts', 'util') "
            "order by table_name, ordinal_position"
        ).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


@pytest.fixture(scope="module")
def built(built_demo) -> dict[str, list[str]]:
    return built_columns(built_demo(1, 3)[0])


@pytest.mark.parametrize("layer", ["marts", "intermediate", "staging", "utilities"])
def test_every_model_and_every_column_it_builds_is_described(built, layer):
    sql = {p.stem: p for p in (MODELS / layer).rglob("*.sql")}
    assert sql, layer
    assert documentation_gaps(sql, built, documented_models()) == []


def test_kpi_rule_results_is_documented_column_by_column(built):
    doc = documented_models()["kpi_rule_results"]
    assert doc["yml"] == MODELS / "marts" / "assessment" / "kpi_rule_results.yml"
    assert list(doc["columns"]) == [
        "measure_id",
        "period_month",
        "grain",
        "unit_id",
        "numerator",
        "denominator",
        "value",
        "threshold",
        "comparison",
        "passed",
        "status",
        "previous_value",
        "previous_passed",
        "change",
        "rule_id",
        "name_zh",
        "name_en",
    ]
    assert set(doc["columns"]) == set(built["kpi_rule_results"])


def test_the_check_names_a_missing_model_an_undescribed_column_and_a_stale_one(tmp_path):
    """The gap finder on a hand-written project: each kind of gap is reported, in words."""
    models = tmp_path / "dbt_project" / "models"
    (models / "marts").mkdir(parents=True)
    for name in ("fct_a", "fct_b", "fct_c"):
        (models / "marts" / f"{name}.sql").write_text("select 1 as id\n", encoding="utf-8")
    (models / "marts" / "_marts.yml").write_text(
        yaml.safe_dump(
            {
                "version": 2,
                "models": [
                    {
                        "name": "fct_a",
                        "description": "A.",
                        "columns": [{"name": "id", "description": "Key."}, {"name": "gone", "description": "Dropped."}],
                    },
                    {"name": "fct_b", "description": "", "columns": [{"name": "id"}]},
                ],
            }
        ),
        encoding="utf-8",
    )
    sql = {p.stem: p for p in (models / "marts").glob("*.sql")}
    built = {"fct_a": ["id", "extra"], "fct_b": ["id"], "fct_c": ["id"]}
    assert documentation_gaps(sql, built, documented_models(models)) == [
        "models/marts/fct_a.sql: column extra is not described in _marts.yml",
        "models/marts/fct_a.sql: _marts.yml documents column gone, which the model does not build",
        "models/marts/fct_b.sql: the model has no description (_marts.yml)",
        "models/marts/fct_b.sql: column id is not described in _marts.yml",
        "models/marts/fct_c.sql: no yml entry (add a `- name: fct_c` with a description and its columns)",
    ]

"""The dbt project reads the rulebook and the contract, never a copy typed by hand."""

from pathlib import Path

import pytest
import yaml

from kefu import build, contract

DBT = Path(__file__).resolve().parents[2] / "dbt_project"


def test_committed_rulebook_and_calendar_seeds_are_generated_from_the_rulebook():
    for name, text in build.seed_files().items():
        committed = (DBT / "seeds" / "generated" / name).read_text(encoding="utf-8")
        assert committed == text, (
            f"seeds/generated/{name} is stale: run `python -c 'from kefu import build; build.write_seeds()'`"
        )


def test_a_threshold_edit_reaches_the_seeds(monkeypatch):
    from kefu import rulebook

    measures = dict(rulebook.load())
    h1 = measures["H1"]
    monkeypatch.setattr(rulebook, "load", lambda: {**measures, "H1": type(h1)(**{**h1.__dict__, "target": 0.8})})
    targets = build.seed_files()["rulebook_targets.csv"]
    assert "H1,*,0.8" in targets.splitlines()


def test_every_contract_column_is_staged_and_documented():
    docs = yaml.safe_load((DBT / "models" / "staging" / "_stg_models.yml").read_text(encoding="utf-8"))
    documented = {m["name"]: {c["name"] for c in m["columns"]} for m in docs["models"]}
    for e in contract.load().values():
        sql = (DBT / "models" / "staging" / f"stg_{e.name}.sql").read_text(encoding="utf-8")
        for c in e.columns:
            names = [c.name + "_hash", c.name + "_masked"] if c.pii else [c.name]
            for n in names:
                assert n in sql, f"stg_{e.name} lacks {n}"
                assert n in documented[f"stg_{e.name}"], f"stg_{e.name}.{n} is not documented"
            if c.pii:
                assert f"        {c.name},\n" not in sql, f"stg_{e.name} exposes clear {c.name}"


def test_raw_sources_declare_the_contract_keys_and_version_column():
    """macros/raw_source.sql rebuilds a past night from raw.<entity>_history with the key and
    version column declared in _sources.yml: they must be the contract's and ingest's."""
    import yaml

    from ingest.warehouse import VERSION_COLUMN
    from kefu import build, contract

    doc = yaml.safe_load((build.DBT_DIR / "models" / "staging" / "_sources.yml").read_text(encoding="utf-8"))
    tables = {t["name"]: t for s in doc["sources"] if s["name"] == "raw" for t in s["tables"]}
    for name, ent in contract.load().items():
        meta = tables[name]["meta"]
        assert meta["key"] == ent.key, name
        has_version = VERSION_COLUMN in [c.name for c in ent.columns]
        assert meta.get("version_column") == (VERSION_COLUMN if has_version else None), name
        assert name + "_history" in tables, name


@pytest.mark.slow  # two dbt start-ups with a full parse each
def test_dbt_runs_duckdb_under_the_memory_limit_of_its_environment(tmp_path, monkeypatch):
    """profiles.yml passes KEFU_DBT_MEMORY_LIMIT (default 6GB) to DuckDB: a build spills instead of
    growing past it (a province build within 8 GB, docs/benchmarks.md)."""
    sql = "select current_setting('memory_limit') as lim"
    monkeypatch.setenv("KEFU_DBT_MEMORY_LIMIT", "1234MiB")
    out = build.run_dbt(
        ["show", "--inline", sql, "--output", "json", "--log-format", "text"],
        tmp_path / "kefu.duckdb",
        tmp_path / "target",
    )
    assert "1.2 GiB" in out, out[-2000:]
    monkeypatch.delenv("KEFU_DBT_MEMORY_LIMIT")
    out = build.run_dbt(
        ["show", "--inline", sql, "--output", "json", "--log-format", "text"],
        tmp_path / "kefu.duckdb",
        tmp_path / "target",
    )
    assert "5.5 GiB" in out, out[-2000:]  # 6GB = 6e9 bytes

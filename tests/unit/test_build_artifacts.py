"""A night's dbt build skips dbt's JSON artifacts unless DBT_WRITE_JSON asks for them (docs/decisions.md D-172)."""

from pathlib import Path

from kefu import build


def _env_of_build(monkeypatch) -> dict:
    seen: dict = {}

    def fake_run_dbt(args, warehouse, target_path=None, run_vars=None, extra_env=None):
        seen.update(args=args, env=extra_env or {})
        return ""

    monkeypatch.setattr(build, "run_dbt", fake_run_dbt)
    build.build(Path("w.duckdb"), exclude="test_type:unit")
    return seen


def test_the_build_asks_dbt_not_to_write_json_artifacts(monkeypatch):
    monkeypatch.delenv("DBT_WRITE_JSON", raising=False)
    seen = _env_of_build(monkeypatch)
    assert seen["env"] == {"DBT_WRITE_JSON": "false"} and seen["args"][0] == "build"


def test_a_caller_who_wants_the_artifacts_keeps_them(monkeypatch):
    monkeypatch.setenv("DBT_WRITE_JSON", "true")
    assert _env_of_build(monkeypatch)["env"] == {}  # the inherited environment decides

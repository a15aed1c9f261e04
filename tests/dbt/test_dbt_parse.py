"""One parse of the dbt project for every warehouse and target folder (docs/decisions.md D-217):
dbt's partial-parse check ignores the DuckDB file's path (kefu/dbt_commands.py), and a target
folder without dbt's parse starts from the project's last one (kefu/build.py PARSE_CACHE)."""

import os
import re
from pathlib import Path

import pytest

from kefu import build

LS = ["ls", "--select", "kpi_rule_results", "--quiet"]


def log_of(target: Path) -> str:
    return (target / "logs" / "dbt.log").read_text(encoding="utf-8")


def parse_lines(target: Path) -> list[str]:
    """What dbt's log of the folder's runs says about parsing, one line per run."""
    return re.findall(r"Unable to do partial parsing because [^.\n]*|no changes found", log_of(target))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "parse_cache"
    monkeypatch.setattr(build, "PARSE_CACHE", folder)
    return folder


@pytest.mark.slow  # three dbt runs, two of them full parses (≈ 20 CPU s): make test, not make test-fast
def test_a_new_path_and_target_folder_reuse_the_parse_a_new_file_name_does_not(tmp_path, cache, monkeypatch):
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    build.run_dbt(LS, tmp_path / "a" / "kefu.duckdb", tmp_path / "target_a")
    assert parse_lines(tmp_path / "target_a") == ["Unable to do partial parsing because saved manifest not found"]
    assert "[debug]" not in log_of(tmp_path / "target_a")  # dbt.log at info (D-221)
    assert (cache / "default.kefu").exists()
    # another folder and another target folder: the parse of the first is taken and kept (dbt says so
    # at its debug level, which DBT_LOG_LEVEL_FILE brings back)
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    build.run_dbt(LS, tmp_path / "b" / "kefu.duckdb", tmp_path / "target_b")
    assert parse_lines(tmp_path / "target_b") == ["no changes found"]
    assert "[debug]" in log_of(tmp_path / "target_b")
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE")
    # another file name is another catalog, the models' `database`: dbt parses again
    build.run_dbt(LS, tmp_path / "c" / "other.duckdb", tmp_path / "target_a")
    assert parse_lines(tmp_path / "target_a")[-1] == "Unable to do partial parsing because profile has changed"
    assert sorted(p.name for p in cache.iterdir()) == ["default.kefu", "default.other"]


def test_nothing_in_the_project_reads_the_warehouse_path_while_parsing(root):
    """The premise of ignoring the path: no model, macro, test, seed or project setting reads it (the
    profile does, which is where dbt-duckdb opens the file)."""
    reads_path = re.compile(r"target\s*(\.\s*path|\[\s*['\"]path)|env_var\(\s*['\"]KEFU_WAREHOUSE")
    project = root / "dbt_project"
    files = [
        p
        for p in project.rglob("*")
        if p.suffix in (".sql", ".yml", ".yaml", ".py", ".md")
        and p.name != "profiles.yml"
        and not {"target", "logs", "dbt_packages"} & set(p.relative_to(project).parts)
    ]
    assert len(files) > 50
    assert [str(p) for p in files if reads_path.search(p.read_text(encoding="utf-8"))] == []
    assert reads_path.search((project / "profiles.yml").read_text(encoding="utf-8"))  # the pattern finds it


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_folder_with_its_own_parse_keeps_it(tmp_path, cache):
    write(cache / "default.kefu", b"the project's")
    own = write(tmp_path / "target" / build.PARSE_FILE, b"its own")
    build._seed_parse(own.parent, "default.kefu")
    assert own.read_bytes() == b"its own"
    build._seed_parse(tmp_path / "new", "default.kefu")
    assert (tmp_path / "new" / build.PARSE_FILE).read_bytes() == b"the project's"
    build._seed_parse(None, "default.kefu")  # dbt's default target folder: left to dbt


def test_an_older_parse_does_not_replace_the_projects(tmp_path, cache):
    kept = write(cache / "default.kefu", b"newer")
    old = write(tmp_path / "target" / build.PARSE_FILE, b"older")
    t = kept.stat().st_mtime
    os.utime(old, (t - 60, t - 60))
    build._keep_parse(old.parent, "default.kefu")
    assert kept.read_bytes() == b"newer"
    os.utime(old, (t + 60, t + 60))
    build._keep_parse(old.parent, "default.kefu")
    assert kept.read_bytes() == b"older"


def test_a_read_only_installation_parses_as_dbt_does(tmp_path, monkeypatch):
    if os.geteuid() == 0:
        blocked = tmp_path / "a_file"  # root writes through file modes: a file where the folder should be
        blocked.write_text("")
        monkeypatch.setattr(build, "PARSE_CACHE", blocked / "parse_cache")
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        monkeypatch.setattr(build, "PARSE_CACHE", ro / "parse_cache")
    made = write(tmp_path / "target" / build.PARSE_FILE, b"parse")
    build._keep_parse(made.parent, "default.kefu")  # no error
    assert not build.PARSE_CACHE.exists()

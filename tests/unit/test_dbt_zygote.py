"""kefu/dbt_zygote.py (D-222): dbt runs forked from a process that imported dbt once give what the plain
child gives — output, exit code, environment, working directory — and die with their caller."""

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from kefu import build, dbt_zygote

pytestmark = pytest.mark.slow  # a zygote of its own and dbt runs (≈ 10 CPU s)

LS = ["ls", "--select", "kpi_rule_results", "--quiet"]


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    path = tmp_path_factory.mktemp("zygote") / "z.sock"
    proc = dbt_zygote.start(path)
    yield proc, path
    proc.terminate()
    proc.wait(timeout=30)
    assert not path.exists()  # it removes its socket when it stops


def _no_plain_start(*args, **kwargs):
    raise AssertionError("started dbt as a new process although a zygote was named")


def test_a_run_through_the_zygote_gives_what_the_plain_child_gives(zygote, tmp_path, monkeypatch):
    _, path = zygote
    monkeypatch.setenv("KEFU_DBT_MEMORY_LIMIT", "1234MiB")  # the caller's environment, not the zygote's
    sql = "select current_setting('memory_limit') as lim"
    show = ["show", "--inline", sql, "--output", "json", "--log-format", "text"]
    monkeypatch.setenv(dbt_zygote.ENV, str(path))
    monkeypatch.setattr(build.subprocess, "run", _no_plain_start)
    # (the plain start of the same command: tests/dbt/test_dbt_project.py)
    forked = build.run_dbt(show, tmp_path / "kefu.duckdb", tmp_path / "target")
    assert "1.2 GiB" in forked, forked[-2000:]
    assert len(build.run_dbt_commands([LS, LS], tmp_path / "kefu.duckdb", tmp_path / "target")) == 2
    with pytest.raises(RuntimeError, match=r"\(exit 1\):[\s\S]*dbt run-operation no_such_macro failed"):
        build.run_dbt_commands([["run-operation", "no_such_macro"]], tmp_path / "kefu.duckdb", tmp_path / "target")


def test_an_unreachable_zygote_means_a_plain_start(tmp_path, monkeypatch):
    monkeypatch.setenv(dbt_zygote.ENV, str(tmp_path / "nobody_listens.sock"))
    assert dbt_zygote.run([LS], dict(os.environ)) is None
    assert len(build.run_dbt_commands([LS], tmp_path / "kefu.duckdb", tmp_path / "target")) == 1


def test_the_run_dies_with_its_caller(zygote, tmp_path):
    proc, path = zygote
    slow = "select count(*) from range(1000000000000)"  # minutes of DuckDB
    caller = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from kefu import build; "
            "build.run_dbt(['show', '--inline', sys.argv[1]], Path(sys.argv[2]), Path(sys.argv[3]))",
            slow,
            str(tmp_path / "kefu.duckdb"),
            str(tmp_path / "target"),
        ],
        env={**os.environ, dbt_zygote.ENV: str(path)},
    )
    deadline = time.monotonic() + 120
    while not (runs := psutil.Process(proc.pid).children()):
        assert caller.poll() is None and time.monotonic() < deadline, "the run never started"
        time.sleep(0.2)
    time.sleep(2)
    assert caller.poll() is None
    os.kill(caller.pid, signal.SIGKILL)
    caller.wait()
    _, alive = psutil.wait_procs(runs, timeout=30)
    assert not alive, "the dbt run outlived its caller"
    assert proc.poll() is None  # the zygote serves on

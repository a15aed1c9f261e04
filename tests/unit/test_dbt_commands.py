"""build.run_dbt_commands: several dbt commands in one child process (the Spark build's register-then-
build, D-215), with run_dbt's environment and errors."""

import pytest

from kefu import build


def test_each_command_runs_in_order_and_reports_its_seconds(tmp_path):
    warehouse = tmp_path / "kefu.duckdb"  # dbt ls parses the project; no model is built
    seconds = build.run_dbt_commands(
        [["ls", "--select", "kpi_rule_results", "--quiet"], ["ls", "--select", "fct_tickets", "--quiet"]],
        warehouse,
        tmp_path / "target",
    )
    assert len(seconds) == 2 and all(s > 0 for s in seconds)
    assert (tmp_path / "target" / "partial_parse.msgpack").exists()  # one parse, kept for the next command


def test_a_failing_command_stops_the_rest_and_is_named(tmp_path):
    with pytest.raises(RuntimeError) as err:
        build.run_dbt_commands(
            [["run-operation", "no_such_macro_here"], ["run-operation", "nor_this_one"]],
            tmp_path / "kefu.duckdb",
            tmp_path / "target",
        )
    message = str(err.value)
    assert "(exit 1)" in message
    # the child's own line names the command that failed; the one after it never ran
    assert "dbt run-operation no_such_macro_here failed:" in message
    assert "nor_this_one failed:" not in message

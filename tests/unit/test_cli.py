"""Every subcommand of the one CLI answers --help."""

import subprocess
import sys

import pytest

from kefu.cli import build_parser


def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_every_subcommand_has_help(capsys):
    subs = _subcommands()
    assert "generate" in subs
    for sub in subs:  # in this process: one start-up instead of one per subcommand
        with pytest.raises(SystemExit) as done:
            build_parser().parse_args([sub, "--help"])
        assert done.value.code == 0, sub
        assert "usage: kefu " + sub in capsys.readouterr().out


def test_the_command_line_entry_point_answers_help():
    out = subprocess.run([sys.executable, "-m", "kefu.cli", "generate", "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "usage: kefu generate" in out.stdout

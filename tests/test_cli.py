"""Every subcommand of the one CLI answers --help."""

import subprocess
import sys

from kefu.cli import build_parser


def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_every_subcommand_has_help():
    subs = _subcommands()
    assert "generate" in subs
    for sub in subs:
        out = subprocess.run([sys.executable, "-m", "kefu.cli", sub, "--help"], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "usage: kefu " + sub in out.stdout

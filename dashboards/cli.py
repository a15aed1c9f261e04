"""`kefu dashboard`: the manager dashboard (Streamlit) on the published warehouse."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")


def streamlit_command(warehouse: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """`streamlit run` of the app on a port, and its environment (the app reads $KEFU_PUBLISHED)."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"]
    return cmd, {**os.environ, "KEFU_PUBLISHED": str(warehouse)}


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from kefu.home import published_path

    warehouse = published_path(args.warehouse).resolve()
    if not warehouse.exists():
        print(f"kefu dashboard: published warehouse {warehouse} does not exist yet: "
              "run the nightly job (or `make demo`) first, or pass --warehouse", file=sys.stderr)
        return 2
    cmd, env = streamlit_command(warehouse, args.port)
    print(f"客服考核看板 · dashboard on http://localhost:{args.port} reading {warehouse} (read-only)")
    return subprocess.call(cmd, env=env)


def add_parser(sub) -> None:
    """Add `kefu dashboard` to the kefu CLI."""
    d = sub.add_parser(
        "dashboard",
        help="the manager dashboard on the published warehouse (管理看板)",
        description="Start the Streamlit dashboard (Chinese interface) on the published warehouse, read-only: "
        "every rule of the month with red/amber/green status, districts A1–A6, technician scorecards with "
        "drill-down to the tickets, hotline 7×24 coverage, satisfaction, callbacks, VIP, halls, notices and "
        "the early warning of open tickets.",
    )
    d.add_argument("--warehouse", default=None,
                   help="published warehouse file (default: $KEFU_PUBLISHED, else $KEFU_HOME/published/kefu.duckdb)")
    d.add_argument("--port", type=int, default=8501, help="HTTP port (default 8501)")
    d.set_defaults(func=_cmd_dashboard)

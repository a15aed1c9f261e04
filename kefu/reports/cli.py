"""`kefu report`: the month's assessment workbook, 服务监督报告 PDF and weekly summaries."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


def _month(text: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month YYYY-MM (e.g. 2026-03)")
    return text


def _cmd_report(args: argparse.Namespace) -> int:
    from kefu import reports
    from kefu.home import Home, published_path

    warehouse = published_path(args.warehouse)
    if not warehouse.exists():
        print(
            f"kefu report: warehouse {warehouse} does not exist: pass --warehouse, or run the nightly DAG "
            f"(or `make demo`) first",
            file=sys.stderr,
        )
        return 2
    out = Path(args.out) if args.out else Home.from_env().assessment_dir(args.month)
    try:
        files = reports.build_monthly(warehouse, args.month, out)
    except LookupError as exc:
        print(f"kefu report: {warehouse}: {exc}", file=sys.stderr)
        return 1
    for f in files:
        print(f)
    return 0


def add_parser(sub) -> None:
    """Add `kefu report` to the kefu CLI."""
    r = sub.add_parser(
        "report",
        help="monthly assessment workbook, 服务监督报告 PDF and weekly summaries (月度考核报表)",
        description="Write the month's assessment reports from the warehouse (opened read-only): an Excel "
        "workbook (every rule per district, technician, queue, hall ...; year-to-date totals; late tickets; "
        "regulation wording), the 服务监督报告 PDF for the general manager (R1) and one weekly summary PDF "
        "per Friday meeting of the month (R2).",
    )
    r.add_argument("--month", required=True, type=_month, help="the month to report, YYYY-MM")
    r.add_argument(
        "--warehouse",
        default=None,
        help="DuckDB warehouse file (default: the published warehouse, $KEFU_PUBLISHED or "
        "$KEFU_HOME/published/kefu.duckdb)",
    )
    r.add_argument("--out", default=None, help="output folder (default: $KEFU_HOME/published/assessment/YYYY-MM)")
    r.set_defaults(func=_cmd_report)

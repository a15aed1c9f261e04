"""`kefu`: the one command-line entry point of the KPI warehouse.

Subcommands are added by the issues that build them; each has --help.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_generate(args: argparse.Namespace) -> int:
    from generator.run import generate

    summary = generate(
        preset=args.preset,
        seed=args.seed,
        months=args.months,
        out=Path(args.out),
        faults=args.faults,
        progress=not args.no_progress,
    )
    print(summary)
    return 0


def _cmd_contract(args: argparse.Namespace) -> int:
    from kefu import contract

    if args.markdown:
        sys.stdout.write(contract.to_markdown())
    else:
        for e in contract.load().values():
            print(f"{e.name:22s} {e.zh:8s} {len(e.columns):3d} columns  key: {', '.join(e.key)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kefu",
        description="客服考核指标数据仓库 · Customer-service KPI warehouse for cable-TV, broadband and mobile operators.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    g = sub.add_parser(
        "generate",
        help="write realistic demo exports with a known answer key (生成演示导出数据)",
        description="Write a landing folder of realistic exports (CSV in UTF-8-BOM/GBK/GB18030, XLSX) "
        "for every entity of the data contract, and DIR/expected/kpi_expected.csv: the correct value "
        "of every rule at every grain, computed independently of the warehouse.",
    )
    g.add_argument("--preset", choices=["demo", "city", "province"], default="demo",
                   help="size: demo ≈ 50k households / 3 months; city ≈ 500k / 12; province ≈ 8M / 12")
    g.add_argument("--seed", type=int, default=1, help="random seed; the same seed writes the same bytes")
    g.add_argument("--months", type=int, default=None, help="months to generate from 2026-01 (default: the preset's)")
    g.add_argument("--out", required=True, help="output folder (landing/ and expected/ are written inside)")
    g.add_argument("--faults", action="store_true",
                   help="also write broken input the way real exports break, listed in expected/faults.csv")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.set_defaults(func=_cmd_generate)

    c = sub.add_parser("contract", help="show the export data contract (数据接口规范)",
                       description="List the entities of the export data contract, or render docs/data-contract.md.")
    c.add_argument("--markdown", action="store_true", help="print docs/data-contract.md")
    c.set_defaults(func=_cmd_contract)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

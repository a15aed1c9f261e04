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


def _cmd_run(args: argparse.Namespace) -> int:
    from kefu import build, exactness

    warehouse = Path(args.warehouse)
    if args.landing:
        rc = _cmd_ingest(
            argparse.Namespace(
                landing=args.landing,
                warehouse=args.warehouse,
                archive=None,
                rejected=None,
                config=args.config,
                demo_key=args.demo_key,
                no_progress=args.no_progress,
            )
        )
        if rc:
            return rc
    try:
        build.build(warehouse, full_refresh=args.full_refresh)
    except (RuntimeError, ValueError) as exc:
        print(f"kefu run: {exc}", file=sys.stderr)
        return 1
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    rows, passed, failed, months = con.execute(
        "select count(*), count(*) filter (where passed), count(*) filter (where not passed), "
        "count(distinct period_month) from marts.kpi_rule_results"
    ).fetchone()
    con.close()
    print(f"warehouse built: {warehouse.resolve()}")
    print(f"kpi_rule_results: {rows:,} rows over {months} months · {passed:,} passed · {failed:,} failed (考核结果)")
    if args.answer_key:
        diff = exactness.compare(warehouse, Path(args.answer_key))
        print(exactness.summary(diff))
        if not diff.empty:
            return 1
    return 0


def _cmd_contract(args: argparse.Namespace) -> int:
    from kefu import contract

    if args.markdown:
        sys.stdout.write(contract.to_markdown())
    else:
        for e in contract.load().values():
            print(f"{e.name:22s} {e.zh:8s} {len(e.columns):3d} columns  key: {', '.join(e.key)}")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from ingest import config
    from ingest.loader import ingest
    from ingest.mapping import MappingError

    try:
        cfg = config.load(Path(args.config) if args.config else None, demo_key=args.demo_key)
        if args.bulk:  # one batch, one read_csv per entity and shape (ingest/bulk.py)
            from ingest.bulk import bulk_landing as ingest  # type: ignore[assignment]  # the same keywords
        summary = ingest(
            landing=Path(args.landing),
            warehouse_file=Path(args.warehouse),
            cfg=cfg,
            archive=Path(args.archive) if args.archive else None,
            rejected=Path(args.rejected) if args.rejected else None,
            progress=not args.no_progress,
        )
    except (config.ConfigError, MappingError) as e:
        print(f"kefu ingest: {e}", file=sys.stderr)
        return 2
    print(summary)
    return 0


# modules that add their own subcommands (add_parser(sub) sets func=...)
PLUGINS = [
    "kefu.pipeline_cli",  # nightly, monthly, rebuild, demo, airflow-ui
    "dashboards.cli",  # dashboard
    "kefu.reports.cli",  # report
    "kefu.analyst",  # sql, docs
    "benchmarks.cli",  # bench
    "ingest.mapping_tools",  # mapping suggest, mapping check (issue 17)
    "kefu.vault",  # keys rotate (issue 19)
    "kefu.notify_cli",  # notify test (issue 21)
    "kefu.appeals_cli",  # appeals, assessment sign / reopen (issue 21)
]


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
    g.add_argument(
        "--preset",
        choices=["demo", "city", "province"],
        default="demo",
        help="size: demo ≈ 50k households / 3 months; city ≈ 500k / 12; province ≈ 8M / 12",
    )
    g.add_argument("--seed", type=int, default=1, help="random seed; the same seed writes the same bytes")
    g.add_argument("--months", type=int, default=None, help="months to generate from 2026-01 (default: the preset's)")
    g.add_argument("--out", required=True, help="output folder (landing/ and expected/ are written inside)")
    g.add_argument(
        "--faults",
        action="store_true",
        help="also write broken input the way real exports break, listed in expected/faults.csv",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.set_defaults(func=_cmd_generate)

    i = sub.add_parser(
        "ingest",
        help="load new exports into the DuckDB warehouse (导入导出文件)",
        description="Load every new export under the landing folder into DuckDB: recognise each file by its "
        "source mapping (ingest/mappings/*.yml), validate every row against the data contract, load good rows "
        "into schema raw, bad rows into audit.quarantine, log every file in audit.load_log, then archive it. "
        "One transaction per file; a file already loaded (same sha256) is a no-op. Personal data is stored only "
        "as a keyed hash and a masked form: the key comes from KEFU_PII_KEY or --config.",
    )
    i.add_argument("--landing", required=True, help="folder of exports (day folders YYYY-MM-DD, searched recursively)")
    i.add_argument("--warehouse", required=True, help="DuckDB file to load into (created if missing)")
    i.add_argument("--archive", default=None, help="where loaded files are moved (default: LANDING/../archive)")
    i.add_argument("--rejected", default=None, help="where rejected files are moved (default: LANDING/../rejected)")
    i.add_argument(
        "--config",
        default=None,
        help="YAML: pii_key, pii_demo_key, mappings (extra mapping folders), memory_limit, threads",
    )
    i.add_argument(
        "--demo-key", action="store_true", help="hash personal data with the public demo key (generated demo data only)"
    )
    i.add_argument("--no-progress", action="store_true", help="no progress bar")
    i.add_argument(
        "--bulk",
        action="store_true",
        help="load every file in one batch (history, catch-up): one read_csv per entity and shape, "
        "one transaction for all (批量补录)",
    )
    i.set_defaults(func=_cmd_ingest)

    r = sub.add_parser(
        "run",
        help="ingest new exports and build the warehouse with dbt (入库并计算考核指标)",
        description="Ingest the exports under --landing (if given), then `dbt build` the warehouse: staging, "
        "the time-limit engine, facts, dimensions and every KPI mart. Prints a summary of kpi_rule_results.",
    )
    r.add_argument("--warehouse", required=True, help="DuckDB warehouse file")
    r.add_argument("--landing", help="folder of new exports to ingest first")
    r.add_argument("--config", help="ingest configuration YAML (pii_key, mappings, ...)")
    r.add_argument(
        "--demo-key", action="store_true", help="hash personal data with the public demo key (demo data only)"
    )
    r.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    r.add_argument(
        "--answer-key", help="compare kpi_rule_results with a generator answer key (expected/kpi_expected.csv)"
    )
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=_cmd_run)

    c = sub.add_parser(
        "contract",
        help="show the export data contract (数据接口规范)",
        description="List the entities of the export data contract, or render docs/data-contract.md.",
    )
    c.add_argument("--markdown", action="store_true", help="print docs/data-contract.md")
    c.set_defaults(func=_cmd_contract)

    # subcommands that live beside the code they drive: each module has add_parser(sub)
    import importlib

    for module in PLUGINS:
        importlib.import_module(module).add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

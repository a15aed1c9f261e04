"""`kefu bench`: the pipeline benchmark (benchmarks/bench_pipeline.py, docs/benchmarks.md)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _cmd_bench(args: argparse.Namespace) -> int:
    from benchmarks import bench_pipeline

    if args.nights:
        from benchmarks import bench_nights

        return bench_nights.main(
            args.preset, Path(args.out) if args.out else None, args.nights, reuse=args.reuse, repeat=args.repeat
        )
    return bench_pipeline.main(args.preset, Path(args.out) if args.out else None, args.skip_generate, args.months)


def add_parser(sub) -> None:
    """Add `kefu bench` to the kefu CLI."""
    b = sub.add_parser(
        "bench",
        help="benchmark ingest, dbt build and the nightly run against the floor and pandas (性能基准)",
        description="For one preset: ingest rows/s, full and one-day incremental dbt build (month 1 and the "
        "last month), the end-to-end nightly run, peak RSS of each step, and the same KPIs (T9, A2, H1, S1, "
        "C1) by the floor (one hand-written DuckDB query over the exports) and by a pandas script, with "
        "ratios. Writes DIR/bench_PRESET.json and .md (docs/benchmarks.md).",
    )
    b.add_argument("--preset", choices=["demo", "city", "province"], default="demo")
    b.add_argument(
        "--out",
        default=None,
        help="work and result folder (default out/bench/PRESET); the generated exports go to DIR/data",
    )
    b.add_argument("--skip-generate", action="store_true", help="reuse the exports already in DIR/data")
    b.add_argument(
        "--months",
        type=int,
        default=None,
        help="generate only the first N months (default: the "
        "preset's 12 on city and province); the nights measured are month 1 and month N",
    )
    b.add_argument(
        "--nights",
        default=None,
        metavar="first,last|YYYY-MM-DD,…",
        help="time only these nights, each on a home the bulk backfill built up to the day before "
        "(the exports in DIR/data; benchmarks/bench_nights.py)",
    )
    b.add_argument(
        "--reuse",
        action="store_true",
        help="with --nights: keep each night's backfilled and built home and reuse them on the next run "
        "(the build is redone when the dbt project changed)",
    )
    b.add_argument("--repeat", type=int, default=1, help="with --nights: time each night N times (the median is kept)")
    b.set_defaults(func=_cmd_bench)

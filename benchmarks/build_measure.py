"""The nightly dbt build alone on a copy of a built warehouse: wall, CPU seconds, peak RSS, dbt's nodes.

    python -m benchmarks.build_measure WAREHOUSE BUSINESS_DATE [--repeat N] [--keep COPY]

Copies WAREHOUSE (never touched) to a scratch file and runs the night's incremental build on it,
as of BUSINESS_DATE, exactly as `kefu.pipeline` does (models only, D-72). With no new exports this
is the cost a night pays for the history behind it. Each of N runs starts from a fresh copy, in
its own dbt child process; prints one JSON line per run (wall and CPU seconds, peak RSS, the sum of
dbt's model timings and the slowest nodes) and one with the medians. Run it from two checkouts
(each with its own `dbt_project/`) on the same warehouse to compare two versions of the models;
docs/benchmarks.md quotes the city runs (benchmarks/results/build_measure_city/).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from benchmarks.bench_pipeline import _cpu, slowest_nodes
    from kefu import build, pipeline

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("business_date", type=date.fromisoformat)
    ap.add_argument("--repeat", type=int, default=1, help="runs, each on a fresh copy (default 1)")
    ap.add_argument("--keep", type=Path, help="build the last run into this copy and keep it")
    a = ap.parse_args(argv)
    os.environ.setdefault(build.WRITE_JSON_ENV, "true")  # dbt's per-model timings (run_results.json)
    runs = []
    for i in range(a.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            scratch = a.keep if a.keep and i == a.repeat - 1 else Path(tmp) / "kefu.duckdb"
            shutil.copy(a.warehouse, scratch)
            target = Path(tmp) / "dbt_target"
            c0, t0 = _cpu(), time.perf_counter()
            build.build(
                scratch,
                target_path=target,
                exclude=pipeline.NIGHTLY_EXCLUDE,
                vars=pipeline.build_vars(a.business_date, False),
            )
            wall, cpu = time.perf_counter() - t0, _cpu() - c0
            nodes = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
            run = {
                "code": str(build.DBT_DIR),
                "warehouse": str(a.warehouse),
                "business_date": a.business_date.isoformat(),
                "run": i + 1,
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "peak_rss_mb": round(
                    resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                ),  # largest child so far
                "model_seconds_sum": round(sum(n["execution_time"] for n in nodes), 1),
                "slowest_nodes": slowest_nodes(target / "run_results.json", 12),
            }
            print(json.dumps(run), flush=True)
            runs.append(run)
    print(
        json.dumps(
            {
                "median": {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s", "model_seconds_sum")},
                "runs": len(runs),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

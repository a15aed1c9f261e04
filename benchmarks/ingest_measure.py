"""Ingest alone beside the floor, in one run: bulk batch, file by file, and the floor over the same exports.

    python -m benchmarks.ingest_measure LANDING [--work DIR] [--skip-per-file]

LANDING holds day folders YYYY-MM-DD (e.g. `kefu generate --preset city --months 1 --out X`,
then X/landing; never modified: hard-linked copies are ingested). Each step runs in its own
child process (benchmarks.bench_pipeline.child: wall, CPU seconds with DuckDB's threads and
child processes, peak RSS): the floor (decode + query) over all the exports, the bulk batch
(ingest/bulk.py, what the backfill DAG runs) into a fresh warehouse, and — unless
--skip-per-file — the file-by-file ingest of the same days, one folder at a time as the nights
run it. Prints one JSON line with every figure and the rows per CPU s of each beside the floor.
The full `kefu bench` runs the same bulk step (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from datetime import date
from pathlib import Path


def step_per_file_days(landing: str, warehouse: str, archive: str) -> dict:
    """Every day folder ingested by itself, in date order (what the nightly runs do)."""
    from ingest import config
    from ingest.loader import ingest

    rows = files = 0
    cfg = config.load(None, demo_key=True)
    for p in sorted(Path(landing).iterdir()):
        s = ingest(
            p,
            Path(warehouse),
            cfg,
            archive=Path(archive) / p.name,
            rejected=Path(archive).with_name("rejected") / p.name,
            progress=False,
        )
        loaded = [r for r in s.results if r.status == "loaded"]
        files += len(loaded)
        rows += sum(r.rows_read for r in loaded)
    return {"files": files, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    from benchmarks import bench_pipeline as bp

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("landing", type=Path)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--skip-per-file", action="store_true")
    a = ap.parse_args(argv)
    landing = a.landing.resolve()
    work = Path(a.work or tempfile.mkdtemp(prefix="ingest_measure_")).resolve()
    days = sorted(date.fromisoformat(p.name) for p in landing.iterdir() if p.is_dir())
    out: dict = {"landing": str(landing), "days": len(days), "machine": bp.machine()}

    def fresh(name: str) -> Path:
        d = work / name
        shutil.rmtree(d, ignore_errors=True)
        bp.link_days(landing, days, d / "landing")
        return d

    out["floor"] = bp.child("step_floor", landing=str(landing), work=str(work / "floor_work"))
    d = fresh("bulk")
    out["bulk"] = bp.child(
        "step_bulk_ingest", landing=str(d / "landing"), warehouse=str(d / "kefu.duckdb"), archive=str(d / "archive")
    )
    shutil.rmtree(d, ignore_errors=True)
    if not a.skip_per_file:
        d = fresh("per_file")
        out["per_file"] = child_per_file(d)
        shutil.rmtree(d, ignore_errors=True)
    rows = out["bulk"]["rows"]
    floor = rows / out["floor"]["cpu_seconds"]
    out["rows_per_cpu_s"] = {
        "floor": floor,
        "bulk": rows / out["bulk"]["cpu_seconds"],
        **({"per_file": out["per_file"]["rows"] / out["per_file"]["cpu_seconds"]} if "per_file" in out else {}),
    }
    out["of_floor"] = {k: v / floor for k, v in out["rows_per_cpu_s"].items() if k != "floor"}
    print(json.dumps(out, default=str))
    return 0


def child_per_file(d: Path) -> dict:
    """step_per_file_days in a child process, as bench_pipeline.child runs its steps."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    code = (
        "import json, sys, time, resource\n"
        "from benchmarks.ingest_measure import step_per_file_days\n"
        "from benchmarks.bench_pipeline import _cpu\n"
        "t0 = time.perf_counter()\n"
        f"r = step_per_file_days({str(d / 'landing')!r}, {str(d / 'kefu.duckdb')!r}, {str(d / 'archive')!r})\n"
        "r.update(seconds=time.perf_counter() - t0, cpu_seconds=_cpu(), "
        "peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
        "print('BENCH_RESULT ' + json.dumps(r))\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if proc.returncode or line is None:
        raise RuntimeError(f"per-file ingest failed:\n{proc.stderr[-4000:]}")
    return json.loads(line.removeprefix("BENCH_RESULT "))


if __name__ == "__main__":
    raise SystemExit(main())

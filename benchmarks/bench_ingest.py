"""Ingest throughput against the floor: DuckDB's own read_csv of the same call records into a table.

    python benchmarks/bench_ingest.py [--days 30] [--rows-per-day 9000] [--repeat 3] [--landing DIR] [--work DIR]

Call records are the city preset's biggest daily export (GB18030 CSV, ~8k–10k rows a day).
Without --landing the script writes `--days` daily files of sample call records in the
generator's exact format (generator/samples.py), plus one big file that concatenates them.
With --landing it takes the 话务详单_*.csv files of a generated landing folder
(e.g. `kefu generate --preset city --months 1`).

Measured, each in its own subprocess (peak RSS is per process):
- floor: for every file, `CREATE TABLE AS SELECT * FROM read_csv(utf8_copy)` into a fresh
  DuckDB file (UTF-8 copies made beforehand, not timed: DuckDB cannot read GBK);
- ingest: `kefu ingest` of the original GB18030 files into a fresh warehouse (fingerprint,
  transcode, stage, type, validate, hash/mask PII, write raw, audit, archive).
Floor and ingest run alternately `--repeat` times (the machine may be shared): printed are the
median rows/s of each, the median of the per-run ratios with its range, CPU seconds (all threads and
child processes, less sensitive to other load than wall time) and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

FLOOR = r"""
import duckdb, json, resource, sys, time
files, db = json.loads(sys.argv[1]), sys.argv[2]
con = duckdb.connect(db)
t0 = time.perf_counter(); rows = 0
for i, f in enumerate(files):
    con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv('{f}')")
    rows += con.execute(f"SELECT count(*) FROM t{i}").fetchone()[0]
con.close()
u, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rows": rows, "seconds": time.perf_counter() - t0, "cpu": u.ru_utime + u.ru_stime + c.ru_utime + c.ru_stime,
                  "rss_mb": u.ru_maxrss / 1024}))
"""

OURS = r"""
import json, resource, sys, time
from pathlib import Path
from ingest import config
from ingest.loader import ingest
landing, wh = Path(sys.argv[1]), Path(sys.argv[2])
t0 = time.perf_counter()
s = ingest(landing, wh, config.load(None, demo_key=True), progress=False)
loaded = [r for r in s.results if r.status == "loaded"]
u, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rows": sum(r.rows_read for r in loaded), "seconds": time.perf_counter() - t0,
                  "cpu": u.ru_utime + u.ru_stime + c.ru_utime + c.ru_stime,
                  "quarantined": sum(r.rows_quarantined for r in loaded), "rss_mb": u.ru_maxrss / 1024}))
"""


def _py(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_files(work: Path, days: int, per_day: int) -> list[Path]:
    from generator import samples

    start = date(2026, 3, 2)
    files = []
    for i in range(days):
        d = start + timedelta(days=i)
        files.append(
            samples.write(
                work / "src" / d.isoformat() / f"话务详单_{d:%Y%m%d}.csv", "calls", d, per_day, start=i * per_day
            )
        )
    return files


def concat(files: list[Path], dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(dst, "wb") as out:
        for i, f in enumerate(files):
            with open(f, "rb") as fh:
                header = fh.readline()
                if i == 0:
                    out.write(header)
                shutil.copyfileobj(fh, out, 1 << 22)
    return dst


def utf8_copy(src: Path, dst: Path) -> Path:
    from ingest import encoding

    det = encoding.detect(src)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if det.encoding == "gb18030":
        encoding.transcode(src, "gb18030", dst)
    else:
        shutil.copy(src, dst)
    return dst


def _landing(files: list[Path], landing: Path) -> Path:
    shutil.rmtree(landing, ignore_errors=True)
    for f in files:
        (landing / f.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(f, landing / f.parent.name / f.name)
    return landing


def measure(label: str, files: list[Path], work: Path, repeat: int = 3) -> dict:
    case = work / label
    shutil.rmtree(case, ignore_errors=True)
    utf8 = [utf8_copy(f, case / "utf8" / f.parent.name / f.name) for f in files]
    floors, ours = [], []
    for _i in range(repeat):  # alternate, so both see the same background load
        (case / "floor.duckdb").unlink(missing_ok=True)
        floors.append(_py(FLOOR, json.dumps([str(p) for p in utf8]), str(case / "floor.duckdb")))
        shutil.rmtree(case / "run", ignore_errors=True)
        ours.append(_py(OURS, str(_landing(files, case / "run" / "landing")), str(case / "run" / "warehouse.duckdb")))
    size = sum(f.stat().st_size for f in files) / 2**20
    f_rps = [r["rows"] / r["seconds"] for r in floors]
    o_rps = [r["rows"] / r["seconds"] for r in ours]
    ratios = [o / f for o, f in zip(o_rps, f_rps)]
    med = statistics.median
    print(f"{label}: {len(files)} file(s), {floors[0]['rows']:,} rows, {size:.0f} MiB, {repeat} run(s) each")
    for name, runs, rps in (("floor  read_csv", floors, f_rps), ("kefu   ingest  ", ours, o_rps)):
        print(
            f"  {name} {med(rps):>10,.0f} rows/s (runs {min(rps):,.0f}–{max(rps):,.0f})  "
            f"{med(r['seconds'] for r in runs):6.2f} s wall  {med(r['cpu'] for r in runs):6.2f} s CPU  "
            f"peak RSS {max(r['rss_mb'] for r in runs):5.0f} MB"
        )
    print(
        f"  ratio  {med(ratios):.0%} of the floor (runs {min(ratios):.0%}–{max(ratios):.0%}); "
        f"CPU-time ratio {med(r['cpu'] for r in floors) / med(r['cpu'] for r in ours):.0%}"
        f"  (quarantined {ours[0]['quarantined']})"
    )
    return {
        "label": label,
        "floor_rps": med(f_rps),
        "ingest_rps": med(o_rps),
        "ratio": med(ratios),
        "ratios": ratios,
        "floor_rss_mb": max(r["rss_mb"] for r in floors),
        "ingest_rss_mb": max(r["rss_mb"] for r in ours),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--rows-per-day", type=int, default=9000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of floor and ingest each (median reported)")
    ap.add_argument("--landing", type=Path, default=None, help="take 话务详单_*.csv from a generated landing folder")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp folder)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    t0 = time.perf_counter()
    if args.landing:
        files = sorted(args.landing.glob("*/话务详单_*.csv"))[: args.days]
    else:
        files = make_files(work, args.days, args.rows_per_day)
    print(f"inputs ready in {time.perf_counter() - t0:.1f} s ({work})")
    big = concat(files, work / "big_src" / files[-1].parent.name / files[-1].name)
    measure("daily", files, work, args.repeat)
    measure("big", [big], work, args.repeat)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

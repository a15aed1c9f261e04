"""Generation time and peak memory of `kefu generate`, per preset.

Usage: python benchmarks/bench_generate.py [demo city ...] [--months N]
Each preset runs in its own child process so its peak RSS is its own
(resource.getrusage(RUSAGE_CHILDREN).ru_maxrss, in KiB on Linux).
Targets: demo well under a minute; city peak RSS < 2 GB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time

CHILD = """
import sys, resource, time
from pathlib import Path
from generator.run import generate
t0 = time.perf_counter()
summary = generate(preset=sys.argv[1], seed=1, months=None if sys.argv[2] == '-' else int(sys.argv[2]),
                   out=Path(sys.argv[3]), faults=False, progress=False)
print(summary.splitlines()[1].strip())
print(f"seconds={time.perf_counter() - t0:.1f} peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
"""


def run(preset: str, months: int | None) -> None:
    with tempfile.TemporaryDirectory(prefix=f"bench_{preset}_") as out:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, preset, "-" if months is None else str(months), out],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            raise SystemExit(f"{preset}: generation failed")
        print(f"[{preset}] {proc.stdout.strip()}  wall={wall:.1f}s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("presets", nargs="*", default=["demo", "city"])
    ap.add_argument("--months", type=int, default=None)
    args = ap.parse_args()
    for p in args.presets:
        run(p, args.months)
    print(f"max child peak RSS: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()

"""A built warehouse set back to an earlier night, so that the next build catches up on every day since.

    python -m benchmarks.catchup_prepare WAREHOUSE NIGHT OUT

Copies WAREHOUSE (never touched) to OUT and rebuilds OUT in full as the night of NIGHT saw it
(the export history, D-71: every version exported up to that day). The raw tables keep every
later export, so the next build of OUT (`python -m benchmarks.build_measure OUT DAY`) is the
incremental build after an outage from NIGHT to DAY: the ticket engine re-judges every ticket
exported since NIGHT, and most of them are new to it. That is the bench's "build 2" (the bulk
load of every day but the last) without re-running the bench. docs/benchmarks.md quotes the
province runs (benchmarks/results/build_measure_province/).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import date
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from kefu import build, pipeline

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("night", type=date.fromisoformat)
    ap.add_argument("out", type=Path)
    a = ap.parse_args(argv)
    shutil.copy(a.warehouse, a.out)
    t0 = time.perf_counter()
    build.build(
        a.out, full_refresh=True, exclude=pipeline.NIGHTLY_EXCLUDE, vars=pipeline.build_vars(a.night, history=True)
    )
    print(
        json.dumps(
            {
                "warehouse": str(a.warehouse),
                "night": a.night.isoformat(),
                "out": str(a.out),
                "rebuild_wall_s": round(time.perf_counter() - t0, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

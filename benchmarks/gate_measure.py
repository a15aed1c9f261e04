"""The Great Expectations contract gate alone on a built warehouse: wall, CPU seconds, peak RSS.

    python benchmarks/gate_measure.py WAREHOUSE BUSINESS_DATE

Prints one JSON line (and the failures, if any). Run it with two versions of `expectations/`
(PYTHONPATH) to compare them on the same warehouse; docs/benchmarks.md quotes the province run.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import date
from pathlib import Path


def main(argv: list[str]) -> int:
    import expectations
    from expectations import gates

    warehouse, day = Path(argv[0]), date.fromisoformat(argv[1])
    t0 = time.perf_counter()
    res = gates.run_contract_gate(warehouse, day, None)
    u = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "code": str(Path(expectations.__file__).resolve().parents[1]),
                "success": res.success,
                "evaluated": res.evaluated,
                "wall_s": round(time.perf_counter() - t0, 1),
                "cpu_s": round(u.ru_utime + u.ru_stime, 1),
                "peak_rss_mb": round(u.ru_maxrss / 1024),
            }
        )
    )
    if not res.success:
        print(res.message())
    return 0 if res.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

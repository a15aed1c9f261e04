"""Dashboard page times on a warehouse: each page's data queries and the full page run.

    python benchmarks/bench_dashboard.py --warehouse FILE [--repeat 20] [--district D02]

Every page of the app runs in Streamlit's AppTest (the real script, no browser) `--repeat`
times with cold caches (st.cache_data cleared before each run: a first visit after a
publish, but the file already open: the benchmark prints that opening separately) and `--repeat`
times warm (cached: every later visit). dashboards.data logs each
query it runs with its seconds; per page the benchmark prints the number of queries, p50/p95
of their total time per cold run, and p50/p95 of the full page run cold and warm. With
--district the sidebar's district filter is set first (a narrower scope, other queries).
The target is a page load ≤ 1 s (p95) on the city preset (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboards import data
from kefu.home import connect_published

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"
PAGES = [
    "overview",
    "districts",
    "technicians",
    "warning",
    "hotline",
    "satisfaction",
    "callbacks",
    "vip",
    "hall",
    "notices",
]


class QueryTimes(logging.Handler):
    """Collects the seconds of every query dashboards.data runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seconds: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seconds.append(record.seconds)


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def measure(warehouse: Path, repeat: int, district: str | None) -> list[dict]:
    os.environ["KEFU_PUBLISHED"] = str(warehouse)
    times = QueryTimes()
    log = logging.getLogger("dashboards.data")
    log.addHandler(times)
    log.setLevel(logging.DEBUG)
    at = AppTest.from_file(str(APP), default_timeout=600)
    at.run()  # imports and the first connection: not measured
    if district:
        at.selectbox(key="district").set_value(district).run()
    rows = []
    for page in PAGES:
        at.switch_page(f"views/{page}.py")
        cold, warm, queries, counts = [], [], [], []
        for cached, runs in ((False, cold), (True, warm)):
            for _ in range(repeat):
                if not cached:
                    data.clear_cache()
                times.seconds.clear()
                started = time.perf_counter()
                at.run()
                runs.append(time.perf_counter() - started)
                assert not at.exception, at.exception
                if not cached:
                    queries.append(sum(times.seconds))
                    counts.append(len(times.seconds))
        rows.append(
            {
                "page": page,
                "queries": max(counts),
                "query_p50": percentile(queries, 50),
                "query_p95": percentile(queries, 95),
                "cold_p50": percentile(cold, 50),
                "cold_p95": percentile(cold, 95),
                "warm_p50": percentile(warm, 50),
                "warm_p95": percentile(warm, 95),
            }
        )
    log.removeHandler(times)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", required=True, help="a built warehouse (opened read-only)")
    parser.add_argument("--repeat", type=int, default=20, help="runs per page, cold and warm each (default 20)")
    parser.add_argument("--district", default=None, help="set the district filter first (e.g. D02)")
    args = parser.parse_args(argv)
    rows = measure(Path(args.warehouse).resolve(), args.repeat, args.district)
    data.close()  # no instance of the file left open: each connect below really opens it
    opens = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        connect_published(args.warehouse).close()
        opens.append(time.perf_counter() - started)
    print(f"dashboard on {args.warehouse} · {args.repeat} runs per page · district {args.district or 'all'}")
    print(
        f"opening the published file (once per publish): p50 {percentile(opens, 50):.3f} s, "
        f"p95 {percentile(opens, 95):.3f} s"
    )
    print(
        f"{'page':<14}{'queries':>8}{'query p50':>11}{'query p95':>11}{'cold p50':>10}{'cold p95':>10}"
        f"{'warm p50':>10}{'warm p95':>10}   (seconds)"
    )
    for r in rows:
        print(
            f"{r['page']:<14}{r['queries']:>8}{r['query_p50']:>11.3f}{r['query_p95']:>11.3f}{r['cold_p50']:>10.3f}"
            f"{r['cold_p95']:>10.3f}{r['warm_p50']:>10.3f}{r['warm_p95']:>10.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

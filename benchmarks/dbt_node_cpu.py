"""CPU seconds per dbt node: `python -m benchmarks.dbt_node_cpu OUT.json <dbt args>`.

Runs dbt in this process (dbtRunner) and reads the process's CPU time (every thread, DuckDB's
included) at each node's start and finish event; pass `--threads 1` so that one node runs at a
time. OUT.json gets the total, the start-up before the first node (parse, manifest) and every
node's CPU seconds. The environment is dbt's own (KEFU_WAREHOUSE, DBT_PROFILES_DIR, the run vars
KEFU_AS_OF_DATE …); docs/benchmarks.md, "A night on city (issue 18 point 4), round 4".
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    cpu: dict[str, float] = {}
    start: dict[str, float] = {}
    marks: dict[str, float] = {}

    def on_event(ev) -> None:
        name = ev.info.name
        if name == "NodeStart":
            start[ev.data.node_info.unique_id] = time.process_time()
            marks.setdefault("first_node", time.process_time())
        elif name == "NodeFinished":
            uid = ev.data.node_info.unique_id
            cpu[uid] = time.process_time() - start.get(uid, 0.0)
            marks["last_node"] = time.process_time()

    t0 = time.process_time()
    res = dbtRunner(callbacks=[on_event]).invoke(argv[1:])
    t1 = time.process_time()
    nodes = sorted(((k.split(".")[-1], round(v, 3)) for k, v in cpu.items()), key=lambda kv: -kv[1])
    out = {
        "total": t1 - t0,
        "startup": marks.get("first_node", t1) - t0,
        "teardown": t1 - marks.get("last_node", t1),
        "nodes": dict(nodes),
        "success": res.success,
    }
    with open(argv[0], "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
    print(f"total {out['total']:.1f} CPU s, start-up {out['startup']:.1f}, nodes {sum(cpu.values()):.1f}")
    for name, seconds in nodes[:25]:
        print(f"  {name:45s} {seconds:6.2f}")
    return 0 if res.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

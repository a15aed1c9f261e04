"""python -m kefu.dbt_commands '[["run-operation", ...], ["run", ...]]': the child of
kefu.build.run_dbt_commands. Runs each dbt command through dbt's programmatic runner, one after the
other in this one process, and prints the JSON list of their seconds as its last line; stops at the
first that fails (exit 1)."""

from __future__ import annotations

import json
import sys
import time


def main(commands: list[list[str]]) -> int:
    from dbt.cli.main import dbtRunner

    seconds = []
    for args in commands:
        started = time.perf_counter()
        result = dbtRunner().invoke(args)
        if not result.success:
            print(f"dbt {' '.join(args[:2])} failed: {result.exception or 'see its log'}", flush=True)
            return 1
        seconds.append(time.perf_counter() - started)
    print(json.dumps(seconds), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(json.loads(sys.argv[1])))

"""python -m kefu.dbt_commands '[["run-operation", ...], ["run", ...]]': the child of every dbt run
(kefu.build.run_dbt and run_dbt_commands). Runs each dbt command through dbt's programmatic runner,
one after the other in this one process, and prints the JSON list of their seconds as its last line;
stops at the first that fails (exit 1).

Before the first command, dbt's partial-parse check is told to ignore the DuckDB file's path
(docs/decisions.md D-217), so that one parse of the project serves every warehouse."""

from __future__ import annotations

import json
import sys
import time


def parse_check_ignores_the_warehouse_path() -> None:
    """dbt keeps its parse (target/partial_parse.msgpack) only while a hash of the profile's
    connection keys is unchanged, and for dbt-duckdb those include `path`: a warehouse at a new path
    — every copy, scratch file and test home — parsed the whole project again (≈ 8 CPU s against
    ≈ 3.5). Nothing in this project reads the path while parsing (tests/dbt/test_dbt_parse.py checks
    the project's Jinja), so the check hashes the other keys; the file's stem, DuckDB's catalog
    name and so the models' `database`, stays in it."""
    import pprint

    from dbt.contracts.files import FileHash
    from dbt.parser.manifest import ManifestLoader

    global _PATCHED
    if _PATCHED:
        return
    build_check = ManifestLoader.build_manifest_state_check

    def state_check(self):
        state = build_check(self)
        credentials = self.root_project.credentials
        if credentials.type == "duckdb":
            keys = sorted((k, v) for k, v in credentials.connection_info() if k != "path")
            state.profile_hash = FileHash.from_contents(pprint.pformat(keys))
        return state

    setattr(ManifestLoader, "build_manifest_state_check", state_check)  # noqa: B010 (mypy: a method)
    _PATCHED = True


_PATCHED = False


def main(commands: list[list[str]]) -> int:
    from dbt.cli.main import dbtRunner

    parse_check_ignores_the_warehouse_path()
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

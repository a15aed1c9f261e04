"""Analyst access: `kefu sql` on the published warehouse (read-only) and the dbt docs site.

    kefu sql [--warehouse F] [--csv] [QUERY]   a query, or an interactive shell without one
    kefu docs generate [--warehouse F] [--out DIR]
    kefu docs serve [--dir DIR] [--port N]
    kefu docs rule-index [--check]             docs/rule-index.md (kefu/rule_index.py)

`kefu sql` opens the published copy through kefu.sandbox: read-only (every write — INSERT,
CREATE, DROP, … — is refused by DuckDB itself) and sandboxed (no other file can be read or
written: read_csv of the archive, COPY … TO, ATTACH, INSTALL / LOAD are refused, and the
configuration is locked so SET cannot undo it); each refusal is said in plain words.
The docs site is `dbt docs generate --static` (one self-contained index.html), run
against a temporary copy of the published file: dbt-duckdb opens its database
read-write, and the published file must never be opened that way.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

from kefu import build, sandbox
from kefu.home import Home, connect_published, published_path, read_manifest
from kefu.safe_text import write_csv

READ_ONLY = sandbox.READ_ONLY

BANNER = """kefu sql · 已发布仓库（只读）published warehouse (read-only): {path}{as_of}
语句以分号结束，.quit 退出。End statements with ';', .quit to leave.
  SHOW ALL TABLES;                                  所有表 / every table
  SELECT * FROM marts.kpi_rule_results LIMIT 5;     考核结果 / the KPI table
指南 / guide: docs/analyst-guide.md"""


def docs_dir() -> Path:
    """Where the nightly run writes the docs site: beside the published warehouse."""
    return Home.from_env().published_dir / "dbt_docs"


# --- kefu sql ----------------------------------------------------------------------------------


def execute(con: duckdb.DuckDBPyConnection, query: str, as_csv: bool = False, max_rows: int = 100) -> int:
    """Run the statements of QUERY in turn and print each result to stdout: a table, or CSV with a
    header row. Returns 0, or 1 after saying on stderr why a statement failed (the rest are skipped)."""
    try:
        for statement in con.extract_statements(query):
            if as_csv:  # text that would start a spreadsheet formula is neutralised (kefu/safe_text.py)
                cur = con.execute(statement)
                if cur.description is not None:
                    write_csv(
                        sys.stdout,
                        [d[0] for d in cur.description],
                        (row for rows in iter(functools.partial(cur.fetchmany, 10_000), []) for row in rows),
                    )
            elif (rel := con.sql(statement)) is not None:
                rel.show(max_rows=max_rows, max_width=shutil.get_terminal_size().columns)  # honours $COLUMNS
    except duckdb.Error as exc:
        why = sandbox.refusal(exc)
        why = f"{why}\n" if why else ""
        print(f"kefu sql: {why}{exc}", file=sys.stderr)
        return 1
    return 0


def shell(con: duckdb.DuckDBPyConnection, path: Path, as_csv: bool = False, max_rows: int = 100) -> int:
    """Read statements from stdin, each run when a line ends with ';' (a prompt when stdin is a terminal).
    Returns 1 if any statement failed, else 0."""
    import readline  # noqa: F401  (line editing and history for input())

    interactive = sys.stdin.isatty()
    if interactive:
        as_of = read_manifest(path).get("business_date")
        print(BANNER.format(path=path, as_of=f"\n数据截至 / data as of: {as_of}" if as_of else ""))
    rc, lines = 0, list[str]()
    while True:
        try:
            line = input(("kefu> " if not lines else "  ... ") if interactive else "")
        except EOFError:
            break
        except KeyboardInterrupt:
            lines = []
            print()
            continue
        if not lines and line.strip() in (".quit", ".exit", "\\q"):
            break
        lines.append(line)
        if line.rstrip().endswith(";"):
            rc |= execute(con, "\n".join(lines), as_csv, max_rows)
            lines = []
    if "".join(lines).strip():
        rc |= execute(con, "\n".join(lines), as_csv, max_rows)
    return rc


def _cmd_sql(args: argparse.Namespace) -> int:
    path = published_path(args.warehouse)
    try:
        con = connect_published(path)
    except (FileNotFoundError, duckdb.Error) as exc:
        print(f"kefu sql: {exc}", file=sys.stderr)
        return 2
    try:
        if args.query:
            return execute(con, args.query, args.csv, args.max_rows)
        return shell(con, path, args.csv, args.max_rows)
    finally:
        con.close()


# --- dbt docs site -----------------------------------------------------------------------------


def generate_docs(warehouse: Path, out_dir: Path) -> Path:
    """Write the dbt docs site of WAREHOUSE into OUT_DIR as one self-contained index.html
    (`dbt docs generate --static`: manifest and catalog inside). dbt runs on a temporary copy,
    so the published file is only ever read. Returns OUT_DIR/index.html (replaced atomically)."""
    warehouse, out_dir = Path(warehouse), Path(out_dir)
    if not warehouse.exists():
        raise FileNotFoundError(f"warehouse {warehouse} does not exist")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kefu_docs_") as tmp:
        copy = Path(tmp) / warehouse.name  # same name: DuckDB names the catalog after the file stem
        for src in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
            if src.exists():
                shutil.copyfile(src, Path(tmp) / src.name)
        target = Path(tmp) / "target"
        build.run_dbt(["docs", "generate", "--static", "--quiet"], copy, target_path=target)
        staged = out_dir / ".index.html.tmp"
        shutil.copyfile(target / "static_index.html", staged)
        index = out_dir / "index.html"
        os.replace(staged, index)
    return index


def _cmd_docs_generate(args: argparse.Namespace) -> int:
    try:
        index = generate_docs(published_path(args.warehouse), Path(args.out) if args.out else docs_dir())
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        print(f"kefu docs generate: {exc}", file=sys.stderr)
        return 1
    print(f"数据字典已生成 / docs site written: {index}")
    return 0


def _cmd_docs_serve(args: argparse.Namespace) -> int:
    folder = Path(args.dir) if args.dir else docs_dir()
    if not (folder / "index.html").exists():
        print(
            f"kefu docs serve: {folder / 'index.html'} does not exist yet: the nightly run writes it, "
            f"or run `kefu docs generate`",
            file=sys.stderr,
        )
        return 2
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer((args.bind, args.port), handler) as server:
        host, port = args.bind, server.server_port
        print(f"数据字典 / dbt docs: http://{host}:{port}/  (Ctrl+C 停止 / to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


def _cmd_docs_rule_index(args: argparse.Namespace) -> int:
    from kefu import rule_index

    path = Path(args.file) if args.file else rule_index.INDEX_FILE
    if args.check:
        if rule_index.is_stale(path):
            print(f"kefu docs rule-index: {path} is stale: run `kefu docs rule-index` and commit it", file=sys.stderr)
            return 1
        print(f"规则索引是最新的 / rule index up to date: {path}")
        return 0
    rule_index.write(path)
    print(f"规则索引已生成 / rule index written: {path}")
    return 0


def add_parser(sub) -> None:
    """Add `sql` and `docs` to the kefu CLI."""
    s = sub.add_parser(
        "sql",
        help="query the published warehouse, read-only (只读查询已发布的仓库)",
        description="Run QUERY on the published warehouse (read-only) and print the result, or, without QUERY, "
        "an interactive SQL shell (statements end with ';'; also reads a script from stdin). Any write is refused. "
        "The marts and example queries: docs/analyst-guide.md.",
    )
    s.add_argument("query", nargs="?", help="SQL to run (omit for the interactive shell)")
    s.add_argument("--warehouse", help="DuckDB file (default: $KEFU_PUBLISHED, else $KEFU_HOME/published/kefu.duckdb)")
    s.add_argument("--csv", action="store_true", help="write the result as CSV (with a header row) to stdout")
    s.add_argument(
        "--max-rows",
        type=int,
        default=100,
        help="rows shown in a table (default 100; the table fits the terminal or $COLUMNS; --csv writes all)",
    )
    s.set_defaults(func=_cmd_sql)

    d = sub.add_parser(
        "docs",
        help="the warehouse's dbt docs site (数据字典)",
        description="Generate or serve the dbt docs site: every model, column, test and lineage. "
        "The nightly run regenerates it beside the published warehouse (published/dbt_docs/).",
    )
    dsub = d.add_subparsers(dest="docs_command", required=True, metavar="ACTION")
    g = dsub.add_parser(
        "generate",
        help="write the docs site of the published warehouse",
        description="Run `dbt docs generate --static` on a temporary copy of the published "
        "warehouse and write one self-contained index.html.",
    )
    g.add_argument("--warehouse", help="DuckDB file (default: the published warehouse)")
    g.add_argument("--out", help="folder for index.html (default: $KEFU_HOME/published/dbt_docs)")
    g.set_defaults(func=_cmd_docs_generate)
    v = dsub.add_parser(
        "serve",
        help="serve the docs site over HTTP",
        description="Serve the docs site folder with Python's http.server until Ctrl+C.",
    )
    v.add_argument("--dir", help="folder holding index.html (default: $KEFU_HOME/published/dbt_docs)")
    v.add_argument("--port", type=int, default=8580, help="port (default 8580)")
    v.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for the LAN)")
    v.set_defaults(func=_cmd_docs_serve)
    r = dsub.add_parser(
        "rule-index",
        help="write docs/rule-index.md (规则索引), or check it is current",
        description="Write the rule index: for each rule ID its rulebook entry, dbt models, tests, "
        "expectation, dashboard page and report sections, found in the files themselves.",
    )
    r.add_argument("--check", action="store_true", help="write nothing; exit 1 when the file differs from a fresh one")
    r.add_argument("--file", help="the index file (default: docs/rule-index.md)")
    r.set_defaults(func=_cmd_docs_rule_index)

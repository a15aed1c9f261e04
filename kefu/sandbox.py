"""The one way readers open the published warehouse: read-only and sandboxed (decisions D-96).

`kefu sql`, the dashboard and the monthly reports read the published file through `connect()`,
which makes a private in-memory DuckDB (extension auto-install / auto-load off, given at
connect time), ATTACHes the file READ_ONLY under its usual catalog name (the file's stem) and
makes it the default, then — before any caller's statement runs — turns external access off
and locks the configuration:

- read-only: every write (INSERT, CREATE, DROP …) on the warehouse is refused by DuckDB;
- enable_external_access = false: no other file can be read or written — no read_csv /
  read_parquet / read_text / glob of other paths, no COPY … TO, no EXPORT DATABASE, no ATTACH
  of a file, no INSTALL / LOAD of extensions, no persistent secrets;
- lock_configuration = true: no SET / RESET / PRAGMA can undo any of the above.

Why not `duckdb.connect(path, read_only=True, config=…)`: DuckDB keeps one database instance
per file and process, and refuses a second connection to the same file with a different
configuration ("Can't open a connection to same database file with a different
configuration"), so a sandboxed reader and any plain read-only connection (the pipeline in the
same Airflow process, a test) could not coexist. The private in-memory instance shares nothing.
It also never hands out an instance of a file that a publish has since replaced.

TEMP tables still work (they live in memory). `refusal()` turns DuckDB's error of a refused
statement into a plain message in Chinese and English. A cursor of the connection starts in
the in-memory catalog: take cursors with `cursor()`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

CONFIG = {  # at connect time
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
LOCK = ("SET enable_external_access = false", "SET lock_configuration = true")  # before any caller's statement
RESERVED = {"memory", "system", "temp", "main"}

READ_ONLY = (
    "已发布的仓库是只读的，不能修改（the published warehouse is read-only: INSERT, UPDATE, DELETE, "
    "CREATE, DROP … are refused）。需要中间结果请用 CREATE TEMP TABLE，或 --csv 导出后另行处理。"
)
FILES = (
    "只读查询只能读取已发布的仓库，不能读写其他文件（read_csv、read_parquet、COPY … TO、EXPORT、ATTACH 均被禁止）"
    " / a read-only query can read the published warehouse only: reading or writing any other file "
    "(read_csv, read_parquet, COPY … TO, EXPORT, ATTACH) is refused. 导出结果请用 kefu sql --csv / "
    "to export a result use kefu sql --csv."
)
EXTENSIONS = "不能安装或加载 DuckDB 扩展 / installing or loading DuckDB extensions is refused."
LOCKED = (
    "只读连接的安全设置已锁定，不能用 SET / RESET / PRAGMA 修改 / the sandbox settings of this "
    "read-only connection are locked: SET, RESET and PRAGMA cannot change them."
)
ATTACH = "不能连接其他数据库（ATTACH）/ attaching another database is refused."


def catalog(path: str | Path) -> str:
    """The catalog name of the attached file: its stem, as `duckdb.connect(path)` would name it."""
    stem = Path(path).stem
    return stem if stem and stem.lower() not in RESERVED else "kefu"


def connect(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only, sandboxed connection to the DuckDB file at `path` (which must exist)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(
            f"published warehouse {p} does not exist yet: run the nightly DAG (or `make demo`) first"
        )
    con = duckdb.connect(":memory:", config=dict(CONFIG))
    try:
        name = catalog(p)
        con.execute(f"ATTACH {_lit(str(p.resolve()))} AS {_ident(name)} (READ_ONLY)")
        con.execute(f"USE {_ident(name)}")
        for statement in LOCK:
            con.execute(statement)
    except BaseException:
        con.close()
        raise
    return con


def cursor(con: duckdb.DuckDBPyConnection, path: str | Path) -> duckdb.DuckDBPyConnection:
    """A cursor of a sandboxed connection, in the warehouse's catalog (a cursor starts in memory)."""
    cur = con.cursor()
    cur.execute(f"USE {_ident(catalog(path))}")
    return cur


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def refusal(exc: BaseException) -> str | None:
    """The plain message (Chinese and English) of a statement the sandbox refused, else None."""
    text = str(exc)
    if "configuration has been locked" in text:
        return LOCKED
    if "extension" in text.lower() and ("disabled" in text or "extensions" in text):
        return EXTENSIONS
    if "file system operations are disabled" in text:
        return EXTENSIONS if "/extensions/" in text else FILES
    if "in-memory database in read-only mode" in text or ("ATTACH" in text.upper() and "Permission" in text):
        return ATTACH
    if "read-only" in text:
        return READ_ONLY
    return None

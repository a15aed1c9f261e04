"""The one way readers open the published warehouse: read-only and sandboxed (decisions D-96).

`kefu sql`, the dashboard and the monthly reports read the published file through `connect()`.
The connection is configured at connect time, before any statement runs:

- read_only: every write (INSERT, CREATE, DROP …) is refused by DuckDB;
- enable_external_access = false: no file other than the database itself can be read or written —
  no read_csv / read_parquet / read_text / glob of other paths, no COPY … TO, no EXPORT DATABASE,
  no ATTACH, no INSTALL / LOAD of extensions, no persistent secrets. The published file is opened
  by the connect call itself, before the setting applies, so it still opens;
- autoinstall / autoload of known extensions off: a query cannot pull in code;
- lock_configuration = true: no SET / RESET / PRAGMA can undo any of the above.

TEMP tables still work (they live in memory). `refusal()` turns DuckDB's error of a refused
statement into a plain message in Chinese and English.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}

READ_ONLY = ("已发布的仓库是只读的，不能修改（the published warehouse is read-only: INSERT, UPDATE, DELETE, "
             "CREATE, DROP … are refused）。需要中间结果请用 CREATE TEMP TABLE，或 --csv 导出后另行处理。")
FILES = ("只读查询只能读取已发布的仓库，不能读写其他文件（read_csv、read_parquet、COPY … TO、EXPORT、ATTACH 均被禁止）"
         " / a read-only query can read the published warehouse only: reading or writing any other file "
         "(read_csv, read_parquet, COPY … TO, EXPORT, ATTACH) is refused. 导出结果请用 kefu sql --csv / "
         "to export a result use kefu sql --csv.")
EXTENSIONS = ("不能安装或加载 DuckDB 扩展 / installing or loading DuckDB extensions is refused.")
LOCKED = ("只读连接的安全设置已锁定，不能用 SET / RESET / PRAGMA 修改 / the sandbox settings of this "
          "read-only connection are locked: SET, RESET and PRAGMA cannot change them.")
ATTACH = ("不能连接其他数据库（ATTACH）/ attaching another database is refused.")


def connect(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only, sandboxed connection to the DuckDB file at `path` (which must exist)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"published warehouse {p} does not exist yet: run the nightly DAG (or `make demo`) first")
    return duckdb.connect(str(p), read_only=True, config=dict(CONFIG))


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

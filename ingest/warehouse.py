"""The warehouse tables ingest writes: schema `raw` (one table per entity + history) and `audit`.

Layout (dbt reads these as sources; docs/ingest.md lists them):
- raw.<entity>: the current version of every key (newest wins: tickets by the
  latest updated_at, ties and other entities by the later export);
- raw.<entity>_superseded: the versions a newer one replaced;
- raw.<entity>_history: a view, raw.<entity> UNION ALL raw.<entity>_superseded = every version loaded;
  all with the contract's columns (PII columns replaced by <col>_hash and
  <col>_masked) + _file_id, _row_number, _export_date, _loaded_at;
- audit.load_log: one row per file seen; audit.quarantine: one row per bad cell;
  audit.source_columns: per loaded file, every contract column of its entity and whether the
  export had it (a missing rule input loads as NULL; docs/decisions.md D-90).
"""

from __future__ import annotations

import duckdb

from ingest import pii
from kefu import contract

SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "month": "VARCHAR",
    "enum": "VARCHAR",
}
META_COLUMNS = [
    ("_file_id", "BIGINT"),
    ("_row_number", "BIGINT"),
    ("_export_date", "DATE"),
    ("_loaded_at", "TIMESTAMP"),
]
# HMAC hex is incompressible noise: DuckDB's default (FSST) analysis and encoding of it cost ~0.6 µs a
# value on write and halve its size; stored uncompressed it is 64 bytes a value (docs/decisions.md D-170)
HASH_STORAGE = " USING COMPRESSION uncompressed"
VERSION_COLUMN = "updated_at"  # an entity with this column: the latest value wins


def stored_columns(ent: contract.Entity) -> list[tuple[str, str]]:
    """(column, SQL type) as stored in raw, PII replaced by hash + masked."""
    out: list[tuple[str, str]] = []
    for c in ent.columns:
        if c.pii:
            out += [(f"{c.name}_hash", "VARCHAR"), (f"{c.name}_masked", "VARCHAR")]
        else:
            out.append((c.name, SQL_TYPES[c.type]))
    return out + META_COLUMNS


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


LOAD_LOG_DDL = """
CREATE TABLE IF NOT EXISTS audit.load_log (
    file_id BIGINT,            -- also raw.*._file_id and audit.quarantine.file_id
    file_name VARCHAR,         -- path relative to the landing folder, e.g. 2026-03-05/话务详单_20260305.csv
    sha256 VARCHAR,
    size_bytes BIGINT,
    entity VARCHAR,
    source VARCHAR,            -- source system (call_centre, ticket_system, ...)
    mapping VARCHAR,           -- ingest/mappings/<mapping>.yml that read it
    export_date DATE,
    encoding VARCHAR,          -- utf-8 | utf-8-sig | gb18030 | xlsx
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_quarantined BIGINT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    status VARCHAR,            -- loaded | rejected | duplicate
    reason VARCHAR,            -- rejected: the reason code (kefu/reasons.py)
    message VARCHAR,           -- what happened, incl. ignored extra columns
    moved_to VARCHAR           -- where the file went afterwards (archive / rejected folder); NULL = not yet
)"""

QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS audit.quarantine (
    file_id BIGINT,
    file_name VARCHAR,
    row_number BIGINT,         -- the row a person sees in Excel / a text editor (header counted)
    column_name VARCHAR,
    reason VARCHAR,            -- reason code (kefu/reasons.py)
    message VARCHAR,
    row_text VARCHAR           -- the original row, PII cells masked
)"""


SOURCE_COLUMNS_DDL = """
CREATE TABLE IF NOT EXISTS audit.source_columns (
    file_id BIGINT,            -- audit.load_log.file_id of the loaded file
    entity VARCHAR,
    source VARCHAR,            -- source system the mapping names (ticket_system, ...)
    file_name VARCHAR,
    business_date DATE,        -- the file's export (business) date
    column_name VARCHAR,       -- a contract column of the entity
    present BOOLEAN            -- false: the export lacked it (and no mapping supplied it): loaded as NULL
)"""


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas and tables that do not exist yet; add contract columns that are new."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute("CREATE SEQUENCE IF NOT EXISTS audit.file_id_seq START 1")
    con.execute(LOAD_LOG_DDL)
    con.execute("ALTER TABLE audit.load_log ADD COLUMN IF NOT EXISTS moved_to VARCHAR")
    con.execute(QUARANTINE_DDL)
    con.execute(SOURCE_COLUMNS_DDL)
    existing: dict[str, set[str]] = {}
    for t, c in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'raw'"
    ).fetchall():
        existing.setdefault(t, set()).add(c)
    for ent in contract.load().values():
        cols = stored_columns(ent)
        hashes = {f"{c}_hash" for c, _ in pii_columns(ent)}
        for table in (ent.name, f"{ent.name}_superseded"):
            if table not in existing:
                body = ", ".join(f"{q(n)} {t}{HASH_STORAGE if n in hashes else ''}" for n, t in cols)
                con.execute(f"CREATE TABLE raw.{q(table)} ({body})")
            else:
                for n, t in cols:
                    if n not in existing[table]:
                        con.execute(f"ALTER TABLE raw.{q(table)} ADD COLUMN {q(n)} {t}")
        names = ", ".join(q(n) for n, _ in cols)
        con.execute(
            f"CREATE OR REPLACE VIEW raw.{q(ent.name + '_history')} AS "
            f"SELECT {names} FROM raw.{q(ent.name)} UNION ALL SELECT {names} FROM raw.{q(ent.name + '_superseded')}"
        )


def pii_columns(ent: contract.Entity) -> list[tuple[str, str]]:
    return [(c.name, pii.kind_of(c.name)) for c in ent.columns if c.pii]

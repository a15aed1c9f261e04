"""raw's *_hash columns (HMAC hex, incompressible) are stored uncompressed; a warehouse made before keeps
its tables as they are and loads on (docs/decisions.md D-170)."""

import duckdb

from ingest import warehouse
from kefu import contract


def _compression(con, table: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for col, comp in con.execute(
        f"SELECT column_name, compression FROM pragma_storage_info('raw.{table}') WHERE segment_type = 'VARCHAR'"
    ).fetchall():
        out.setdefault(col, set()).add(comp)
    return out


def _fill(con, table: str = "customers") -> None:
    con.execute(
        f"INSERT INTO raw.{table} (customer_id, phone_hash, phone_masked) SELECT 'C' || lpad(i::VARCHAR, 9, '0'), "
        "sha256(i::VARCHAR), '131****' || lpad((i % 10000)::VARCHAR, 4, '0') FROM range(20000) t(i)"
    )
    con.execute("CHECKPOINT")


def test_a_new_warehouse_stores_hashes_uncompressed_and_the_rest_as_duckdb_chooses(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    warehouse.ensure(con)
    _fill(con)
    comp = _compression(con, "customers")
    assert comp["phone_hash"] == {"Uncompressed"}
    assert comp["customer_id"] != {"Uncompressed"} and comp["phone_masked"] != {"Uncompressed"}
    ddl = con.execute("SELECT sql FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = 'calls'").fetchone()[
        0
    ]
    assert "caller_phone_hash VARCHAR USING COMPRESSION" in ddl and "caller_phone_masked VARCHAR," in ddl


def test_a_warehouse_made_before_keeps_its_tables_and_loads_on(tmp_path):
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute("CREATE SCHEMA raw")
    cols = ", ".join(f"{warehouse.q(n)} {t}" for n, t in warehouse.stored_columns(contract.load()["customers"]))
    con.execute(f"CREATE TABLE raw.customers ({cols})")  # as ensure() created it before D-170
    warehouse.ensure(con)
    _fill(con)
    assert con.execute("SELECT count(DISTINCT phone_hash) FROM raw.customers").fetchone()[0] == 20000
    assert "Uncompressed" not in _compression(con, "customers")["phone_hash"]

"""Loading behaviour on small sample exports: formats, idempotency, versions, atomicity, mappings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from generator import samples
from generator.formats import FORMATS, ExportWriter
from ingest import config, pii
from ingest.loader import CRASH_ENV, ingest
from kefu.vault import Vault

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 5)
META = {"_file_id", "_loaded_at"}


def _cfg():
    return config.load(None, demo_key=True)


def _run(landing: Path, wh: Path):
    return ingest(landing, wh, _cfg(), progress=False)


def _table(wh: Path, table: str, drop: set[str] = META) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        cols = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = ? "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
            if r[0] not in drop
        ]
        return con.execute(f"SELECT {', '.join(cols)} FROM raw.{table} ORDER BY ALL").fetchall()
    finally:
        con.close()


def _query(wh: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _references(landing: Path, day: date = DAY) -> None:
    samples.write_day(landing, day, {"districts": 5, "technicians": 10})


@pytest.mark.parametrize("variant", ["gbk", "utf-8-sig", "xlsx"])
def test_gbk_bom_and_xlsx_exports_of_the_same_rows_give_identical_tables(tmp_path, variant):
    base = tmp_path / "base"
    _references(base / "landing")
    samples.write(base / "landing" / DAY.isoformat() / "话务详单_20260305.csv", "calls", DAY, 300)
    _run(base / "landing", base / "w.duckdb")

    other = tmp_path / variant
    _references(other / "landing")
    fmt = FORMATS["calls"]
    fmt = (
        replace(fmt, ext="xlsx", encoding=None, ts_style="excel", date_style="excel", title_row="话务详单导出")
        if variant == "xlsx"
        else replace(fmt, encoding=variant)
    )
    path = other / "landing" / DAY.isoformat() / fmt.file_name("20260305")
    w = ExportWriter(path, fmt, created=datetime(2026, 3, 5))
    w.write_all(samples.rows("calls", DAY, 300))
    w.close()
    _run(other / "landing", other / "w.duckdb")

    drop = META | {"_row_number"}  # the XLSX title rows shift the row numbers by 2
    assert len(_table(base / "w.duckdb", "calls")) == 300
    assert _table(other / "w.duckdb", "calls", drop) == _table(base / "w.duckdb", "calls", drop)
    if variant == "xlsx":
        assert _query(other / "w.duckdb", "SELECT min(_row_number) FROM raw.calls") == [(4,)]


def test_reingesting_is_a_noop_and_a_resent_copy_is_logged_as_duplicate(tmp_path):
    landing = tmp_path / "landing"
    _references(landing)
    samples.write(landing / DAY.isoformat() / "话务详单_20260305.csv", "calls", DAY, 50)
    _run(landing, tmp_path / "w.duckdb")
    before = _table(tmp_path / "w.duckdb", "calls")
    archived = tmp_path / "archive" / DAY.isoformat() / "话务详单_20260305.csv"
    assert archived.exists() and not any(landing.rglob("*.csv"))

    vault = Vault.for_home(tmp_path)  # the archive is encrypted (D-97): the clear file, as rebuild reads it
    vault.decrypt_file(archived, landing / DAY.isoformat() / "话务详单_20260305.csv")  # the same file again
    vault.decrypt_file(archived, landing / DAY.isoformat() / "话务详单_20260305_补传.csv")  # re-sent under a new name
    s = _run(landing, tmp_path / "w.duckdb")
    assert s.count("duplicate") == 2 and s.count("loaded") == 0
    assert _table(tmp_path / "w.duckdb", "calls") == before
    assert _query(
        tmp_path / "w.duckdb",
        "SELECT status, count(*) FROM audit.load_log WHERE entity = 'calls' OR entity IS NULL GROUP BY 1 ORDER BY 1",
    ) == [("duplicate", 2), ("loaded", 1)]
    assert len(list((tmp_path / "archive").rglob("话务详单_*"))) == 3  # archived, never deleted


def _ticket(status: str, updated: datetime, resolved: datetime | None) -> dict:
    row = next(samples.rows("tickets", DAY, 1))
    row.update(
        ticket_id="GD-1",
        status=status,
        updated_at=updated,
        resolved_at=resolved,
        closed_at=None,
        opened_at=datetime(2026, 3, 5, 9, 0),
        customer_id="C1",
    )
    return row


def _write_tickets(landing: Path, day: date, rows: list[dict], suffix: str = "") -> None:
    fmt = FORMATS["tickets"]
    path = landing / day.isoformat() / f"{fmt.file_stem}_{day:%Y%m%d}{suffix}.csv"
    w = ExportWriter(path, fmt, created=datetime(2026, 3, 5))
    w.write_all(rows)
    w.close()


def test_a_ticket_reexported_with_a_new_status_updates_it_and_keeps_history(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "w.duckdb"
    _references(landing)
    _write_tickets(landing, DAY, [_ticket("open", datetime(2026, 3, 5, 9, 0), None)])
    _run(landing, wh)
    day2 = DAY + timedelta(days=1)
    _write_tickets(landing, day2, [_ticket("resolved", datetime(2026, 3, 6, 11, 0), datetime(2026, 3, 6, 11, 0))])
    _run(landing, wh)
    assert _query(wh, "SELECT status, resolved_at FROM raw.tickets") == [("resolved", datetime(2026, 3, 6, 11, 0))]
    assert _query(wh, "SELECT status, _export_date FROM raw.tickets_history ORDER BY updated_at") == [
        ("open", DAY),
        ("resolved", day2),
    ]
    # a late re-send of the older version does not win: the newest updated_at does
    late = _ticket("open", datetime(2026, 3, 5, 9, 0), None) | {"summary": "late re-send of the first version"}
    _write_tickets(landing, day2 + timedelta(days=1), [late], "_补传")
    _run(landing, wh)
    assert _query(wh, "SELECT status FROM raw.tickets") == [("resolved",)]
    assert _query(wh, "SELECT count(*) FROM raw.tickets_history") == [(3,)]


def test_the_same_updated_at_in_a_later_export_wins(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "w.duckdb"
    _references(landing)
    t = datetime(2026, 3, 5, 9, 0)
    _write_tickets(landing, DAY, [_ticket("open", t, None)])
    _write_tickets(landing, DAY + timedelta(days=1), [_ticket("reopened", t, None)])
    _run(landing, wh)
    assert _query(wh, "SELECT status FROM raw.tickets") == [("reopened",)]


def _cli(landing: Path, wh: Path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {CRASH_ENV, config.ENV_KEY}}
    env.update(env_extra or {})
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kefu.cli",
            "ingest",
            "--landing",
            str(landing),
            "--warehouse",
            str(wh),
            "--demo-key",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _two_days(landing: Path) -> None:
    _references(landing)
    for i, d in enumerate([DAY, DAY + timedelta(days=1)]):
        folder = landing / d.isoformat()
        samples.write(folder / f"话务详单_{d:%Y%m%d}.csv", "calls", d, 3000, start=i * 3000)
        samples.write(folder / f"工单明细_{d:%Y%m%d}.csv", "tickets", d, 200, start=i * 100)
        samples.write(folder / f"客户资料_{d:%Y%m%d}.csv", "customers", d, 100, start=i * 100)


def _snapshot(wh: Path) -> dict:
    out = {t: _table(wh, t) for t in ("calls", "tickets", "tickets_history", "customers")}
    out["log"] = _query(
        wh,
        "SELECT file_name, status, rows_read, rows_loaded, rows_quarantined FROM audit.load_log "
        "ORDER BY file_name, status",
    )
    out["quarantine"] = _query(
        wh, "SELECT file_name, row_number, column_name, reason FROM audit.quarantine ORDER BY ALL"
    )
    return out


@pytest.mark.parametrize("stage", ["before_commit", "after_commit"])
def test_a_process_killed_mid_load_then_rerun_reconciles_exactly(tmp_path, stage):
    clean = tmp_path / "clean"
    _two_days(clean / "landing")
    assert _cli(clean / "landing", clean / "w.duckdb").returncode == 0

    crashed = tmp_path / "crashed"
    _two_days(crashed / "landing")
    needle = f"话务详单_{DAY + timedelta(days=1):%Y%m%d}"
    died = _cli(crashed / "landing", crashed / "w.duckdb", {CRASH_ENV: f"{stage}:{needle}"})
    assert died.returncode == 86, died.stderr
    loaded_calls = _query(crashed / "w.duckdb", "SELECT count(*) FROM raw.calls")[0][0]
    assert loaded_calls == (3000 if stage == "before_commit" else 6000)  # nothing of the killed file, or all
    assert (crashed / "landing" / (DAY + timedelta(days=1)).isoformat() / f"{needle}.csv").exists()

    rerun = _cli(crashed / "landing", crashed / "w.duckdb")
    assert rerun.returncode == 0, rerun.stderr
    assert _snapshot(crashed / "w.duckdb") == _snapshot(clean / "w.duckdb")
    assert not any((crashed / "landing").rglob("*.csv"))


def test_the_foreign_format_mapping_loads_its_example_file(tmp_path):
    landing = tmp_path / "landing"
    folder = landing / "2026-03-05"
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "ingest" / "examples" / "helpdesk_tickets_2026-03-05.csv", folder)
    s = _run(landing, tmp_path / "w.duckdb")
    assert s.count("loaded") == 1
    rows = _query(
        tmp_path / "w.duckdb",
        "SELECT ticket_id, ticket_type, product, severity, customer_tier, status, "
        "opened_at, answered_on_spot, summary_masked FROM raw.tickets ORDER BY ticket_id",
    )
    assert len(rows) == 5
    assert rows[0] == (
        "HD-1001",
        "fault",
        "hd_interactive",
        "emergency",
        "red_vip",
        "resolved",
        datetime(2026, 3, 5, 14, 3),
        None,
        "Customer called from 138****5678: no picture",
    )
    assert rows[1][7] is True
    log = _query(tmp_path / "w.duckdb", "SELECT source, mapping, rows_read, rows_loaded, message FROM audit.load_log")
    assert log[0][:4] == ("branch_helpdesk", "example_helpdesk_en", 5, 5)
    assert "Branch Office" in log[0][4]


def test_no_pii_column_of_raw_holds_a_clear_value(tmp_path):
    landing = tmp_path / "landing"
    _references(landing)
    samples.write_day(landing, DAY, {"customers": 200, "calls": 200, "tickets": 50})
    _run(landing, tmp_path / "w.duckdb")
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    for (table,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
    ).fetchall():
        cols = [
            c
            for c, t in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'raw' "
                "AND table_name = ?",
                [table],
            ).fetchall()
            if t == "VARCHAR"
        ]
        for c in cols:
            if c.endswith("_hash"):  # hex digests: 64 hex digits, nothing else
                assert (
                    con.execute(
                        f"SELECT count(*) FROM raw.{table} WHERE NOT regexp_full_match({c}, '[0-9a-f]{{64}}')"
                    ).fetchone()[0]
                    == 0
                )
                continue
            hits = con.execute(
                f"SELECT count(*) FROM raw.{table} WHERE regexp_matches({c}, '1[3-9]\\d{{9}}') "
                f"OR regexp_matches({c}, '\\d{{17}}[\\dX]') OR contains({c}, '小明') "
                f"OR contains({c}, '文三路')"
            ).fetchone()[0]
            assert hits == 0, f"raw.{table}.{c} holds clear personal data"
    phone = next(samples.rows("customers", DAY, 1))["phone"]
    assert con.execute(
        "SELECT phone_hash, phone_masked FROM raw.customers ORDER BY customer_id LIMIT 1"
    ).fetchone() == (pii.hmac_hex(phone, pii.DEMO_KEY), pii.mask(phone, "phone"))

"""End to end: `kefu generate --faults` (one demo month) ingested; every planted fault accounted for."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from generator.run import generate
from ingest import config
from ingest.loader import ingest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("demo_faults")
    generate(preset="demo", seed=1, months=1, out=out, faults=True, progress=False)
    with open(out / "expected" / "faults.csv", encoding="utf-8", newline="") as fh:
        manifest = list(csv.DictReader(fh))
    names = []
    with open(next((out / "landing").glob("*/客户资料_*.csv")), encoding="utf-8-sig", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            names.append(row["客户姓名"])
            if i > 300:
                break
    summary = ingest(out / "landing", out / "warehouse.duckdb", config.load(None, demo_key=True), progress=False)
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    yield {"out": out, "manifest": manifest, "summary": summary, "con": con, "names": names}
    con.close()


def _rel(file: str) -> str:
    return file.removeprefix("landing/")


def test_the_manifest_plants_every_kind_of_fault(run):
    from generator.faults import FAULT_KINDS

    assert {f["reason"] for f in run["manifest"]} == set(FAULT_KINDS)


def test_every_quarantine_fault_is_quarantined_at_its_row_with_its_reason(run):
    con = run["con"]
    got = {
        (f, r, c, reason)
        for f, r, c, reason in con.execute(
            "SELECT file_name, row_number, coalesce(column_name, ''), reason FROM audit.quarantine"
        ).fetchall()
    }
    for f in (f for f in run["manifest"] if f["expected"] == "quarantine"):
        want = (_rel(f["file"]), int(f["row"]), f["column"], f["reason"])
        if f["reason"] == "truncated_row":  # the reader names the first missing cell, the manifest none
            assert any(g[0] == want[0] and g[1] == want[1] and g[3] == want[3] for g in got), want
        else:
            assert want in got, want


def test_nothing_but_the_planted_faults_is_quarantined(run):
    planted = Counter((_rel(f["file"]), int(f["row"])) for f in run["manifest"] if f["expected"] == "quarantine")
    rows = run["con"].execute("SELECT DISTINCT file_name, row_number FROM audit.quarantine").fetchall()
    assert Counter(rows) == Counter(set(planted))


def test_rejected_files_load_nothing_are_logged_with_the_reason_and_moved_aside(run):
    con, out = run["con"], run["out"]
    for f in (f for f in run["manifest"] if f["expected"] == "reject"):
        name = _rel(f["file"])
        status, reason, message, loaded = con.execute(
            "SELECT status, reason, message, rows_loaded FROM audit.load_log WHERE file_name = ?", [name]
        ).fetchone()
        assert (status, reason, loaded) == ("rejected", f["reason"], 0)
        assert Path(name).name in message
        assert (out / "rejected" / name).exists() and not (out / "landing" / name).exists()
        if f["column"]:
            assert f["column"] in message


def test_load_faults_load_extra_columns_are_noted_and_title_rows_skipped(run):
    con = run["con"]
    for f in (f for f in run["manifest"] if f["expected"] == "load"):
        status, read, loaded, message = con.execute(
            "SELECT status, rows_read, rows_loaded, coalesce(message, '') FROM audit.load_log WHERE file_name = ?",
            [_rel(f["file"])],
        ).fetchone()
        assert status == "loaded" and read == loaded > 0
        if f["reason"] == "extra_column":
            assert "营销活动编号" in message


def test_every_file_reads_exactly_loaded_plus_quarantined_and_good_rows_around_faults_load(run):
    con = run["con"]
    assert (
        con.execute("SELECT count(*) FROM audit.load_log WHERE rows_read <> rows_loaded + rows_quarantined").fetchone()[
            0
        ]
        == 0
    )
    per_file = Counter(_rel(f["file"]) for f in run["manifest"] if f["expected"] == "quarantine")
    for name, n in per_file.items():
        read, loaded, bad = con.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined FROM audit.load_log "
            "WHERE file_name = ? AND status = 'loaded'",
            [name],
        ).fetchone()
        assert bad == n and loaded == read - n > 0, name
    assert (
        run["summary"].count("loaded")
        == con.execute("SELECT count(*) FROM audit.load_log WHERE status = 'loaded'").fetchone()[0]
    )


def test_no_clear_personal_data_in_raw_or_quarantine(run):
    con = run["con"]
    cols = con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_schema IN ('raw', 'audit') AND data_type = 'VARCHAR' "
        "AND column_name NOT LIKE '%\\_hash' ESCAPE '\\' AND column_name <> 'sha256'"
    ).fetchall()
    names = [n for n in run["names"] if len(n) >= 2]
    assert names
    name_list = "[" + ", ".join(f"'{n}'" for n in names) + "]"
    for schema, table, col in cols:
        c = f'"{col}"'
        clear = con.execute(
            f"SELECT count(*) FROM {schema}.{table} WHERE regexp_matches({c}, '1[3-9]\\d{{9}}') "
            f"OR regexp_matches({c}, '\\d{{17}}[\\dX]') OR list_has_any(regexp_extract_all({c}, '[^,(（]+'), "
            f"{name_list})"
        ).fetchone()[0]
        assert clear == 0, f"{schema}.{table}.{col}"


def test_reingesting_the_archive_is_a_noop(run, tmp_path):
    out, con = run["out"], run["con"]
    before = con.execute("SELECT count(*) FROM raw.calls_history").fetchone()[0]
    day = sorted((out / "archive").iterdir())[3]
    landing = tmp_path / "landing"
    import shutil

    from kefu.vault import Vault, restore_tree

    restore_tree(Vault.for_home(out), day, landing / day.name)  # the archive is encrypted (D-97)
    wh = tmp_path / "w.duckdb"
    shutil.copy(out / "warehouse.duckdb", wh)
    s = ingest(landing, wh, config.load(None, demo_key=True), archive=tmp_path / "archive", progress=False)
    assert s.count("loaded") == 0 and s.count("duplicate") == len(s.results) > 0
    c2 = duckdb.connect(str(wh), read_only=True)
    assert c2.execute("SELECT count(*) FROM raw.calls_history").fetchone()[0] == before
    c2.close()

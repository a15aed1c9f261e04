"""The fault corpus of issue 22 ("nothing lost, nothing silent"): one small file per hostile input.

Every case is written here, by the test, from a clean sample export (generator.samples) with the fault
planted by hand: line endings mixed, an oversized cell, numbers that are not plain integers, an XLSX
header merged over two columns, an empty file, undecodable bytes in a known row and column, a workbook
whose data is on its second sheet. Each test asserts the outcome (loaded / quarantined with which reason
/ rejected with which message) and, for every loaded file, the exact reconciliation

    rows_read = rows_loaded + rows_quarantined = the data lines of the file (counted here, by hand).

A rejected file loads nothing, is moved to rejected/ unchanged, and its load-log row says why.
The publish windows (a kill after the copy, after the switch) run through the ingest crash hook.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest

from generator import samples
from ingest import config
from ingest.loader import CRASH_ENV, ingest
from kefu import contract

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 5)
STAMP = f"{DAY:%Y%m%d}"


# --------------------------------------------------------------------------- helpers


def _day(tmp_path: Path) -> Path:
    """landing/ with the day's reference lists (districts, technicians) already in it; returns the day folder."""
    landing = tmp_path / "landing"
    samples.write_day(landing, DAY, {"districts": 5, "technicians": 10})
    return landing / DAY.isoformat()


def _run(tmp_path: Path):
    return ingest(tmp_path / "landing", tmp_path / "w.duckdb", config.load(None, demo_key=True), progress=False)


def _q(tmp_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def _log(tmp_path: Path, name: str) -> dict:
    name = f"{DAY.isoformat()}/{name}"  # the load log names a file by its path under landing/
    rows = _q(
        tmp_path,
        "SELECT status, reason, message, rows_read, rows_loaded, rows_quarantined "
        "FROM audit.load_log WHERE file_name = ? ORDER BY file_id",
        [name],
    )
    assert len(rows) == 1, rows
    return dict(zip(("status", "reason", "message", "read", "loaded", "quarantined"), rows[0]))


def _quarantined(tmp_path: Path, name: str) -> list[tuple]:
    name = f"{DAY.isoformat()}/{name}"
    return _q(
        tmp_path,
        "SELECT row_number, column_name, reason FROM audit.quarantine WHERE file_name = ? ORDER BY ALL",
        [name],
    )


def _data_lines(data: bytes) -> int:
    """Data lines of a one-header CSV, counted on the bytes: every CRLF, LF or lone CR ends a line."""
    lines = re.split(rb"\r\n|\n|\r", data)
    if lines and lines[-1] == b"":
        lines.pop()
    return len(lines) - 1


def _reconciles(tmp_path: Path, name: str, data: bytes) -> dict:
    log = _log(tmp_path, name)
    assert log["status"] == "loaded", log
    assert log["read"] == log["loaded"] + log["quarantined"] == _data_lines(data), log
    return log


def _sample_csv(folder: Path, entity: str, n: int) -> Path:
    name = {"tickets": f"工单明细_{STAMP}.csv", "calls": f"话务详单_{STAMP}.csv"}[entity]
    path = folder / name
    samples.write(path, entity, DAY, n)
    return path


def _encoding(path: Path) -> str:
    return "gb18030" if path.name.startswith("话务详单") else "utf-8-sig"


def _set_cells(path: Path, column_zh: str, values: dict[int, str]) -> bytes:
    """Rewrite the CSV with cell `column_zh` of data row i (0-based) set to values[i]; same encoding, CRLF."""
    enc = _encoding(path)
    records = list(csv.reader(io.StringIO(path.read_bytes().decode(enc), newline="")))
    col = records[0].index(column_zh)
    for i, v in values.items():
        records[i + 1][col] = v
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(records)
    path.write_bytes(buf.getvalue().encode(enc))
    return path.read_bytes()


def _zh(entity: str, column: str) -> str:
    return contract.entity(entity).column(column).zh


# --------------------------------------------------------------------------- 1. line endings


@pytest.mark.parametrize("entity", ["tickets", "calls"])  # UTF-8 read in place / GB18030 transcoded
def test_mixed_crlf_and_lf_line_endings_account_for_every_line(tmp_path, entity):
    path = _sample_csv(_day(tmp_path), entity, 20)
    enc = _encoding(path)
    lines = path.read_bytes().decode(enc).split("\r\n")
    assert lines[-1] == "" and len(lines) == 22  # header + 20 rows, each ending in CRLF
    mixed = "".join(ln + ("\r\n" if i % 2 == 0 else "\n") for i, ln in enumerate(lines[:-1]))
    data = mixed.encode(enc)
    path.write_bytes(data)
    assert data.count(b"\r\n") == 11 and data.count(b"\n") == 21  # 11 CRLF, 10 bare LF
    _run(tmp_path)
    log = _reconciles(tmp_path, path.name, data)
    assert (log["read"], log["loaded"], log["quarantined"]) == (20, 20, 0)
    assert _q(tmp_path, f"SELECT count(*) FROM raw.{entity}") == [(20,)]
    if entity == "tickets":  # no cell keeps a stray CR of the CRLF lines
        assert _q(tmp_path, "SELECT count(*) FROM raw.tickets WHERE contains(summary_masked, chr(13))") == [(0,)]


# --------------------------------------------------------------------------- 2. oversized cells


def test_a_cell_over_131072_chars_in_the_header_scan_does_not_stop_the_day(tmp_path):
    folder = _day(tmp_path)
    tickets = _sample_csv(folder, "tickets", 5)
    calls = _sample_csv(folder, "calls", 4)
    big = "长" * 200_000  # in data row 2, line 3: within the 12 lines scanned for the header
    data = _set_cells(tickets, _zh("tickets", "summary"), {1: big})
    summary = _run(tmp_path)
    assert {r.file_name: r.status for r in summary.results}[f"{DAY.isoformat()}/{tickets.name}"] == "loaded"
    log = _reconciles(tmp_path, tickets.name, data)
    assert (log["read"], log["loaded"], log["quarantined"]) == (5, 5, 0)
    assert _q(tmp_path, "SELECT max(length(summary_masked)) FROM raw.tickets")[0][0] >= 200_000
    # the rest of the day loads
    assert _log(tmp_path, calls.name)["status"] == "loaded"
    assert _q(tmp_path, "SELECT count(*) FROM raw.calls") == [(4,)]


def test_a_line_over_the_line_limit_is_quarantined_and_the_day_goes_on(tmp_path):
    from ingest import readers

    MAX_LINE_SIZE = getattr(readers, "MAX_LINE_SIZE", 10_000_000)  # DuckDB's max_line_size in the loader
    folder = _day(tmp_path)
    tickets = _sample_csv(folder, "tickets", 5)
    calls = _sample_csv(folder, "calls", 4)
    data = _set_cells(tickets, _zh("tickets", "summary"), {2: "x" * (MAX_LINE_SIZE + 1)})  # data row 3 = row 4
    _run(tmp_path)
    log = _reconciles(tmp_path, tickets.name, data)
    assert (log["read"], log["loaded"], log["quarantined"]) == (5, 4, 1)
    ((row, _col, reason),) = _quarantined(tmp_path, tickets.name)
    assert (row, reason) == (4, "malformed_row")
    msg, shown = _q(tmp_path, "SELECT message, length(row_text) FROM audit.quarantine")[0]
    assert f"longer than {MAX_LINE_SIZE:,} characters" in msg and shown <= 4000
    assert _log(tmp_path, calls.name)["status"] == "loaded"


def test_no_reader_error_stops_the_night(tmp_path, monkeypatch):
    """Whatever a reader library raises on a hostile file rejects that file only; the next one loads."""
    from ingest import readers

    folder = _day(tmp_path)
    tickets = _sample_csv(folder, "tickets", 3)
    _sample_csv(folder, "calls", 4)
    real = readers.prepare

    def hostile(path, *a, **k):
        if path.name == tickets.name:
            raise csv.Error("field larger than field limit (131072)")
        return real(path, *a, **k)

    monkeypatch.setattr(readers, "prepare", hostile)
    summary = _run(tmp_path)
    assert [r.status for r in summary.results if r.file_name.endswith(tickets.name)] == ["rejected"]
    log = _log(tmp_path, tickets.name)
    assert log["reason"] == "unreadable" and "field larger than field limit" in log["message"]
    assert (tmp_path / "rejected" / DAY.isoformat() / tickets.name).exists()
    assert _q(tmp_path, "SELECT count(*) FROM raw.calls") == [(4,)]


# --------------------------------------------------------------------------- 3. numbers


def test_integers_that_are_not_plain_digits_are_quarantined_bad_number(tmp_path):
    folder = _day(tmp_path)
    tickets = _sample_csv(folder, "tickets", 6)
    calls = _sample_csv(folder, "calls", 3)
    bad = {0: "1.5", 1: "1e3", 2: "0x10", 3: "1_000"}  # rows 2..5; rows 6 and 7 keep plain integers
    t_data = _set_cells(tickets, _zh("tickets", "reopen_count"), {**bad, 4: "2", 5: " 3 "})
    c_data = _set_cells(calls, _zh("calls", "talk_seconds"), {0: "12.5", 1: "60", 2: "+7"})
    _run(tmp_path)
    log = _reconciles(tmp_path, tickets.name, t_data)
    assert (log["read"], log["loaded"], log["quarantined"]) == (6, 2, 4)
    assert _quarantined(tmp_path, tickets.name) == [(r, "reopen_count", "bad_number") for r in (2, 3, 4, 5)]
    assert sorted(_q(tmp_path, "SELECT reopen_count FROM raw.tickets")) == [(2,), (3,)]
    log = _reconciles(tmp_path, calls.name, c_data)
    assert (log["read"], log["loaded"], log["quarantined"]) == (3, 2, 1)
    assert _quarantined(tmp_path, calls.name) == [(2, "talk_seconds", "bad_number")]
    assert sorted(_q(tmp_path, "SELECT talk_seconds FROM raw.calls")) == [(7,), (60,)]
    msg = _q(
        tmp_path,
        "SELECT message FROM audit.quarantine WHERE file_name = ? AND row_number = 2",
        [f"{DAY.isoformat()}/{calls.name}"],
    )[0][0]
    assert "'12.5'" in msg and "whole number" in msg


def _callbacks_xlsx(folder: Path, n: int = 3) -> Path:
    path = folder / f"回访记录_{STAMP}.xlsx"
    samples.write(path, "callbacks", DAY, n)
    return path


def _header_row(ws, zh: str) -> int:
    return next(r for r in range(1, 10) if zh in [c.value for c in ws[r]])


def test_an_xlsx_header_merged_over_a_date_and_a_time_column_is_rejected_naming_it(tmp_path):
    path = _callbacks_xlsx(_day(tmp_path))
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    zh = _zh("callbacks", "callback_at")
    hr = _header_row(ws, zh)
    col = [c.value for c in ws[hr]].index(zh) + 1  # 1-based
    ws.insert_cols(col + 1)
    for r in range(hr + 1, ws.max_row + 1):  # the export's habit: the date in one column, the time beside it
        ts = ws.cell(r, col).value
        assert isinstance(ts, datetime)
        ws.cell(r, col).value, ws.cell(r, col + 1).value = ts.date(), ts.time()
    ws.merge_cells(start_row=hr, start_column=col, end_row=hr, end_column=col + 1)
    wb.save(path)
    data = path.read_bytes()
    _run(tmp_path)
    log = _log(tmp_path, path.name)
    letters = openpyxl.utils.get_column_letter
    assert (log["status"], log["reason"], log["read"], log["loaded"], log["quarantined"]) == (
        "rejected",
        "merged_header",
        0,
        0,
        0,
    )
    assert f"{zh} ({letters(col)}{hr}:{letters(col + 1)}{hr})" in log["message"]
    assert "合并" in log["message"]
    assert (tmp_path / "rejected" / DAY.isoformat() / path.name).read_bytes() == data  # kept whole
    assert _q(tmp_path, "SELECT count(*) FROM raw.callbacks") == [(0,)]


def test_merged_title_rows_above_the_header_still_load(tmp_path):
    path = _callbacks_xlsx(_day(tmp_path), 4)
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    hr = _header_row(ws, _zh("callbacks", "callback_at"))
    assert hr > 1
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)  # a title across the sheet
    wb.save(path)
    _run(tmp_path)
    log = _log(tmp_path, path.name)
    assert (log["status"], log["read"], log["loaded"], log["quarantined"]) == ("loaded", 4, 4, 0)


# --------------------------------------------------------------------------- 4. messages


def test_a_zero_byte_file_is_rejected_as_empty(tmp_path):
    folder = _day(tmp_path)
    path = folder / f"工单明细_{STAMP}.csv"
    path.write_bytes(b"")
    xlsx = folder / f"回访记录_{STAMP}.xlsx"
    xlsx.write_bytes(b"")
    _run(tmp_path)
    for p in (path, xlsx):
        log = _log(tmp_path, p.name)
        assert (log["status"], log["reason"], log["read"]) == ("rejected", "empty_file", 0), log
        assert "empty" in log["message"] and "空文件" in log["message"] and "header was" not in log["message"]
        assert (tmp_path / "rejected" / DAY.isoformat() / p.name).exists()


def test_a_file_of_blank_lines_is_rejected_as_empty(tmp_path):
    path = _day(tmp_path) / f"工单明细_{STAMP}.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    _run(tmp_path)
    log = _log(tmp_path, path.name)
    assert (log["status"], log["reason"]) == ("rejected", "empty_file")


@pytest.mark.parametrize("entity, bom", [("tickets", True), ("tickets", False), ("calls", False)])
def test_undecodable_bytes_are_named_by_row_and_column(tmp_path, entity, bom):
    """UTF-8 with BOM, UTF-8 without (GB18030 is tried and fails in the header), GBK (fails late)."""
    path = _sample_csv(_day(tmp_path), entity, 6)
    zh = _zh(entity, "summary" if entity == "tickets" else "agent_id")
    data = _set_cells(path, zh, {3: "BADBYTE"})  # data row 4 = row 5 of the file
    data = data.replace(b"BADBYTE", b"\xff\xfe\xfd")
    if not bom:
        data = data.removeprefix(b"\xef\xbb\xbf")
    path.write_bytes(data)
    header = data.decode(_encoding(path), errors="replace").lstrip("\ufeff").split("\r\n")[0].split(",")
    _run(tmp_path)
    log = _log(tmp_path, path.name)
    assert (log["status"], log["reason"]) == ("rejected", "encoding")
    assert f"row 5, column {header.index(zh) + 1} ({zh})" in log["message"], log["message"]
    assert "ff fe fd" in log["message"]
    assert "第5行" in log["message"]
    assert (tmp_path / "rejected" / DAY.isoformat() / path.name).read_bytes() == data


def test_an_xlsx_with_its_data_on_another_sheet_names_the_sheets(tmp_path):
    path = _callbacks_xlsx(_day(tmp_path))
    wb = openpyxl.load_workbook(path)
    wb.worksheets[0].title = "回访数据"
    notes = wb.create_sheet("说明", 0)
    notes.append(["本表由系统导出"])
    wb.save(path)
    _run(tmp_path)
    log = _log(tmp_path, path.name)
    assert log["status"] == "rejected" and log["reason"] in ("missing_column", "unrecognised_file")
    assert "'说明', '回访数据'" in log["message"], log["message"]
    assert "matching header: '回访数据'" in log["message"]


# --------------------------------------------------------------------------- 6. CSV for readers


def test_kefu_sql_csv_neutralises_formula_leading_cells(capsys):
    from kefu import analyst

    con = duckdb.connect()
    rc = analyst.execute(
        con,
        "SELECT '=HYPERLINK(\"http://x\",\"y\")' AS a, '+86 138' AS b, '-1+2' AS c, "
        "'@SUM(A1)' AS d, chr(9) || 'x' AS e, chr(13) || 'y' AS f, 'plain' AS g, "
        "-5 AS n, 2.5 AS x",
        as_csv=True,
    )
    assert rc == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out, newline="")))
    assert rows[0] == list("abcdefgnx")
    assert rows[1] == [
        '\'=HYPERLINK("http://x","y")',
        "'+86 138",
        "'-1+2",
        "'@SUM(A1)",
        "'\tx",
        "'\ry",
        "plain",
        "-5",
        "2.5",
    ]


def test_dashboard_csv_downloads_neutralise_formula_leading_cells():
    import pandas as pd

    from kefu.safe_text import csv_bytes

    frame = pd.DataFrame({"名称": ["=1+1", "ok", None], "n": [-3, 4, 5]})
    text = csv_bytes(frame).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["名称", "n"], ["'=1+1", "-3"], ["ok", "4"], ["", "5"]]


# --------------------------------------------------------------------------- 5. publish windows


def _home(tmp_path: Path, value: int) -> Path:
    root = tmp_path / "home"
    (root / "warehouse").mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(root / "warehouse" / "kefu.duckdb"))
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute("CREATE OR REPLACE TABLE marts.m AS SELECT ? AS v", [value])
    con.close()
    return root


def _publish(root: Path, day: date, crash: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash:
        env[CRASH_ENV] = crash
    env["PYTHONPATH"] = str(ROOT)
    code = (
        "import sys; from datetime import date; from kefu.home import Home; from kefu.pipeline import publish; from pathlib import Path; "
        f"print(publish(Home(Path({str(root)!r})), date.fromisoformat({day.isoformat()!r}), 'run_' + {day.isoformat()!r}))"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)


def _seen(root: Path) -> tuple[str | None, int]:
    """What a reader sees: the manifest's business date, and the warehouse content it belongs to."""
    from kefu.home import connect_published, read_manifest

    pub = root / "published" / "kefu.duckdb"
    con = connect_published(pub)
    try:
        v = con.execute("SELECT v FROM marts.m").fetchone()[0]
    finally:
        con.close()
    return read_manifest(pub).get("business_date"), v


@pytest.mark.parametrize("stage", ["publish_copied", "publish_switched", "publish_manifest"])
def test_a_kill_during_publish_leaves_a_consistent_pair_and_no_stale_temporaries(tmp_path, stage):
    d1, d2 = date(2026, 3, 5), date(2026, 3, 6)
    root = _home(tmp_path, 1)
    assert _publish(root, d1).returncode == 0
    assert _seen(root) == ("2026-03-05", 1)
    _home(tmp_path, 2)  # the next night's warehouse
    died = _publish(root, d2, crash=stage)
    assert died.returncode == 86, died.stderr
    pub = root / "published"
    # whatever the moment, a reader sees a warehouse with the manifest of that very warehouse
    assert _seen(root) in {("2026-03-05", 1), ("2026-03-06", 2)}
    if stage == "publish_copied":
        assert list(pub.glob(".kefu.*.duckdb.tmp")), "the kill left its temporary copy"
        assert _seen(root) == ("2026-03-05", 1)
    else:
        assert _seen(root) == ("2026-03-06", 2)
    # the rerun of the night removes the temporaries and leaves manifest.json and the log consistent
    again = _publish(root, d2)
    assert again.returncode == 0, again.stderr
    assert not list(pub.glob(".*.tmp"))
    assert _seen(root) == ("2026-03-06", 2)
    assert json.loads((pub / "manifest.json").read_text(encoding="utf-8"))["business_date"] == "2026-03-06"
    log = [json.loads(ln)["business_date"] for ln in (pub / "publications.jsonl").read_text().splitlines()]
    assert log == ["2026-03-05", "2026-03-06"]

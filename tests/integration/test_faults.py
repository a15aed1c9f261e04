"""generator.faults: additive, deterministic faults with a manifest that points at them.

The clean landing folder is a small fixture written with generator.formats.ExportWriter
(every entity, six day folders) so these tests do not depend on the full generator.
"""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest

from generator import faults
from generator.formats import FORMATS, ExportWriter
from kefu import contract
from kefu.reasons import REASONS, outcome

DAYS = [date(2026, 1, 1) + timedelta(days=i) for i in range(6)]
DISTRICTS = ["D01", "D02", "D03", "D04"]
TECHNICIANS = ["T001", "T002", "T003", "T004", "T005", "T006"]
REFERENCE = {"districts", "technicians", "district_households"}
TS_PARSE = {
    "slash_s": "%Y/%m/%d %H:%M:%S",
    "slash_m": "%Y/%m/%d %H:%M",
    "cn_m": "%Y年%m月%d日 %H时%M分",
    "iso_s": "%Y-%m-%d %H:%M:%S",
}
REQUIRED_KINDS = {
    "bad_timestamp",
    "ambiguous_date",
    "bad_enum",
    "negative_duration",
    "end_before_start",
    "duplicate_key",
    "missing_value",
    "truncated_row",
    "unknown_reference",
    "encoding",
    "missing_column",
    "extra_column",
    "title_row",
}


# --------------------------------------------------------------------------- the clean fixture


def _row(entity: str, day: date, i: int) -> dict:
    """A contract-valid row; timestamps grow along the columns, so every milestone follows the one before."""
    ent = contract.entity(entity)
    base = datetime.combine(day, time(8)) + timedelta(minutes=37 * i, seconds=11 * i)
    row: dict = {}
    for k, c in enumerate(ent.columns):
        if c.name == "district_id":
            v = DISTRICTS[i % len(DISTRICTS)]
        elif c.name == "technician_id":
            v = TECHNICIANS[i % len(TECHNICIANS)]
        elif c.name == "customer_id":
            v = f"C{i:05d}" if entity == "customers" else f"C{i % 20:05d}"
        elif c.key and c.type == "string":
            v = f"{entity[:3].upper()}{day:%Y%m%d}{i:04d}"
        elif not c.required and i % 3 == 0:
            v = None
        elif c.type == "enum":
            v = list(c.values)[(i + k) % len(c.values)]
        elif c.type == "boolean":
            v = (i + k) % 2 == 0
        elif c.type == "timestamp":
            v = base + timedelta(minutes=5 * k)
        elif c.type == "date":
            v = day
        elif c.type == "month":
            v = f"{day:%Y-%m}"
        elif c.type in {"integer", "number"}:
            v = 30 + 7 * i + k
        elif c.name == "summary":
            v = "客户反映,信号差" if i % 2 else "无"
        else:
            v = f"{c.name[:4]}{i}"
        row[c.name] = v
    return row


def _write(out: Path, entity: str, day: date, rows: list[dict]) -> None:
    fmt = FORMATS[entity]
    w = ExportWriter(
        out / "landing" / day.isoformat() / fmt.file_name(f"{day:%Y%m%d}"),
        fmt,
        created=datetime.combine(day, time(23, 59)),
    )
    w.write_all(rows)
    w.close()


def build_clean_landing(out: Path) -> None:
    for n, day in enumerate(DAYS):
        if n == 0:
            _write(out, "districts", day, [_row("districts", day, i) for i in range(len(DISTRICTS))])
            _write(out, "technicians", day, [_row("technicians", day, i) for i in range(len(TECHNICIANS))])
            _write(out, "customers", day, [_row("customers", day, i) for i in range(20)])
        elif n % 2 == 0:
            _write(out, "customers", day, [_row("customers", day, 100 * n + i) for i in range(3)])
        if n == 3:
            _write(out, "technicians", day, [_row("technicians", day, i) for i in range(len(TECHNICIANS))])
        for entity in contract.load():
            if entity in REFERENCE or entity == "customers":
                continue
            _write(out, entity, day, [_row(entity, day, i) for i in range(8)])


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    build_clean_landing(out)
    return out


def _injected(clean: Path, tmp_path_factory, name: str, seed: int) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp(name)
    shutil.copytree(clean / "landing", out / "landing")
    return out, faults.inject(out, seed)


@pytest.fixture(scope="module")
def run_a(clean, tmp_path_factory):
    return _injected(clean, tmp_path_factory, "a", 11)


@pytest.fixture(scope="module")
def run_b(clean, tmp_path_factory):
    return _injected(clean, tmp_path_factory, "b", 11)


@pytest.fixture(scope="module")
def run_c(clean, tmp_path_factory):
    return _injected(clean, tmp_path_factory, "c", 12)


def _fmt_of(path: Path):
    return next(f for f in FORMATS.values() if path.name.startswith(f.file_stem + "_") and path.suffix == "." + f.ext)


def _csv_records(path: Path) -> tuple[list[str], list[list[str]]]:
    fmt = _fmt_of(path)
    text = path.read_bytes().decode(fmt.encoding or "utf-8")
    records = list(csv.reader(io.StringIO(text, newline="")))
    return records[0], records[1:]


def _files(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in (root / "landing").rglob("*") if p.is_file())
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


def _by_reason(manifest: list[dict], reason: str) -> list[dict]:
    return [m for m in manifest if m["reason"] == reason]


# --------------------------------------------------------------------------- the manifest


def test_manifest_csv_holds_the_returned_rows(run_a):
    out, manifest = run_a
    with open(out / "expected" / "faults.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["file", "row", "column", "reason", "expected", "detail"]
    assert rows == [{**m, "row": "" if m["row"] is None else str(m["row"])} for m in manifest]


def test_every_reason_is_a_known_code_with_its_outcome(run_a):
    _, manifest = run_a
    for m in manifest:
        assert m["reason"] in REASONS
        assert m["expected"] == outcome(m["reason"])


def test_every_fault_kind_is_planted_at_least_once(run_a):
    _, manifest = run_a
    assert {m["reason"] for m in manifest} >= REQUIRED_KINDS


def test_faults_are_spread_over_day_folders_and_entities(run_a):
    _, manifest = run_a
    folders = {m["file"].split("/")[1] for m in manifest}
    entities = {_fmt_of(Path(m["file"])).entity for m in manifest if m["row"] is not None}
    assert len(folders) >= 5
    assert len(entities) >= 6


def test_every_row_fault_shows_its_detail_in_the_named_column(run_a):
    out, manifest = run_a
    row_faults = [m for m in manifest if m["row"] is not None]
    assert len(row_faults) >= 20
    for m in row_faults:
        path = out / m["file"]
        assert path.is_file(), m
        header, records = _csv_records(path)
        record = records[m["row"] - 2]  # row 1 is the header
        if m["reason"] == "truncated_row":
            assert m["row"] == len(records) + 1, "the cut row is the file's last"
            assert len(record) < len(header)
            continue
        zh = contract.entity(_fmt_of(path).entity).column(m["column"]).zh
        assert record[header.index(zh)] == m["detail"], m


def test_file_faults_point_at_new_files_that_exist(run_a, clean):
    out, manifest = run_a
    for m in manifest:
        assert (out / m["file"]).is_file(), m
        if m["row"] is None:
            assert not (clean / m["file"]).exists(), "a whole-file fault must be a new file"
            assert m["file"].rsplit(".", 1)[0].endswith(faults.FAULT_SUFFIXES)


# --------------------------------------------------------------------------- additive only


def test_clean_bytes_are_untouched(run_a, clean):
    out, manifest = run_a
    before, after = _files(clean), _files(out)
    appended = {m["file"] for m in manifest if m["row"] is not None}
    new = {m["file"] for m in manifest if m["row"] is None}
    assert set(after) == set(before) | new
    for name, data in before.items():
        if name in appended:
            assert after[name].startswith(data) and len(after[name]) > len(data)
        else:
            assert after[name] == data, name


def test_appended_rows_carry_new_ids_or_exact_copies(run_a, clean):
    out, manifest = run_a
    clean_keys: dict[str, set[str]] = {}
    for p in (clean / "landing").rglob("*.csv"):
        ent = contract.entity(_fmt_of(p).entity)
        header, records = _csv_records(p)
        clean_keys.setdefault(ent.name, set()).update(r[header.index(ent.column(ent.key[0]).zh)] for r in records)
    for m in manifest:
        if m["row"] is None:
            continue
        path = out / m["file"]
        ent = contract.entity(_fmt_of(path).entity)
        header, records = _csv_records(path)
        record = records[m["row"] - 2]
        key = record[header.index(ent.column(ent.key[0]).zh)]
        if m["reason"] == "duplicate_key":
            assert record in records[: m["row"] - 2], "a duplicate is an exact copy of an earlier row"
        else:
            assert key not in clean_keys[ent.name], m


def test_appended_lines_keep_crlf_and_the_file_date_style(run_a, clean):
    out, manifest = run_a
    for name in {m["file"] for m in manifest if m["row"] is not None}:
        path, fmt = out / name, _fmt_of(out / name)
        tail = path.read_bytes()[len((clean / name).read_bytes()) :]
        lines = tail.decode("utf-8" if fmt.encoding == "utf-8-sig" else fmt.encoding).split("\r\n")
        planted = {m["row"]: m for m in manifest if m["file"] == name}
        truncated = any(m["reason"] == "truncated_row" for m in planted.values())
        assert (lines[-1] != "") == truncated, "every line but a cut last one ends in CRLF"
        assert "\n" not in tail.replace(b"\r\n", b"").decode("latin-1")
        header, records = _csv_records(path)
        ent = contract.entity(fmt.entity)
        for row_no, m in planted.items():
            if m["reason"] == "truncated_row":
                continue
            for zh, cell in zip(header, records[row_no - 2]):
                col = next(c for c in ent.columns if c.zh == zh)
                if col.type == "timestamp" and col.name != m["column"] and cell:
                    datetime.strptime(cell, TS_PARSE[fmt.ts_style])


def test_truncated_row_is_cut_mid_row_without_a_line_ending(run_a):
    out, manifest = run_a
    cuts = _by_reason(manifest, "truncated_row")
    assert len({m["file"] for m in cuts}) == len(cuts) >= 1
    for m in cuts:
        path = out / m["file"]
        fmt = _fmt_of(path)
        data = path.read_bytes()
        assert not data.endswith(b"\n")
        last = data.decode(fmt.encoding or "utf-8").split("\r\n")[-1]
        assert last == m["detail"]
        assert 2 <= len(last.split(",")) < len(contract.entity(fmt.entity).columns)


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_the_same_bytes(run_a, run_b):
    (a, manifest_a), (b, manifest_b) = run_a, run_b
    assert manifest_a == manifest_b
    assert _files(a) == _files(b)
    assert (a / "expected" / "faults.csv").read_bytes() == (b / "expected" / "faults.csv").read_bytes()


def test_another_seed_places_the_faults_elsewhere(run_a, run_c):
    (_, manifest_a), (_, manifest_c) = run_a, run_c
    placed_a = {(m["file"], m["row"], m["reason"]) for m in manifest_a}
    placed_c = {(m["file"], m["row"], m["reason"]) for m in manifest_c}
    assert placed_a != placed_c
    assert {m["reason"] for m in manifest_c} >= REQUIRED_KINDS


# --------------------------------------------------------------------------- whole-file faults


def test_encoding_fault_file_is_neither_utf8_nor_gb18030(run_a):
    out, manifest = run_a
    (m,) = _by_reason(manifest, "encoding")
    data = (out / m["file"]).read_bytes()
    for enc in ("utf-8", "utf-8-sig", "gbk", "gb18030"):
        with pytest.raises(UnicodeDecodeError):
            data.decode(enc)
    assert b"\x00" in data
    header = data.decode("utf-16-le").split("\r\n")[0].split(",")
    assert header == [c.zh for c in contract.entity("calls").columns]
    assert m["expected"] == "reject"


def test_missing_column_file_lacks_the_required_column(run_a):
    out, manifest = run_a
    (m,) = _by_reason(manifest, "missing_column")
    col = contract.entity(_fmt_of(Path(m["file"])).entity).column(m["column"])
    assert col.required
    header, records = _csv_records(out / m["file"])
    assert col.zh not in header and records and all(len(r) == len(header) for r in records)


def test_extra_column_file_holds_kpi_neutral_sms_marketing_rows(run_a):
    out, manifest = run_a
    (m,) = _by_reason(manifest, "extra_column")
    ent = contract.entity("outbound")
    header, records = _csv_records(out / m["file"])
    unknown = [h for h in header if h not in {c.zh for c in ent.columns}]
    assert unknown == [faults.EXTRA_COLUMN]
    assert {c.zh for c in ent.columns} <= set(header)
    for r in records:
        cells = dict(zip(header, r))
        assert cells[ent.column("channel").zh] == ent.column("channel").label("sms")
        assert cells[ent.column("purpose").zh] == ent.column("purpose").label("marketing")
        assert cells[ent.column("contact_id").zh] in m["detail"].split()
        datetime.strptime(cells[ent.column("contacted_at").zh], TS_PARSE[FORMATS["outbound"].ts_style])
    assert m["expected"] == "load"


def test_title_row_file_has_its_header_below_two_title_rows(run_a):
    out, manifest = run_a
    (m,) = _by_reason(manifest, "title_row")
    ent = contract.entity("callbacks")
    ws = openpyxl.load_workbook(out / m["file"], read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] and rows[1][0] and rows[0][0] not in {c.zh for c in ent.columns}
    assert list(rows[2]) == [c.zh for c in ent.columns]
    outcome_col = [c.zh for c in ent.columns].index(ent.column("outcome").zh)
    ticket_col = [c.zh for c in ent.columns].index(ent.column("ticket_id").zh)
    assert rows[3:] and all(r[outcome_col] == "未联系上" and r[ticket_col] is None for r in rows[3:])
    assert m["expected"] == "load"


def test_unreadable_file_cannot_be_opened_as_xlsx(run_a):
    out, manifest = run_a
    (m,) = _by_reason(manifest, "unreadable")
    with pytest.raises(zipfile.BadZipFile):  # cut in half: no zip directory
        openpyxl.load_workbook(out / m["file"])
    assert m["expected"] == "reject"


def test_rerun_on_a_fresh_clean_export_replaces_stale_fault_files(clean, tmp_path):
    shutil.copytree(clean / "landing", tmp_path / "landing")
    first = faults.inject(tmp_path, 11)
    shutil.rmtree(tmp_path / "landing")
    shutil.copytree(clean / "landing", tmp_path / "landing")
    stale = tmp_path / "landing" / DAYS[0].isoformat() / "话务详单_20260101_补传.csv"
    stale.write_bytes(b"old")
    second = faults.inject(tmp_path, 12)
    new_files = {
        p.relative_to(tmp_path).as_posix()
        for p in (tmp_path / "landing").rglob("*")
        if p.is_file() and p.stem.endswith(faults.FAULT_SUFFIXES)
    }
    assert new_files == {m["file"] for m in second if m["row"] is None}
    assert first != second


# --------------------------------------------------------------------------- the real generator


def _canonical(entity: str, cells: dict, fmt) -> dict:
    """A row of a fault file (Chinese header -> cell) as the canonical dict the answer key is fed."""
    row = {}
    for c in contract.entity(entity).columns:
        v = cells.get(c.zh)
        if v is None or v == "":
            row[c.name] = None
        elif c.type == "enum":
            row[c.name] = next(k for k, label in c.values.items() if label == v)
        elif c.type == "boolean":
            row[c.name] = v == contract.BOOLEAN_LABELS[True]
        elif c.type == "timestamp":
            ts = v if isinstance(v, datetime) else datetime.strptime(v, TS_PARSE[fmt.ts_style])
            row[c.name] = (ts + timedelta(microseconds=500_000)).replace(microsecond=0)
        else:
            row[c.name] = v
    return row


def _loaded_fault_rows(out: Path, manifest: list[dict]) -> dict[date, list[tuple[str, dict]]]:
    """Rows of the fault files ingest must load (expected = load), by day folder."""
    loaded: dict[date, list[tuple[str, dict]]] = {}
    for m in manifest:
        if m["expected"] != "load":
            continue
        path = out / m["file"]
        fmt = _fmt_of(path)
        if fmt.ext == "csv":
            header, records = _csv_records(path)
            rows = [dict(zip(header, r)) for r in records]
        else:
            sheet = list(openpyxl.load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
            at = next(i for i, r in enumerate(sheet) if contract.entity(fmt.entity).columns[0].zh in r)
            rows = [dict(zip(sheet[at], r)) for r in sheet[at + 1 :]]
        day = date.fromisoformat(m["file"].split("/")[1])
        loaded.setdefault(day, []).extend((fmt.entity, _canonical(fmt.entity, r, fmt)) for r in rows)
    return loaded


@pytest.mark.slow
def test_real_generator_faults_are_in_place_and_the_loaded_ones_leave_the_answer_key_unchanged(tmp_path):
    from generator.oracle import AnswerKey
    from generator.run import generate
    from generator.world import World

    generate("demo", 5, 1, tmp_path, faults=True, progress=False)
    with open(tmp_path / "expected" / "faults.csv", encoding="utf-8", newline="") as fh:
        manifest = [{**m, "row": int(m["row"]) if m["row"] else None} for m in csv.DictReader(fh)]
    assert {m["reason"] for m in manifest} >= REQUIRED_KINDS
    for m in manifest:
        if m["row"] is None or m["reason"] == "truncated_row":
            continue
        path = tmp_path / m["file"]
        header, records = _csv_records(path)
        zh = contract.entity(_fmt_of(path).entity).column(m["column"]).zh
        assert records[m["row"] - 2][header.index(zh)] == m["detail"], m
    # The rows ingest loads from the fault files are KPI-neutral: feeding them to an
    # independent answer key, after the clean rows of their day, changes nothing.
    loaded = _loaded_fault_rows(tmp_path, manifest)
    assert sum(len(v) for v in loaded.values()) >= 8
    world = World("demo", 5, 1)
    key = AnswerKey(world.start, world.end)
    for day, exports in world.days():
        for entity, rows in exports.items():
            for r in rows:
                key.feed(entity, r)
        for entity, r in loaded.get(day, []):
            key.feed(entity, r)
        key.end_of_day(day)
    key.finish()
    key.write_csv(tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "expected" / "kpi_expected.csv").read_bytes()

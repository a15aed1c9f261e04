"""Planted faults: broken input the way real exports break, with a manifest.

`inject(out, seed)` runs after the clean exports and the answer key are written
(`kefu generate --faults`). It plants faults that ingest must catch and writes
`out/expected/faults.csv`, one row per fault:

    file      path relative to `out` (forward slashes)
    row       1-based row a person sees in Excel (or in a text editor when no cell
              holds a line break): the header is row 1 of a CSV; XLSX title rows
              count. Empty for a file-level fault.
    column    canonical contract column name; empty for row/file level faults
    reason    a code of kefu.reasons.REASONS
    expected  kefu.reasons.outcome(reason): quarantine / reject / load
    detail    what was planted: the exact bad cell text for a cell fault (empty
              for missing_value: the cell is empty), the key value for
              duplicate_key, the text of the cut line for truncated_row, a
              description for file-level faults.

The answer key stays valid because every fault is ADDITIVE:
- A bad row is appended to a clean CSV export of its entity. It is a copy of a
  clean row of that file with a NEW key (`<key>_Fnn`, a suffix no clean id
  carries) and exactly ONE planted fault, so ingest has one reason to
  quarantine it. A duplicate_key row is instead an exact copy of an existing row
  of the same file: the first occurrence loads, the copy is quarantined, the
  loaded data is unchanged.
- The clean bytes are never touched: rows are appended in binary mode, in the
  file's encoding (a UTF-8-with-BOM file gets no second BOM) and with its
  `\\r\\n` line ending; untouched cells keep the file's date style, a shifted
  timestamp is written in it (generator.formats.format_timestamp).
- A truncated last line is a new row cut inside a cell, without a line ending;
  it is always the last thing appended to its file.
- Whole-file faults are NEW files in a day folder, named like a re-delivered
  export of the entity (`<stem>_<YYYYMMDD>_补传.csv`) and holding only new rows.

Whole-file faults and why ingest can tell:
- encoding (reject): `话务详单_<day>_补传.csv`, the calls export saved as UTF-16LE
  *without* a BOM (what some Windows tools write for "Unicode text"). It is
  neither UTF-8 nor GBK/GB18030: strict decoding with utf-8, utf-8-sig, gbk and
  gb18030 all raise UnicodeDecodeError (checked when the file is written; the
  calls header alone already fails all four), and every ASCII character is
  followed by a NUL byte, which no text export of ours contains. Shift-JIS and
  Big5 were rejected as choices: their byte ranges are a subset of GBK's, so they
  decode to GBK mojibake and only a header mismatch would reveal them.
- missing_column (reject): `工单明细_<day>_重传.csv`, the tickets export without
  the required 受理时间 (opened_at) column; column = opened_at.
- extra_column (load): `外呼记录_<day>_补充.csv`, the outbound export with an
  unknown column 营销活动编号 (campaign code) in the middle. Its rows are new and
  load, so they must not move any KPI: they are SMS marketing contacts. P1 counts
  outbound *phone* calls only (D-44, "SMS is not a call") and C8 counts purpose
  `care` only, and no other measure reads outbound, so these rows are neutral for
  any customer. The answer key therefore does not list them.
- title_row (load): `回访记录_<day>_补录.xlsx`, callbacks with a merged title row
  and an export-time row directly above the header (header on row 3, no blank
  line, unlike the clean callbacks layout). Its rows are post-install callbacks
  with outcome `unreachable` and no ticket or work: D-40 counts only callbacks
  that reached the customer, C3/C5/C6/C7 need other reasons, C4 needs
  `problem_found`, so they are KPI-neutral too.
- unreadable (reject): `工程计划_<day>_补传.xlsx`, a works workbook cut in half (an
  interrupted upload): the zip has no central directory, so no XLSX reader opens it.

Everything is chosen from `numpy.random.default_rng((seed, 0xFA17))` in a fixed
order and XLSX files carry a fixed creation time, so the same seed gives the same
bytes; faults are spread over different day folders where the landing has enough.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import openpyxl
import xlsxwriter

from generator.formats import FORMATS, ExportFormat, excel_serial, format_timestamp
from kefu import contract
from kefu.reasons import REASONS, outcome

MANIFEST_COLUMNS = ["file", "row", "column", "reason", "expected", "detail"]
FAULT_SUFFIXES = ("补传", "重传", "补充", "补录")
POOL_SIZE = 2000  # template rows kept per file (the file is still counted to its end)
EXTRA_COLUMN = "营销活动编号"

_TS_PARSE = {
    "slash_s": "%Y/%m/%d %H:%M:%S",
    "slash_m": "%Y/%m/%d %H:%M",
    "cn_m": "%Y年%m月%d日 %H时%M分",
    "iso_s": "%Y-%m-%d %H:%M:%S",
}


@dataclass(frozen=True)
class RowFault:
    """One bad row to append to a clean CSV export of `entity`."""

    entity: str
    reason: str
    column: str | None  # the planted column (the key for duplicate_key, None for truncated_row)
    value: str | None = None  # bad_enum: the label outside the allowed values
    start: str | None = None  # end_before_start: the milestone the planted one must follow
    prefer: Callable[[dict[str, str]], bool] | None = None  # a template row that shows the fault best


def _filled(col: str) -> Callable[[dict[str, str]], bool]:
    return lambda r: bool(r.get(col))


ROW_FAULTS: tuple[RowFault, ...] = (
    RowFault("tickets", "bad_timestamp", "opened_at"),
    RowFault("tickets", "bad_enum", "severity", value="特急", prefer=lambda r: r.get("ticket_type") == "报修"),
    RowFault("tickets", "end_before_start", "resolved_at", start="opened_at", prefer=_filled("resolved_at")),
    RowFault("tickets", "unknown_reference", "technician_id"),
    RowFault("tickets", "missing_value", "customer_id"),
    RowFault("calls", "bad_timestamp", "arrived_at"),
    RowFault("calls", "ambiguous_date", "arrived_at"),
    RowFault("calls", "negative_duration", "talk_seconds", prefer=_filled("talk_seconds")),
    RowFault("calls", "end_before_start", "ended_at", start="arrived_at"),
    RowFault("calls", "duplicate_key", "call_id"),
    RowFault("calls", "truncated_row", None),
    RowFault("ticket_pauses", "ambiguous_date", "paused_at"),
    RowFault("ticket_pauses", "end_before_start", "resumed_at", start="paused_at"),
    RowFault("surveys", "bad_enum", "answer", value="非常满意"),
    RowFault("surveys", "duplicate_key", "survey_id"),
    RowFault("surveys", "missing_value", "customer_id"),
    RowFault("outbound", "bad_timestamp", "contacted_at"),
    RowFault("outbound", "ambiguous_date", "contacted_at"),
    RowFault("suspensions", "bad_timestamp", "suspended_at"),
    RowFault("suspensions", "unknown_reference", "district_id"),
    RowFault("suspensions", "truncated_row", None),
    RowFault("customers", "ambiguous_date", "opened_date"),
    RowFault("customers", "bad_enum", "tier", value="钻石VIP"),
)

# Every kind the manifest must hold at least once.
FAULT_KINDS = tuple(
    sorted({f.reason for f in ROW_FAULTS} | {"encoding", "missing_column", "extra_column", "title_row", "unreadable"})
)


@dataclass
class CsvExport:
    """A clean CSV export: its header, record count and a pool of template rows."""

    path: Path
    fmt: ExportFormat
    header: list[str]  # Chinese headers as written
    columns: list[str]  # canonical names, same order
    records: int  # data rows
    pool: list[list[str]]
    keys: set[str] = field(default_factory=set)

    def as_dict(self, cells: list[str]) -> dict[str, str]:
        return dict(zip(self.columns, cells))

    def as_cells(self, row: dict[str, str]) -> list[str]:
        return [row[c] for c in self.columns]


@dataclass
class _Context:
    out: Path
    rng: np.random.Generator
    days: list[date]
    districts: set[str]
    technicians: set[str]
    manifest: list[dict] = field(default_factory=list)
    used_days: set[date] = field(default_factory=set)
    serial: int = 0

    def new_id(self, template: str) -> str:
        self.serial += 1
        return f"{template}_F{self.serial:02d}"

    def pick(self, n: int) -> int:
        return int(self.rng.integers(n))

    def record(self, path: Path, row: int | None, column: str | None, reason: str, detail: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason code {reason!r}")
        self.manifest.append(
            {
                "file": path.relative_to(self.out).as_posix(),
                "row": row,
                "column": column or "",
                "reason": reason,
                "expected": outcome(reason),
                "detail": detail,
            }
        )


# --------------------------------------------------------------------------- the landing folder


def _day_folders(landing: Path) -> list[date]:
    days = []
    for p in sorted(landing.iterdir()):
        if p.is_dir() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.name):
            days.append(date.fromisoformat(p.name))
    return days


def _clean_files(folder: Path, fmt: ExportFormat) -> list[Path]:
    pattern = re.compile(rf"{re.escape(fmt.file_stem)}_\d{{8}}\.{fmt.ext}")
    return sorted(p for p in folder.glob(f"{fmt.file_stem}_*.{fmt.ext}") if pattern.fullmatch(p.name))


def _remove_stale_fault_files(landing: Path) -> None:
    """Extra files of an earlier injection (a rerun into the same folder) go first."""
    stems = "|".join(re.escape(f.file_stem) for f in FORMATS.values())
    pattern = re.compile(rf"({stems})_\d{{8}}_({'|'.join(FAULT_SUFFIXES)})\.(csv|xlsx)")
    for p in landing.glob("*/*"):
        if pattern.fullmatch(p.name):
            p.unlink()


def _csv_encoding(fmt: ExportFormat) -> str:
    return fmt.encoding or "utf-8"


def _has_data_rows(path: Path, fmt: ExportFormat) -> bool:
    header = ",".join(c.zh for c in contract.entity(fmt.entity).columns) + "\r\n"
    return path.stat().st_size > len(header.encode(_csv_encoding(fmt)))


def _read_csv(path: Path, fmt: ExportFormat) -> CsvExport:
    ent = contract.entity(fmt.entity)
    by_zh = {c.zh: c.name for c in ent.columns}
    key = ent.key[0]
    with open(path, encoding=_csv_encoding(fmt), newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        columns = [by_zh[h] for h in header]
        k = columns.index(key)
        pool: list[list[str]] = []
        keys: set[str] = set()
        records = 0
        for cells in reader:
            records += 1
            keys.add(cells[k])
            if len(pool) < POOL_SIZE:
                pool.append(cells)
    with open(path, "rb") as fh:
        fh.seek(-2, 2)
        if fh.read() != b"\r\n":
            raise ValueError(f"{path}: a clean export must end with a line break before faults are appended")
    return CsvExport(path, fmt, header, columns, records, pool, keys)


def _xlsx_rows(path: Path, entity: str) -> list[dict]:
    """Data rows of an XLSX export as canonical-name dicts (the header is found below any title rows)."""
    ent = contract.entity(entity)
    by_zh = {c.zh: c.name for c in ent.columns}
    key_zh = ent.column(ent.key[0]).zh
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        columns: list[str | None] | None = None
        rows = []
        for values in wb.worksheets[0].iter_rows(values_only=True):
            if columns is None:
                if key_zh in values:
                    columns = [by_zh.get(v) if isinstance(v, str) else None for v in values]
                continue
            if any(v is not None for v in values):
                rows.append({c: v for c, v in zip(columns, values) if c})
        return rows
    finally:
        wb.close()


def _reference_ids(landing: Path, days: list[date], entity: str, column: str) -> set[str]:
    """Ids of a reference list, from its first and its last delivery (each is a full list with history)."""
    files = [p for d in days for p in _clean_files(landing / d.isoformat(), FORMATS[entity])]
    ids: set[str] = set()
    for p in dict.fromkeys(files[:1] + files[-1:]):
        ids |= {str(r[column]) for r in _xlsx_rows(p, entity) if r.get(column) is not None}
    return ids


def _unknown_like(known: set[str], fallback: str) -> str:
    """An id shaped like the known ones (same prefix and digit width) that is not among them."""
    sample = min(known) if known else fallback
    m = re.fullmatch(r"(.*?)(\d+)", sample)
    if not m:
        candidate = f"{sample}X9"
        while candidate in known:
            candidate += "9"
        return candidate
    prefix, digits = m.groups()
    for n in range(10 ** len(digits) - 1, -1, -1):
        candidate = f"{prefix}{n:0{len(digits)}d}"
        if candidate not in known:
            return candidate
    return f"{prefix}{'9' * (len(digits) + 1)}"


# --------------------------------------------------------------------------- cell texts


def _style(col: contract.Column, fmt: ExportFormat) -> str:
    return fmt.ts_style if col.type == "timestamp" else fmt.date_style


def _bad_timestamp_text(style: str, year: int, ctx: _Context) -> str:
    choices = {
        "slash_s": [f"{year}/13/45 25:61:00", f"{year}/2/30 10:15:00", f"{year}/0/12 08:00:00"],
        "slash_m": [f"{year}/13/45 25:61", f"{year}/2/30 10:15"],
        "cn_m": [f"{year}年2月30日 10时15分", f"{year}年13月5日 09时00分", f"{year}年4月31日 25时10分"],
        "iso_s": [f"{year}-02-30 10:15:00", f"{year}-13-45 25:61:00"],
        "slash": [f"{year}/13/45", f"{year}/2/30"],
        "cn": [f"{year}年2月30日", f"{year}年13月45日"],
        "iso": [f"{year}-02-30", f"{year}-13-45"],
    }[style]
    return choices[ctx.pick(len(choices))]


def _ambiguous_text(style: str, day: date, ctx: _Context) -> str:
    """dd/mm/yyyy vs mm/dd/yyyy: both readings are real dates (e.g. 03/05/2026).

    When the export's own day allows it, one reading is that day (the exporting
    system switched to a day-first or month-first pattern), else two random months.
    """
    if day.day <= 12 and day.day != day.month:
        a, b = (day.day, day.month) if ctx.pick(2) else (day.month, day.day)
    else:
        a = 1 + ctx.pick(12)
        b = 1 + (a + ctx.pick(11)) % 12  # 1..12, never a
    text = f"{a:02d}/{b:02d}/{day.year}"
    hour, minute, second = 8 + ctx.pick(12), ctx.pick(60), ctx.pick(60)
    if style.endswith("_s"):
        return f"{text} {hour:02d}:{minute:02d}:{second:02d}"
    if style.endswith("_m"):
        return f"{text} {hour:02d}:{minute:02d}"
    return text


def _csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()


def _plain(cells: list[str]) -> bool:
    """No cell needs CSV quoting (a cut line must stay countable by commas)."""
    return not any(ch in cell for cell in cells for ch in ',"\r\n')


# --------------------------------------------------------------------------- row faults


def _template(export: CsvExport, spec: RowFault, ctx: _Context) -> list[str]:
    candidates = export.pool
    if spec.prefer is not None:
        preferred = [c for c in candidates if spec.prefer(export.as_dict(c))]
        candidates = preferred or candidates
    if spec.reason == "truncated_row":
        candidates = [c for c in candidates if _plain(c)] or candidates
    return candidates[ctx.pick(len(candidates))]


def _plant(export: CsvExport, spec: RowFault, day: date, ctx: _Context) -> tuple[str, str]:
    """(the text to append, the manifest detail) of one bad row; also checks the new id is new."""
    fmt, ent = export.fmt, contract.entity(export.fmt.entity)
    key = ent.key[0]
    template = _template(export, spec, ctx)
    if spec.reason == "duplicate_key":
        return _csv_line(template), template[export.columns.index(key)]
    row = export.as_dict(template)
    row[key] = ctx.new_id(row[key])
    if row[key] in export.keys:
        raise RuntimeError(f"{export.path}: planted id {row[key]} already exists")
    export.keys.add(row[key])
    col = ent.column(spec.column) if spec.column else None
    if spec.reason == "bad_timestamp":
        row[col.name] = _bad_timestamp_text(_style(col, fmt), day.year, ctx)
    elif spec.reason == "ambiguous_date":
        row[col.name] = _ambiguous_text(_style(col, fmt), day, ctx)
    elif spec.reason == "bad_enum":
        if spec.value in col.values.values() or spec.value in col.values:
            raise ValueError(f"{spec.value!r} is an allowed value of {ent.name}.{col.name}")
        row[col.name] = spec.value
    elif spec.reason == "negative_duration":
        row[col.name] = str(-int(5 + ctx.pick(600)))
    elif spec.reason == "end_before_start":
        start = datetime.strptime(row[spec.start], _TS_PARSE[fmt.ts_style])
        back = timedelta(hours=1 + ctx.pick(6), minutes=ctx.pick(60), seconds=ctx.pick(60))
        row[col.name] = format_timestamp(start - back, fmt.ts_style)
    elif spec.reason == "missing_value":
        row[col.name] = ""
    elif spec.reason == "unknown_reference":
        known = ctx.districts if col.name == "district_id" else ctx.technicians
        row[col.name] = _unknown_like(known, "D01" if col.name == "district_id" else "T0001")
    elif spec.reason == "truncated_row":
        cells = export.as_cells(row)
        # Cut inside cell k (a cell of two or more characters when there is one): the key stays,
        # at least one cell is missing.
        positions = list(range(min(2, len(cells) - 2), len(cells) - 1))
        positions = [k for k in positions if len(cells[k]) >= 2] or positions
        k = positions[ctx.pick(len(positions))]
        line = ",".join(cells[:k]) + "," + cells[k][: len(cells[k]) // 2]
        return line, line
    else:
        raise ValueError(f"no planting for reason {spec.reason!r}")
    return _csv_line(export.as_cells(row)), row[col.name]


def _append_row_faults(export: CsvExport, specs: list[RowFault], day: date, ctx: _Context) -> None:
    specs = sorted(specs, key=lambda s: s.reason == "truncated_row")  # the cut line goes last
    if sum(s.reason == "truncated_row" for s in specs) > 1:
        raise ValueError(f"{export.path}: only the last line of a file can be cut")
    texts = []
    for i, spec in enumerate(specs):
        text, detail = _plant(export, spec, day, ctx)
        texts.append(text)
        ctx.record(export.path, export.records + 2 + i, spec.column, spec.reason, detail)
    encoding = "utf-8" if export.fmt.encoding == "utf-8-sig" else _csv_encoding(export.fmt)
    with open(export.path, "ab") as fh:
        fh.write("".join(texts).encode(encoding))


def _choose_day(eligible: list[date], ctx: _Context) -> date:
    fresh = [d for d in eligible if d not in ctx.used_days]
    choices = fresh or eligible
    day = choices[ctx.pick(len(choices))]
    ctx.used_days.add(day)
    return day


def _eligible_csv_days(entity: str, ctx: _Context) -> list[date]:
    fmt = FORMATS[entity]
    days = [
        d
        for d in ctx.days
        if any(_has_data_rows(p, fmt) for p in _clean_files(ctx.out / "landing" / d.isoformat(), fmt))
    ]
    if entity == "customers":
        # Day 1 holds the full customer list (8M rows for a province): use a day of new customers.
        days = [d for d in days if d != ctx.days[0]] or days
    return days


def _plant_row_faults(ctx: _Context) -> None:
    plan: dict[tuple[str, date], list[RowFault]] = {}
    eligible = {e: _eligible_csv_days(e, ctx) for e in dict.fromkeys(f.entity for f in ROW_FAULTS)}
    for spec in ROW_FAULTS:
        if eligible[spec.entity]:
            plan.setdefault((spec.entity, _choose_day(eligible[spec.entity], ctx)), []).append(spec)
    for (entity, day), specs in sorted(plan.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        fmt = FORMATS[entity]
        path = next(p for p in _clean_files(ctx.out / "landing" / day.isoformat(), fmt) if _has_data_rows(p, fmt))
        _append_row_faults(_read_csv(path, fmt), specs, day, ctx)


# --------------------------------------------------------------------------- whole-file faults


def _extra_path(ctx: _Context, entity: str, day: date, suffix: str) -> Path:
    fmt = FORMATS[entity]
    return ctx.out / "landing" / day.isoformat() / f"{fmt.file_stem}_{day:%Y%m%d}_{suffix}.{fmt.ext}"


def _csv_templates(entity: str, ctx: _Context, n: int) -> tuple[date, CsvExport, list[dict[str, str]]] | None:
    days = _eligible_csv_days(entity, ctx)
    if not days:
        return None
    day = _choose_day(days, ctx)
    fmt = FORMATS[entity]
    path = next(p for p in _clean_files(ctx.out / "landing" / day.isoformat(), fmt) if _has_data_rows(p, fmt))
    export = _read_csv(path, fmt)
    key = contract.entity(entity).key[0]
    rows = []
    for _ in range(n):
        row = export.as_dict(export.pool[ctx.pick(len(export.pool))])
        row[key] = ctx.new_id(row[key])
        rows.append(row)
    return day, export, rows


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    return "".join(_csv_line(r) for r in [header, *rows])


def _plant_encoding_fault(ctx: _Context) -> None:
    picked = _csv_templates("calls", ctx, 4)
    if picked is None:
        return
    day, export, rows = picked
    data = _csv_text(export.header, [export.as_cells(r) for r in rows]).encode("utf-16-le")
    for enc in ("utf-8", "utf-8-sig", "gbk", "gb18030"):
        try:
            data.decode(enc)
        except UnicodeDecodeError:
            continue
        raise RuntimeError(f"the UTF-16 calls file would decode as {enc}: choose another encoding fault")
    path = _extra_path(ctx, "calls", day, "补传")
    path.write_bytes(data)
    ctx.record(path, None, None, "encoding", f"UTF-16LE without BOM, {len(rows)} rows")


def _plant_missing_column(ctx: _Context) -> None:
    picked = _csv_templates("tickets", ctx, 3)
    if picked is None:
        return
    day, export, rows = picked
    dropped = "opened_at"
    keep = [i for i, c in enumerate(export.columns) if c != dropped]
    header = [export.header[i] for i in keep]
    body = [[export.as_cells(r)[i] for i in keep] for r in rows]
    path = _extra_path(ctx, "tickets", day, "重传")
    path.write_bytes(_csv_text(header, body).encode(export.fmt.encoding or "utf-8"))
    zh = contract.entity("tickets").column(dropped).zh
    ctx.record(path, None, dropped, "missing_column", f"required column {zh} ({dropped}) missing, {len(rows)} rows")


def _plant_extra_column(ctx: _Context) -> None:
    picked = _csv_templates("outbound", ctx, 5)
    if picked is None:
        return
    day, export, rows = picked
    ent = contract.entity("outbound")
    at = export.columns.index("purpose") + 1
    header = export.header[:at] + [EXTRA_COLUMN] + export.header[at:]
    body = []
    for i, row in enumerate(rows):
        # SMS marketing: P1 counts phone calls only, C8 counts care only (module docstring).
        row["purpose"] = ent.column("purpose").label("marketing")
        row["channel"] = ent.column("channel").label("sms")
        row["answered"] = contract.BOOLEAN_LABELS[False]
        row["agent_id"] = ""
        cells = export.as_cells(row)
        body.append(cells[:at] + [f"YX{day:%Y%m}{i + 1:03d}"] + cells[at:])
    path = _extra_path(ctx, "outbound", day, "补充")
    path.write_bytes(_csv_text(header, body).encode(export.fmt.encoding or "utf-8"))
    ids = " ".join(r["contact_id"] for r in rows)
    ctx.record(
        path,
        None,
        None,
        "extra_column",
        f"unknown column {EXTRA_COLUMN}; {len(rows)} KPI-neutral rows (SMS marketing): {ids}",
    )


def _xlsx_workbook(target: Path | io.BytesIO, created: datetime) -> xlsxwriter.Workbook:
    options = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    if isinstance(target, io.BytesIO):
        options["in_memory"] = True
    wb = xlsxwriter.Workbook(target if isinstance(target, io.BytesIO) else str(target), options)
    wb.set_properties({"created": created, "author": "kefu generate"})
    return wb


def _write_sheet(wb: xlsxwriter.Workbook, entity: str, rows: list[dict], title_lines: list[str]) -> int:
    """Title lines (merged across the header's width), the header and the rows; returns the header row (1-based)."""
    ent = contract.entity(entity)
    ws = wb.add_worksheet("Sheet1")
    ts_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    title_fmt = wb.add_format({"bold": True})
    last = len(ent.columns) - 1
    for r, text in enumerate(title_lines):
        ws.merge_range(r, 0, r, last, text, title_fmt)
    top = len(title_lines)
    for j, c in enumerate(ent.columns):
        ws.write_string(top, j, c.zh)
    for i, row in enumerate(rows, start=top + 1):
        for j, c in enumerate(ent.columns):
            v = row.get(c.name)
            if v is None:
                continue
            if c.type == "timestamp":
                ws.write_number(i, j, excel_serial(v), ts_fmt)
            elif c.type == "enum":
                ws.write_string(i, j, c.label(v))
            else:
                ws.write_string(i, j, str(v))
    return top + 1


def _plant_title_row(ctx: _Context) -> None:
    fmt = FORMATS["callbacks"]
    sources = [(d, p) for d in ctx.days for p in _clean_files(ctx.out / "landing" / d.isoformat(), fmt)]
    order = [int(i) for i in ctx.rng.permutation(len(sources))]
    order.sort(key=lambda i: sources[i][0] in ctx.used_days)  # unused days first, shuffled
    for i in order:  # open workbooks one by one until one has rows
        day, path = sources[i]
        if templates := _xlsx_rows(path, "callbacks"):
            break
    else:
        return
    ctx.used_days.add(day)
    rows = []
    for _ in range(4):
        t = templates[ctx.pick(len(templates))]
        at = t["callback_at"]
        rows.append(
            {
                "callback_id": ctx.new_id(str(t["callback_id"])),
                "ticket_id": None,
                "work_id": None,
                "customer_id": t["customer_id"],
                "district_id": t["district_id"],
                # Unreachable post-install callbacks without a ticket: counted by no measure (docstring).
                "reason": "post_install",
                "channel": "phone",
                "outcome": "unreachable",
                "callback_at": at if isinstance(at, datetime) else datetime.combine(day, datetime.min.time()),
            }
        )
    path = _extra_path(ctx, "callbacks", day, "补录")
    created = datetime.combine(day, datetime.min.time()) + timedelta(hours=23, minutes=30)
    wb = _xlsx_workbook(path, created)
    header_row = _write_sheet(
        wb, "callbacks", rows, ["客户回访记录导出(补录)", f"导出时间:{created:%Y-%m-%d %H:%M}  导出人:系统"]
    )
    wb.close()
    ids = " ".join(r["callback_id"] for r in rows)
    ctx.record(
        path,
        None,
        None,
        "title_row",
        f"2 title rows, header on row {header_row}; {len(rows)} KPI-neutral rows (unreachable, no ticket): {ids}",
    )


def _plant_unreadable(ctx: _Context) -> None:
    if not ctx.districts:
        return
    day = _choose_day(ctx.days, ctx)
    districts = sorted(ctx.districts)
    start = datetime.combine(day, datetime.min.time()) + timedelta(days=3, hours=1)
    rows = [
        {
            "work_id": ctx.new_id(f"GC{day:%Y%m%d}"),
            "work_kind": "line_adjustment",
            "district_id": districts[ctx.pick(len(districts))],
            "start_at": start,
            "end_at": start + timedelta(hours=4),
        }
        for _ in range(3)
    ]
    buf = io.BytesIO()
    created = datetime.combine(day, datetime.min.time()) + timedelta(hours=23, minutes=45)
    wb = _xlsx_workbook(buf, created)
    _write_sheet(wb, "works", rows, [])
    wb.close()
    data = buf.getvalue()
    path = _extra_path(ctx, "works", day, "补传")
    path.write_bytes(data[: len(data) // 2])
    ctx.record(
        path, None, None, "unreadable", f"XLSX cut after {len(data) // 2} of {len(data)} bytes (no zip directory)"
    )


# --------------------------------------------------------------------------- entry point


def write_manifest(path: Path, manifest: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        w.writeheader()
        for row in manifest:
            w.writerow({**row, "row": "" if row["row"] is None else row["row"]})


def inject(out: Path, seed: int) -> list[dict]:
    """Plant additive faults into the clean landing folder `out/landing`; write out/expected/faults.csv.

    Must run on a freshly written clean export (it appends to clean files).
    Returns the manifest rows (keys MANIFEST_COLUMNS; row is an int or None).
    """
    out = Path(out)
    landing = out / "landing"
    if not landing.is_dir():
        raise FileNotFoundError(f"{landing}: no landing folder; run the clean generator first")
    _remove_stale_fault_files(landing)
    days = _day_folders(landing)
    if not days:
        raise FileNotFoundError(f"{landing}: no day folders (YYYY-MM-DD)")
    ctx = _Context(
        out=out,
        rng=np.random.default_rng((seed, 0xFA17)),
        days=days,
        districts=_reference_ids(landing, days, "districts", "district_id"),
        technicians=_reference_ids(landing, days, "technicians", "technician_id"),
    )
    # New files first: their template rows must come from files that hold clean rows only.
    _plant_encoding_fault(ctx)
    _plant_missing_column(ctx)
    _plant_extra_column(ctx)
    _plant_title_row(ctx)
    _plant_unreadable(ctx)
    _plant_row_faults(ctx)
    missing = sorted(set(FAULT_KINDS) - {m["reason"] for m in ctx.manifest})
    if missing:
        raise RuntimeError(f"{landing}: too little data to plant faults of kind {', '.join(missing)}")
    ctx.manifest.sort(key=lambda m: (m["file"], m["row"] or 0))
    write_manifest(out / "expected" / "faults.csv", ctx.manifest)
    return ctx.manifest

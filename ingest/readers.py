"""Turn one export file (CSV in any accepted encoding, or XLSX) into a UTF-8 CSV DuckDB can read.

UTF-8 CSVs are read in place. GBK/GB18030 CSVs are transcoded to a temporary
UTF-8 copy in 4 MiB chunks. XLSX sheets are read with python-calamine (Rust;
14x less CPU than openpyxl's read-only mode on the demo exports, see
docs/benchmarks.md) and written row by row into a temporary UTF-8 CSV whose
first column `_row` is the Excel row number; any title rows above the header
are skipped. A CSV's memory never depends on its size; an XLSX sheet is held
in memory once (as Python lists), which is bounded by Excel's own 1,048,576-row
sheet limit.
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Callable

from ingest import encoding as enc
from ingest.mapping import FileRule, Mappings, normalise_header

HEADER_SCAN_ROWS = 12


class FileRejected(Exception):
    """The file cannot be loaded as a whole; nothing of it is loaded."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


@dataclass
class Prepared:
    """A file ready for DuckDB's read_csv."""

    csv_path: Path  # UTF-8 (maybe with BOM) CSV
    header: list[str]  # header cells as exported (without `_row` for XLSX)
    skip: int  # lines before the header line
    first_row: int  # row number a person sees for the first data row
    has_row_column: bool  # XLSX: the first CSV column is `_row`
    encoding: str  # utf-8 | utf-8-sig | gb18030 | xlsx
    sha256: str
    size: int
    rule: FileRule
    temp_files: list[Path] = field(default_factory=list)

    def cleanup(self) -> None:
        for p in self.temp_files:
            p.unlink(missing_ok=True)


def _score(rule: FileRule, cells: list[Any]) -> int:
    return sum(1 for c in cells if c is not None and rule.column_for(c) is not None)


def _choose_header(rows: list[list[Any]], rules: list[FileRule], mappings: Mappings
                   ) -> tuple[int, FileRule | None]:
    """(index of the header row among `rows`, the rule it confirms)."""
    best: tuple[int, int, FileRule | None] = (0, -1, None)
    for i, cells in enumerate(rows):
        texts = [c for c in cells if c not in (None, "")]
        if not texts:
            continue
        candidates = rules or mappings.by_header([str(t) for t in texts])
        for r in candidates:
            s = _score(r, cells)
            if s > best[0]:
                best = (s, i, r)
    return best[1], best[2]


def _require_columns(rule: FileRule, header: list[str], name: str, recoded: bool) -> None:
    found = {rule.column_for(h) for h in header} - {None}
    ent = rule.contract_entity
    # Only identity columns are required of a file (D-90); a missing rule input loads as NULL and is
    # recorded in audit.source_columns, making the rules that read it not measurable.
    missing = [c for c in ent.columns if c.identity and c.name not in found]
    if missing:
        if not found and recoded:
            raise FileRejected("encoding", f"{name}: the header cannot be read as text in any accepted encoding "
                               "(UTF-8, GBK/GB18030); export it as UTF-8 or GBK / 表头无法识别，请检查文件编码")
        names = ", ".join(f"{c.name} ({c.zh})" for c in missing)
        raise FileRejected("missing_column", f"{name}: identity column(s) missing for {ent.name}: {names}; "
                           f"header was: {', '.join(map(str, header))} / 缺少标识列（主键、类型、受理时间等），无法载入")


def _recognise(path: Path, rules: list[FileRule], rows: list[list[Any]], mappings: Mappings, recoded: bool
               ) -> tuple[int, FileRule]:
    idx, rule = _choose_header(rows, rules, mappings)
    if rule is None:
        if rules:  # known by name, header unreadable: encoding trouble or a wrong file
            has_text = any(any(c not in (None, "") for c in r) for r in rows)
            non_ascii = any(any(isinstance(c, str) and not c.isascii() for c in r) for r in rows)
            if has_text and non_ascii and recoded:
                raise FileRejected("encoding", f"{path.name}: no header cell readable in the detected encoding; "
                                   "export it as UTF-8 or GBK / 表头乱码，请检查文件编码")
            _require_columns(rules[0], [str(c) for c in (rows[0] if rows else []) if c is not None],
                             path.name, recoded)
        raise FileRejected("unrecognised_file", f"{path.name}: no source mapping matches this file's name or "
                           "header; add a mapping in ingest/mappings (docs/ingest.md) / 无法识别的文件")
    header = [str(c) if c is not None else "" for c in rows[idx]]
    while header and header[-1] == "":
        header.pop()
    _require_columns(rule, header, path.name, recoded)
    return idx, rule


def prepare_csv(path: Path, det: enc.Detected, mappings: Mappings, tmp_dir: Path,
                progress: Callable[[int], None] | None = None) -> Prepared:
    if det.encoding is None:
        raise FileRejected("encoding", f"{path.name}: {det.error}")
    rules = mappings.by_name(path)
    csv_path, temps = path, []
    if det.encoding == "gb18030":
        csv_path = tmp_dir / f"{det.sha256[:16]}.utf8.csv"
        temps.append(csv_path)
        try:
            enc.transcode(path, "gb18030", csv_path, progress)
        except enc.EncodingError as e:
            csv_path.unlink(missing_ok=True)
            raise FileRejected("encoding", f"{path.name}: {e}") from None
    lines = enc.read_head(csv_path, "utf-8-sig", HEADER_SCAN_ROWS)
    rows = [next(csv.reader([ln]), []) for ln in lines]
    try:
        idx, rule = _recognise(path, rules, rows, mappings, recoded=det.encoding == "gb18030")
    except FileRejected:
        for t in temps:
            t.unlink(missing_ok=True)
        raise
    header = [c for c in rows[idx]]
    while header and header[-1] == "":
        header.pop()
    return Prepared(csv_path, header, idx, idx + 2, False, det.encoding, det.sha256, det.size, rule, temps)


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        v = (v + timedelta(microseconds=500_000)).replace(microsecond=0)  # Excel float noise
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):  # a date-only number format: the value is that day's midnight
        return f"{v.isoformat()} 00:00:00"
    if isinstance(v, time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def prepare_xlsx(path: Path, det: enc.Detected, mappings: Mappings, tmp_dir: Path,
                 progress: Callable[[int], None] | None = None) -> Prepared:
    from python_calamine import CalamineWorkbook

    sha = det.sha256
    rules = mappings.by_name(path)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own errors for a bad zip, XML or password
        raise FileRejected("unreadable", f"{path.name}: cannot be opened as an Excel workbook "
                           f"({type(e).__name__}: {e}) / 无法打开Excel文件") from None
    out = tmp_dir / f"{sha[:16]}.xlsx.csv"
    try:
        sheet = rules[0].sheet if rules and rules[0].sheet else None
        if sheet is not None and sheet not in wb.sheet_names:
            raise FileRejected("missing_column", f"{path.name}: no sheet named {sheet!r} "
                               f"(sheets: {', '.join(wb.sheet_names)})")
        ws = wb.get_sheet_by_name(sheet) if sheet else wb.get_sheet_by_index(0)
        # skip_empty_area=False: rows and columns from A1, so `_row` is the row a person sees in
        # Excel and header positions are the sheet's (iter_rows trims leading columns, not rows)
        it = enumerate(ws.to_python(skip_empty_area=False), start=1)
        head: list[tuple[int, list[Any]]] = []
        for r in it:
            head.append(r)
            if len(head) >= HEADER_SCAN_ROWS:
                break
        idx, rule = _recognise(path, rules, [cells for _, cells in head], mappings, recoded=False)
        header = [str(c) if c is not None else "" for c in head[idx][1]]
        while header and header[-1] == "":
            header.pop()
        width = len(header)
        n = 0
        with open(out, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["_row", *header])

            def emit(excel_row: int, cells: list[Any]) -> None:
                vals = [_cell_text(c) for c in cells[:width]]
                if not any(vals):
                    return  # blank line: not a row
                vals += [""] * (width - len(vals))
                w.writerow([excel_row, *vals])

            for excel_row, cells in head[idx + 1:]:
                emit(excel_row, cells)
            for excel_row, cells in it:
                emit(excel_row, cells)
                n += 1
                if progress and n % 10_000 == 0:
                    progress(10_000)
    except FileRejected:
        out.unlink(missing_ok=True)
        raise
    except Exception as e:  # a corrupt sheet part: the workbook opened but cannot be read
        out.unlink(missing_ok=True)
        raise FileRejected("unreadable", f"{path.name}: the sheet cannot be read ({type(e).__name__}: {e})") from None
    finally:
        wb.close()
    return Prepared(out, header, 0, 2, True, "xlsx", sha, det.size, rule, [out])


def is_xlsx(path: Path) -> bool:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    return magic.startswith(b"PK\x03\x04") or path.suffix.lower() in {".xlsx", ".xlsm"}


def fingerprint(path: Path) -> enc.Detected:
    """sha256 and size of any file; for a CSV also its encoding (one pass)."""
    if is_xlsx(path):
        return enc.Detected("xlsx", enc.sha256_of(path), path.stat().st_size)
    return enc.detect(path)


def prepare(path: Path, det: enc.Detected, mappings: Mappings, tmp_dir: Path,
            progress: Callable[[int], None] | None = None) -> Prepared:
    """Transcode or convert, find the header and the mapping rule; or raise FileRejected."""
    if det.encoding == "xlsx":
        return prepare_xlsx(path, det, mappings, tmp_dir, progress)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if path.suffix.lower() == ".xls" or magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected("unreadable", f"{path.name}: old binary Excel (.xls) is not supported; "
                           "save it as .xlsx or CSV / 请另存为xlsx或CSV")
    return prepare_csv(path, det, mappings, tmp_dir, progress)


def header_positions(p: Prepared) -> tuple[dict[str, int], list[str]]:
    """canonical column -> 0-based position in `p.header`; and the header cells no column claims."""
    pos: dict[str, int] = {}
    extra: list[str] = []
    for i, h in enumerate(p.header):
        c = p.rule.column_for(h)
        if c is None or c in pos:
            if normalise_header(h):
                extra.append(h)
            continue
        pos[c] = i
    return pos, extra

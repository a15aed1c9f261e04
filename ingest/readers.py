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
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingest import encoding as enc
from ingest.mapping import FileRule, Mappings, ReaderOptions, normalise_header

HEADER_SCAN_ROWS = 12
SNIFF_DELIMITERS = ",\t;|"
FOOTER_SCAN_BYTES = 1 << 16  # footer lines are looked for in the last 64 KiB of a CSV
# The longest line (and so cell) ingest reads: DuckDB's max_line_size, and the field limit of Python's
# csv module here and in the loader (its default, 131,072, made a long cell crash the header scan).
# A longer line is not read: DuckDB rejects it and the loader quarantines it as malformed_row.
MAX_LINE_SIZE = 10_000_000
csv.field_size_limit(MAX_LINE_SIZE)


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
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    footer_rows: int = 0  # trailing total lines (合计 / 共 N 条) dropped before staging
    notes: list[str] = field(default_factory=list)  # what the reader decided (sniffed delimiter, sheets read)
    has_sheet_column: bool = False  # XLSX of several sheets: the second CSV column is `_sheet`

    def cleanup(self) -> None:
        for p in self.temp_files:
            p.unlink(missing_ok=True)


def _score(rule: FileRule, cells: list[Any]) -> int:
    return sum(1 for c in cells if c is not None and rule.column_for(c) is not None)


def _choose_header(rows: list[list[Any]], rules: list[FileRule], mappings: Mappings) -> tuple[int, FileRule | None]:
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
    found = ({rule.column_for(h) for h in header} - {None}) | rule.derived_found(header)
    ent = rule.contract_entity
    # Only identity columns are required of a file (D-90); a missing rule input loads as NULL and is
    # recorded in audit.source_columns, making the rules that read it not measurable.
    missing = [c for c in ent.columns if c.identity and c.name not in found]
    have = {normalise_header(h) for h in header}
    for c in missing:
        d = rule.derived.get(c.name)
        if d is not None:
            absent = [h for h in d.headers if normalise_header(h) not in have]
            raise FileRejected(
                "missing_column",
                f"{name}: {c.name} ({c.zh}) is derived from "
                f"{' + '.join(d.headers)} but the header has no {', '.join(absent)}; "
                f"header was: {', '.join(map(str, header))} / 缺少派生列的来源列",
            )
    if missing:
        if not found and recoded:
            raise FileRejected(
                "encoding",
                f"{name}: the header cannot be read as text in any accepted encoding "
                "(UTF-8, GBK/GB18030); export it as UTF-8 or GBK / 表头无法识别，请检查文件编码",
            )
        names = ", ".join(f"{c.name} ({c.zh})" for c in missing)
        raise FileRejected(
            "missing_column",
            f"{name}: identity column(s) missing for {ent.name}: {names}; "
            f"header was: {', '.join(map(str, header))} / 缺少标识列（主键、类型、受理时间等），无法载入",
        )


def two_row_header(upper: list[Any], lower: list[Any]) -> list[str]:
    """One header of two rows: a group cell above (merged across its columns: carried right while the
    cells above are empty) and the column's own cell below. Named "upper/lower", or the one that is given."""
    out, group = [], ""
    for i in range(max(len(upper), len(lower))):
        u = str(upper[i]).strip() if i < len(upper) and upper[i] not in (None, "") else ""
        lo = str(lower[i]).strip() if i < len(lower) and lower[i] not in (None, "") else ""
        if u:
            group = u
        elif not lo:
            group = ""
        top = u or (group if lo else "")
        if not lo:
            out.append(top)
        elif not top or top == lo:
            out.append(lo)
        else:
            out.append(f"{top}/{lo}")
    return out


def _recognise(
    path: Path, rules: list[FileRule], rows: list[list[Any]], mappings: Mappings, recoded: bool
) -> tuple[int, FileRule]:
    opts = rules[0].reader if rules else ReaderOptions()
    if opts.header_rows == 2:  # every pair of lines as one header candidate; idx = the upper line
        rows = [two_row_header(rows[i], rows[i + 1]) for i in range(len(rows) - 1)] + [[]]
    if opts.header_row is not None:  # declared: that line, nothing guessed
        idx = opts.header_row - 1
        if idx >= len(rows):
            raise FileRejected(
                "missing_column",
                f"{path.name}: header_row {opts.header_row} is past the end of the file / 表头行超出文件",
            )
        rows = [[] if i != idx else r for i, r in enumerate(rows)]
    elif opts.skip_rows:
        rows = [[] if i < opts.skip_rows else r for i, r in enumerate(rows)]
    idx, rule = _choose_header(rows, rules, mappings)
    if rule is None:
        if rules:  # known by name, header unreadable: encoding trouble or a wrong file
            has_text = any(any(c not in (None, "") for c in r) for r in rows)
            non_ascii = any(any(isinstance(c, str) and not c.isascii() for c in r) for r in rows)
            if has_text and non_ascii and recoded:
                raise FileRejected(
                    "encoding",
                    f"{path.name}: no header cell readable in the detected encoding; "
                    "export it as UTF-8 or GBK / 表头乱码，请检查文件编码",
                )
            _require_columns(rules[0], [str(c) for c in (rows[0] if rows else []) if c is not None], path.name, recoded)
        raise FileRejected(
            "unrecognised_file",
            f"{path.name}: no source mapping matches this file's name or "
            "header; add a mapping in ingest/mappings (docs/ingest.md) / 无法识别的文件",
        )
    header = [str(c) if c is not None else "" for c in rows[idx]]
    while header and header[-1] == "":
        header.pop()
    _require_columns(rule, header, path.name, recoded)
    return idx, rule


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter of a CSV from its first lines (csv.Sniffer over , tab ; |); a comma when undecided."""
    sample = "\n".join(ln for ln in lines if ln.strip())
    if not sample:
        return ","
    try:
        return csv.Sniffer().sniff(sample, delimiters=SNIFF_DELIMITERS).delimiter
    except csv.Error:  # one column, or no consistent pattern (a title block): the most frequent candidate
        counts = {d: sample.count(d) for d in SNIFF_DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _footer_start(path: Path, opts: ReaderOptions, delimiter: str, quote: str) -> tuple[int, int]:
    """(byte offset where the trailing footer lines start, how many) — (size, 0) when there are none.

    Footer lines are the last lines of the file whose first non-empty cell matches one of the
    `reader.footer` patterns (合计 / 总计 / 共 N 条), and blank lines among them."""
    size = path.stat().st_size
    if not opts.footer or size == 0:
        return size, 0
    with open(path, "rb") as fh:
        start = max(0, size - FOOTER_SCAN_BYTES)
        fh.seek(start)
        tail = fh.read()
    pieces = tail.splitlines(keepends=True)
    if start > 0:
        pieces = pieces[1:]  # the first piece may be a partial line
    pats = [re.compile(p) for p in opts.footer]
    offset, found = size, 0
    for raw in reversed(pieces):
        text = raw.decode("utf-8", errors="replace").strip("\r\n").lstrip("\ufeff")
        cells = [c.strip() for c in next(csv.reader([text], delimiter=delimiter, quotechar=quote), [])]
        first = next((c for c in cells if c), None)
        if first is not None and not any(p.search(first) for p in pats):
            break
        found += first is not None
        offset -= len(raw)
    return (offset, found) if found else (size, 0)


def _drop_footer(
    path: Path,
    csv_path: Path,
    temps: list[Path],
    tmp_dir: Path,
    sha: str,
    opts: ReaderOptions,
    delimiter: str,
    quote: str,
) -> tuple[Path, int]:
    """Cut the footer lines off (a truncated copy; a temporary transcoded copy is truncated in place)."""
    offset, found = _footer_start(csv_path, opts, delimiter, quote)
    if not found:
        return csv_path, 0
    if csv_path in temps:
        with open(csv_path, "r+b") as fh:
            fh.truncate(offset)
        return csv_path, found
    out = tmp_dir / f"{sha[:16]}.nofooter.csv"
    with open(csv_path, "rb") as src, open(out, "wb") as dst:
        left = offset
        while left > 0:
            chunk = src.read(min(left, 1 << 22))
            if not chunk:
                break
            dst.write(chunk)
            left -= len(chunk)
    temps.append(out)
    return out, found


def _split(line: str, delimiter: str = ",", quote: str = '"', escape: str = '"') -> list[str]:
    """The cells of one scanned line; a line Python's csv cannot split (a cell over MAX_LINE_SIZE) has none
    here: it is no header, and DuckDB's reader rejects it as a row."""
    try:
        return next(
            csv.reader(
                [line],
                delimiter=delimiter,
                quotechar=quote,
                escapechar=None if escape == quote else escape,
                doublequote=escape == quote,
            ),
            [],
        )
    except csv.Error:
        return []


def prepare_csv(
    path: Path, det: enc.Detected, mappings: Mappings, tmp_dir: Path, progress: Callable[[int], None] | None = None
) -> Prepared:
    rules = mappings.by_name(path)
    opts = rules[0].reader if rules else ReaderOptions()
    if opts.encoding is not None and opts.encoding != det.encoding:  # declared by the mapping
        det = dataclasses.replace(det, encoding=opts.encoding, error=None)
    if det.encoding is None:
        raise FileRejected("encoding", f"{path.name}: {_where_undecodable(path, det.utf8_bad_at, 'utf-8')}{det.error}")
    csv_path, temps = path, []
    # one UTF-8, one-line-ending copy when the file is not already both (DuckDB reads it in place otherwise)
    if det.encoding == "gb18030" or det.mixed_newlines:
        csv_path = tmp_dir / f"{det.sha256[:16]}.utf8.csv"
        temps.append(csv_path)
        try:
            enc.transcode(path, det.encoding, csv_path, progress, newlines=det.mixed_newlines)
        except enc.EncodingError as e:
            csv_path.unlink(missing_ok=True)
            # the bad bytes are where the encoding that reads more of the file stops (a UTF-8 file with one
            # bad byte in row 40 also fails GB18030, but already in its Chinese header)
            at, as_enc = max((e.offset or 0, "gb18030"), (det.utf8_bad_at or 0, "utf-8"))
            raise FileRejected("encoding", f"{path.name}: {_where_undecodable(path, at, as_enc)}{e}") from None
    scan = max(HEADER_SCAN_ROWS, (opts.header_row or 0) + 1, opts.skip_rows + HEADER_SCAN_ROWS)
    lines = enc.read_head(csv_path, "utf-8-sig", scan, MAX_LINE_SIZE)
    if not any(ln.strip() for ln in lines):
        raise FileRejected(
            "empty_file",
            f"{path.name}: the file is empty ({det.size} bytes, no header and no rows)"
            "; export it again / 空文件：没有表头也没有数据，请重新导出",
        )
    notes = []
    delimiter = opts.delimiter
    if delimiter is None:
        delimiter = sniff_delimiter(lines[opts.skip_rows :])
        if delimiter != ",":
            notes.append(f"delimiter sniffed: {delimiter!r} / 已识别分隔符")
    rows = [_split(ln, delimiter, opts.quote, opts.escape) for ln in lines]
    try:
        idx, rule = _recognise(path, rules, rows, mappings, recoded=det.encoding == "gb18030")
        extra = opts.header_rows - 1  # lines of a two-row header below the first
        csv_path, footer = _drop_footer(path, csv_path, temps, tmp_dir, det.sha256, rule.reader, delimiter, opts.quote)
    except FileRejected:
        for t in temps:
            t.unlink(missing_ok=True)
        raise
    if footer:
        notes.append(f"dropped {footer} footer line(s) (合计/总计) / 已去除合计行")
    header = list(rows[idx]) if not extra else two_row_header(rows[idx], rows[idx + 1])
    while header and header[-1] == "":
        header.pop()
    return Prepared(
        csv_path,
        header,
        idx + extra,
        idx + extra + 2,
        False,
        det.encoding,
        det.sha256,
        det.size,
        rule,
        temps,
        delimiter,
        opts.quote,
        opts.escape,
        footer,
        notes,
    )


def _where_undecodable(path: Path, offset: int | None, encoding: str) -> str:
    """'row N, column X (header): bytes .. ' for the byte at `offset`, the file read as `encoding`
    ("" when unknown: a message helper never fails the rejection it explains)."""
    if offset is None:
        return ""
    try:
        return _locate(path, offset, encoding)
    except Exception:
        return ""


def _locate(path: Path, offset: int, encoding: str) -> str:
    head: list[str] = []
    with open(path, "rb") as fh:
        pos = 0
        for n, raw in enumerate(fh, start=1):  # binary lines: memory is one line, whatever the file size
            text = raw.decode(encoding, errors="replace").lstrip("\ufeff").rstrip("\r\n")
            if n <= HEADER_SCAN_ROWS:
                head.append(text)
            if pos + len(raw) > offset:
                before = raw[: offset - pos].decode(encoding, errors="replace").lstrip("\ufeff")
                cell = len(_split(before) or [""]) - 1 if before else 0
                rows = [_split(ln) for ln in head]
                idx = next((i for i, r in enumerate(rows) if len([c for c in r if c]) >= 2), 0)
                header = rows[idx] if rows else []
                col = f", column {cell + 1}" + (f" ({header[cell]})" if cell < len(header) and n - 1 != idx else "")
                bad = raw[offset - pos : offset - pos + 4].hex(" ")
                return f"row {n}{col}: bytes {bad} cannot be decoded / 第{n}行第{cell + 1}列含无法识别的字节 — "
            pos += len(raw)
    return ""


HALF_SECOND = timedelta(microseconds=500_000)


def _cell_text(v: Any) -> str:
    t = type(v)
    if t is str:  # most cells: checked first (the reader calls this once per cell)
        return v
    if t is datetime:  # Excel float noise rounded to the second: + 0.5 s, then the seconds (truncated)
        v = v + HALF_SECOND
        return v.isoformat(" ", "seconds") if v.year >= 1000 else v.strftime("%Y-%m-%d %H:%M:%S")
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        v = (v + HALF_SECOND).replace(microsecond=0)  # Excel float noise
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):  # a date-only number format: the value is that day's midnight
        return f"{v.isoformat()} 00:00:00"
    if isinstance(v, time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, float):  # plain digits, never 1e-05: the type checks accept only plain numbers
        return format(Decimal(repr(v)), "f")
    return str(v)


def prepare_xlsx(
    path: Path, det: enc.Detected, mappings: Mappings, tmp_dir: Path, progress: Callable[[int], None] | None = None
) -> Prepared:
    from python_calamine import CalamineWorkbook

    sha = det.sha256
    rules = mappings.by_name(path)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own errors for a bad zip, XML or password
        raise FileRejected(
            "unreadable",
            f"{path.name}: cannot be opened as an Excel workbook ({type(e).__name__}: {e}) / 无法打开Excel文件",
        ) from None
    out = tmp_dir / f"{sha[:16]}.xlsx.csv"
    opts = rules[0].reader if rules else ReaderOptions()
    notes: list[str] = []
    footer = 0
    try:
        names = list(wb.sheet_names)
        chosen: list[str] = []
        for want in opts.sheets or (1,):
            if want == "*":
                chosen = names
                break
            if isinstance(want, int):
                if want > len(names):
                    raise FileRejected(
                        "missing_column",
                        f"{path.name}: no sheet at position {want} (sheets: {', '.join(names)}) / 找不到工作表",
                    )
                chosen.append(names[want - 1])
            elif want not in names:
                raise FileRejected(
                    "missing_column",
                    f"{path.name}: no sheet named {want!r} (sheets: {', '.join(names)}) / 找不到工作表",
                )
            else:
                chosen.append(want)
        rule = None
        header: list[str] = []
        pats = [re.compile(x) for x in opts.footer]
        with open(out, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            for sheet in chosen:
                ws = wb.get_sheet_by_name(sheet)
                # skip_empty_area=False: rows and columns from A1, so `_row` is the row a person sees in
                # Excel and header positions are the sheet's (iter_rows trims leading columns, not rows)
                rows = list(enumerate(ws.to_python(skip_empty_area=False), start=1))
                head = rows[: max(HEADER_SCAN_ROWS, (opts.header_row or 0) + 1, opts.skip_rows + HEADER_SCAN_ROWS)]
                try:
                    idx, r = _recognise(
                        path, rules or ([rule] if rule else []), [cells for _, cells in head], mappings, recoded=False
                    )
                except FileRejected as e:
                    if opts.sheets:  # the mapping named the sheets: no guessing about the others
                        raise
                    raise FileRejected(e.reason, e.message + _other_sheets(wb, sheet, rules, mappings)) from None
                extra = opts.header_rows - 1
                this = (
                    [str(c) if c is not None else "" for c in head[idx][1]]
                    if not extra
                    else two_row_header(head[idx][1], head[idx + 1][1])
                )
                while this and this[-1] == "":
                    this.pop()
                # the (lower) header row: a cell merged over columns would name only its first column
                _refuse_merged_header(path, ws, head[idx + extra][0], this)
                if rule is None:
                    rule, header = r, this
                    w.writerow(["_row", *(["_sheet"] if len(chosen) > 1 else []), *header])
                elif [normalise_header(h) for h in this] != [normalise_header(h) for h in header]:
                    raise FileRejected(
                        "missing_column",
                        f"{path.name}: sheet {sheet!r} has another header than "
                        f"sheet {chosen[0]!r}; several sheets load together only with the same "
                        "columns / 各工作表表头不一致",
                    )
                width = len(header)
                body = rows[idx + 1 + extra :]
                while body and pats:  # trailing 合计 / 共 N 条 rows and blank rows after the data
                    first = next((_cell_text(c).strip() for c in body[-1][1] if _cell_text(c).strip()), None)
                    if first is not None and not any(pt.search(first) for pt in pats):
                        break
                    footer += first is not None
                    body.pop()
                n = 0
                for excel_row, cells in body:
                    vals = [c if type(c) is str else _cell_text(c) for c in cells[:width]]
                    n += 1
                    if progress and n % 10_000 == 0:
                        progress(10_000)
                    if not any(vals):
                        continue  # blank line: not a row
                    vals += [""] * (width - len(vals))
                    w.writerow([excel_row, *([sheet] if len(chosen) > 1 else []), *vals])
        if len(chosen) > 1 or opts.sheets:
            notes.append(f"sheet(s) read: {', '.join(chosen)} / 已读取工作表")
        if footer:
            notes.append(f"dropped {footer} footer row(s) (合计/总计) / 已去除合计行")
    except FileRejected:
        out.unlink(missing_ok=True)
        raise
    except Exception as e:  # a corrupt sheet part: the workbook opened but cannot be read
        out.unlink(missing_ok=True)
        raise FileRejected("unreadable", f"{path.name}: the sheet cannot be read ({type(e).__name__}: {e})") from None
    finally:
        wb.close()
    return Prepared(
        out,
        header,
        0,
        2,
        True,
        "xlsx",
        sha,
        det.size,
        rule,
        [out],
        footer_rows=footer,
        notes=notes,
        has_sheet_column=len(chosen) > 1,
    )


def _column_letter(i: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _refuse_merged_header(path: Path, ws: Any, excel_row: int, header: list[str]) -> None:
    """A header cell merged across columns names only its first column: the others (a time beside a
    date under one 回访时间) would be dropped without a word. Refuse the file and name them."""
    spans = []
    for (r0, c0), (r1, c1) in ws.merged_cell_ranges or []:
        if r0 <= excel_row - 1 <= r1 and c1 > c0 and c0 < len(header):
            name = header[c0] or next((h for h in header[c0 : c1 + 1] if h), "")
            spans.append(f"{name} ({_column_letter(c0)}{excel_row}:{_column_letter(c1)}{excel_row})")
    if spans:
        raise FileRejected(
            "merged_header",
            f"{path.name}: sheet {ws.name!r}: header cell(s) merged over several "
            f"columns: {', '.join(spans)}; only the first column of a merged header can be read. "
            "Unmerge them and give each column its own header (e.g. date and time in one "
            "column 回访时间) / 表头有合并单元格，请取消合并并为每一列填写列名",
        )


def _other_sheets(wb: Any, tried: str, rules: list[FileRule], mappings: Mappings) -> str:
    """For a workbook whose first sheet has no usable header: its sheets, and which have one."""
    names = list(wb.sheet_names)
    if len(names) < 2:
        return ""
    matching = []
    for name in names:
        if name == tried:
            continue
        try:
            head = []
            for cells in wb.get_sheet_by_name(name).to_python(skip_empty_area=False):
                head.append(cells)
                if len(head) >= HEADER_SCAN_ROWS:
                    break
            idx, rule = _recognise(Path(name), rules, head, mappings, recoded=False)
        except Exception:  # this sheet has no usable header either (or cannot be read): not a candidate
            continue
        matching.append(f"{name!r} (header on row {idx + 1}, {rule.entity})")
    found = (
        (
            f"; sheet(s) with a matching header: {', '.join(matching)} — put the data on the first sheet "
            "/ 数据在其他工作表，请放在第一个工作表"
        )
        if matching
        else "; no sheet has a matching header"
    )
    return f" (read sheet {tried!r}; the workbook's sheets: {', '.join(map(repr, names))}{found})"


def is_xlsx(path: Path) -> bool:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    return magic.startswith(b"PK\x03\x04") or path.suffix.lower() in {".xlsx", ".xlsm"}


def fingerprint(path: Path) -> enc.Detected:
    """sha256 and size of any file; for a CSV also its encoding (one pass)."""
    if is_xlsx(path):
        return enc.Detected("xlsx", enc.sha256_of(path), path.stat().st_size)
    return enc.detect(path)


def prepare(
    path: Path, det: enc.Detected, mappings: Mappings, tmp_dir: Path, progress: Callable[[int], None] | None = None
) -> Prepared:
    """Transcode or convert, find the header and the mapping rule; or raise FileRejected."""
    if det.size == 0:
        raise FileRejected(
            "empty_file", f"{path.name}: the file is empty (0 bytes); export it again / 空文件（0字节），请重新导出"
        )
    if det.encoding == "xlsx":
        return prepare_xlsx(path, det, mappings, tmp_dir, progress)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if path.suffix.lower() == ".xls" or magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            "unreadable",
            f"{path.name}: old binary Excel (.xls) is not supported; save it as .xlsx or CSV / 请另存为xlsx或CSV",
        )
    return prepare_csv(path, det, mappings, tmp_dir, progress)


def header_positions(p: Prepared) -> tuple[dict[str, int], list[str]]:
    """canonical column -> 0-based position in `p.header`; and the header cells no column claims."""
    pos: dict[str, int] = {}
    extra: list[str] = []
    used = {normalise_header(h) for d in p.rule.derived.values() for h in d.headers}
    for i, h in enumerate(p.header):
        c = p.rule.column_for(h)
        if c is None and normalise_header(h) in used:
            continue  # read by a derived column
        if c is None or c in pos:
            if normalise_header(h):
                extra.append(h)
            continue
        pos[c] = i
    return pos, extra

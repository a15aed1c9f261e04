"""Cells a spreadsheet must show as text, never run: the one rule for every CSV a reader gets.

A cell that starts with = + - @ (or a tab / carriage return that Excel skips before them) is a formula
to Excel and LibreOffice when a CSV is opened (CSV injection: =HYPERLINK(...), =cmd|...). The monthly
workbook and the dashboards' Excel downloads keep such text as text cells (xlsxwriter with
strings_to_formulas off, write_string); a CSV has no cell types, so every CSV written for a reader
(`kefu sql --csv`, the dashboards' CSV downloads) goes through `neutralise`: such a text gets a leading
apostrophe, the OWASP remedy, which Excel shows as plain text. Numbers are left as they are (a negative
number is data, not a formula); only text cells are changed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """`value`, or a text that would start a formula with an apostrophe in front."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def write_csv(fh: IO[str], header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> None:
    """Write a header and rows as CSV (RFC 4180: CRLF, so a CR or LF inside a cell is always quoted),
    every text cell neutralised."""
    w = csv.writer(fh, lineterminator="\r\n")
    w.writerow([neutralise(h) for h in header])
    w.writerows([neutralise(v) for v in row] for row in rows)


def csv_bytes(frame) -> bytes:
    """A pandas DataFrame as a CSV download: UTF-8 with BOM (Excel opens it as UTF-8), text neutralised."""
    import io

    buf = io.StringIO()
    write_csv(buf, frame.columns, frame.astype(object).where(frame.notna(), None).itertuples(index=False))
    return buf.getvalue().encode("utf-8-sig")

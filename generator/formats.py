"""How each source system writes its exports: file type, encoding, date style.

The generator writes every entity the way a real system of that kind does; the
ingest source mappings (issue: ingest) describe the same shapes. A timestamp is
truncated to the precision of its date style *before* the answer key sees it,
so the key is computed on exactly the values written.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import xlsxwriter

from kefu import contract

EXCEL_EPOCH = datetime(1899, 12, 30)


@dataclass(frozen=True)
class ExportFormat:
    entity: str
    file_stem: str  # Chinese file-name stem, e.g. 工单 -> 工单_20260305.csv
    ext: str  # csv | xlsx
    encoding: str | None  # csv only: utf-8-sig (BOM), utf-8, gb18030, gbk
    ts_style: str  # slash_s | slash_m | cn_m | iso_s | excel
    date_style: str  # slash | cn | iso | excel
    title_row: str | None = None  # xlsx: a title line above the header

    @property
    def precision(self) -> timedelta:
        return timedelta(minutes=1) if self.ts_style in {"slash_m", "cn_m"} else timedelta(seconds=1)

    def file_name(self, stamp: str) -> str:
        return f"{self.file_stem}_{stamp}.{self.ext}"


# entity -> format. Reference lists come from the CRM as Excel; the call centre
# writes GB18030/GBK CSV; the ticket system UTF-8 with BOM and Chinese dates.
FORMATS: dict[str, ExportFormat] = {
    f.entity: f
    for f in [
        ExportFormat("districts", "片区清单", "xlsx", None, "excel", "excel", "片区清单"),
        ExportFormat("district_households", "片区用户数", "xlsx", None, "excel", "excel", "片区在网用户数月报"),
        ExportFormat("technicians", "维护人员", "xlsx", None, "excel", "excel", None),
        ExportFormat("customers", "客户资料", "csv", "utf-8-sig", "slash_s", "slash"),
        ExportFormat("tickets", "工单明细", "csv", "utf-8-sig", "cn_m", "cn"),
        ExportFormat("ticket_pauses", "工单挂起", "csv", "utf-8-sig", "slash_m", "slash"),
        ExportFormat("calls", "话务详单", "csv", "gb18030", "slash_s", "slash"),
        ExportFormat("surveys", "满意度调查", "csv", "gbk", "slash_m", "slash"),
        ExportFormat("callbacks", "回访记录", "xlsx", None, "excel", "excel", "客户回访记录导出"),
        ExportFormat("outbound", "外呼记录", "csv", "utf-8", "iso_s", "iso"),
        ExportFormat("hall_visits", "营业厅排队", "xlsx", None, "excel", "excel", None),
        ExportFormat("suspensions", "欠费停机", "csv", "gbk", "cn_m", "cn"),
        ExportFormat("works", "工程计划", "xlsx", None, "excel", "excel", "工程及割接计划"),
        ExportFormat("work_notices", "工程通知", "xlsx", None, "excel", "excel", None),
    ]
}


def truncate(ts: datetime | None, fmt: ExportFormat) -> datetime | None:
    """Drop what the export cannot show (seconds for minute styles, microseconds always)."""
    if ts is None:
        return None
    ts = ts.replace(microsecond=0)
    return ts.replace(second=0) if fmt.precision >= timedelta(minutes=1) else ts


def format_timestamp(ts: datetime, style: str) -> str:
    if style == "slash_s":
        return f"{ts.year}/{ts.month}/{ts.day} {ts.hour:02d}:{ts.minute:02d}:{ts.second:02d}"
    if style == "slash_m":
        return f"{ts.year}/{ts.month}/{ts.day} {ts.hour:02d}:{ts.minute:02d}"
    if style == "cn_m":
        return f"{ts.year}年{ts.month}月{ts.day}日 {ts.hour:02d}时{ts.minute:02d}分"
    if style == "iso_s":
        return ts.strftime("%Y-%m-%d %H:%M:%S")
    raise ValueError(f"unknown timestamp style {style!r}")


def format_date(d: date, style: str) -> str:
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    if style == "iso":
        return d.isoformat()
    raise ValueError(f"unknown date style {style!r}")


def excel_serial(value: datetime | date) -> float:
    """Excel's serial day number (1900 date system) of a date or datetime."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    delta = value - EXCEL_EPOCH
    return delta.days + delta.seconds / 86400


def cell_text(value: Any, col: contract.Column, fmt: ExportFormat) -> Any:
    """A canonical value as the export shows it (text for CSV, a cell value for XLSX)."""
    if value is None:
        return None
    if col.type == "enum":
        return col.label(value)
    if col.type == "boolean":
        return contract.BOOLEAN_LABELS[bool(value)]
    if col.type == "timestamp":
        return excel_serial(value) if fmt.ts_style == "excel" else format_timestamp(value, fmt.ts_style)
    if col.type == "date":
        return excel_serial(value) if fmt.date_style == "excel" else format_date(value, fmt.date_style)
    return value


class ExportWriter:
    """Writes one export file of one entity, row by row (constant memory)."""

    def __init__(self, path: Path, fmt: ExportFormat, created: datetime, title: str | None = None):
        self.path, self.fmt = path, fmt
        self.entity = contract.entity(fmt.entity)
        self.columns = self.entity.columns
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        header = [c.zh for c in self.columns]
        if fmt.ext == "csv":
            self._fh = open(path, "w", encoding=fmt.encoding, newline="")  # noqa: SIM115 (closed by close())
            self._csv = csv.writer(self._fh, lineterminator="\r\n")
            self._csv.writerow(header)
        else:
            self._wb = xlsxwriter.Workbook(
                str(path),
                {
                    "constant_memory": True,
                    "strings_to_formulas": False,
                    "strings_to_numbers": False,
                    "strings_to_urls": False,
                },
            )
            # A fixed creation time keeps the bytes identical for the same seed.
            self._wb.set_properties({"created": created, "author": "kefu generate"})
            self._ws = self._wb.add_worksheet("Sheet1")
            self._ts_fmt = self._wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
            self._date_fmt = self._wb.add_format({"num_format": "yyyy-mm-dd"})
            self._row = 0
            if title or fmt.title_row:
                self._ws.write_string(0, 0, title or fmt.title_row)
                self._row = 2  # title, blank line, then the header
            for j, h in enumerate(header):
                self._ws.write_string(self._row, j, h)
            self._row += 1

    def write(self, row: dict[str, Any]) -> None:
        if self.fmt.ext == "csv":
            self._csv.writerow(
                ["" if (v := cell_text(row.get(c.name), c, self.fmt)) is None else v for c in self.columns]
            )
        else:
            for j, c in enumerate(self.columns):
                v = cell_text(row.get(c.name), c, self.fmt)
                if v is None:
                    continue
                if c.type == "timestamp":
                    self._ws.write_number(self._row, j, v, self._ts_fmt)
                elif c.type == "date":
                    self._ws.write_number(self._row, j, v, self._date_fmt)
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    self._ws.write_number(self._row, j, v)
                else:
                    self._ws.write_string(self._row, j, str(v))
            self._row += 1
        self.rows += 1

    def write_all(self, rows: Iterable[dict[str, Any]]) -> None:
        for r in rows:
            self.write(r)

    def close(self) -> None:
        if self.fmt.ext == "csv":
            self._fh.close()
        else:
            self._wb.close()

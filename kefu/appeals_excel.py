"""The appeal Excel template (申诉模板) and its import (kefu appeals template / import).

The template lists the failed items of the month's draft that the user may appeal (their districts'
or their own tickets and unit results), one row each, with two empty columns to fill: 申诉理由
reason and 附件 attachment (a file name, relative to the workbook's folder). Importing files one
appeal per row with a reason; every row is checked first (item, scope, window, attachment) and
nothing is filed when any row is wrong — the error names the file, row, column and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import xlsxwriter

from kefu import appeals
from kefu.access import Access
from kefu.appeals import AppealError, Item
from kefu.home import Home

COLUMNS = [  # key, Chinese header, English header, width
    ("measure_id", "规则", "Rule", 8),
    ("item_kind", "申诉对象", "Item kind (ticket / unit)", 12),
    ("item_id", "工单编号/单位", "Ticket id or grain:unit", 22),
    ("district_id", "片区", "District", 9),
    ("technician_id", "维修人员", "Technician", 11),
    ("detail", "未达标情况", "Why it failed", 34),
    ("reason", "申诉理由（必填）", "Reason (fill in to appeal)", 40),
    ("attachment", "附件（文件名）", "Attachment (file beside this workbook)", 28),
]
HEADER_ROWS = 3  # title, Chinese header, English header
SHEET = "申诉 Appeals"


def failed_items(home: Home, month: str, who: Access) -> list[dict]:
    """The month's failed items in the user's scope: ticket items, then unit results."""
    folder = home.assessment_dir(month)
    for table in ("fct_ticket_sla", "kpi_rule_results"):
        if not (folder / f"{table}.parquet").exists():
            raise AppealError(
                f"{month} has no draft assessment in {folder}: the monthly_assessment run publishes it first"
            )
    con = duckdb.connect()
    try:
        tickets = con.execute(
            "select measure_id, 'ticket' as item_kind, ticket_id as item_id, district_id, technician_id, "
            "state || ' · deadline ' || strftime(deadline_at, '%Y-%m-%d %H:%M') as detail from read_parquet(?) "
            "where period_month = ? and is_judged and not is_met order by measure_id, ticket_id",
            [str(folder / "fct_ticket_sla.parquet"), month],
        ).fetchall()
        units = con.execute(
            "select measure_id, 'unit' as item_kind, grain || ':' || unit_id as item_id, "
            "case when grain = 'district' then unit_id end, case when grain = 'technician' then unit_id end, "
            "printf('%d / %d = %.4f %s %.4f', numerator, denominator, value, comparison, threshold) "
            "from read_parquet(?) where period_month = ? and passed = false order by measure_id, grain, unit_id",
            [str(folder / "kpi_rule_results.parquet"), month],
        ).fetchall()
    finally:
        con.close()
    keys = [c[0] for c in COLUMNS[:6]]
    rows = [dict(zip(keys, r)) for r in tickets + units]
    return [r for r in rows if appeals.in_scope(who, None, r)]


def write_template(home: Home, month: str, who: Access, path: Path) -> tuple[Path, int]:
    rows = failed_items(home, month, who)
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    ws = wb.add_worksheet(SHEET)
    bold = wb.add_format({"bold": True, "font_size": 13})
    head = wb.add_format({"bold": True, "bg_color": "#1F3A5F", "font_color": "#FFFFFF", "border": 1})
    fill = wb.add_format({"bg_color": "#FFF3CD", "border": 1})
    st = appeals.status(home, month)
    ws.write_string(
        0,
        0,
        f"{month} 申诉模板 · appeal template for {who.user} ({who.label}) · 申诉截止 window closes "
        f"{st.window_ends:%Y-%m-%d %H:%M} Asia/Shanghai"
        if st.window_ends
        else f"{month} 申诉模板",
        bold,
    )
    for c, (_key, zh, en, width) in enumerate(COLUMNS):
        ws.write_string(1, c, zh, head)
        ws.write_string(2, c, en, head)
        ws.set_column(c, c, width)
    for r, row in enumerate(rows, start=HEADER_ROWS):
        for c, (key, *_rest) in enumerate(COLUMNS):
            value = row.get(key)
            if key in ("reason", "attachment"):
                ws.write_blank(r, c, None, fill)
            elif value is not None:
                ws.write_string(r, c, str(value))
    ws.freeze_panes(HEADER_ROWS, 3)
    wb.close()
    return path, len(rows)


@dataclass(frozen=True)
class Row:
    number: int  # the spreadsheet row number (1-based, as Excel shows it)
    item: Item
    reason: str
    attachment: Path | None


def read_rows(path: Path) -> list[Row]:
    """The rows of a filled template with a reason; raises naming file, row and column."""
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, KeyError, zipfile.BadZipFile, InvalidFileException) as exc:  # not an xlsx, damaged
        raise AppealError(f"{path}: not a readable Excel workbook ({exc})") from None
    if SHEET not in wb.sheetnames:
        raise AppealError(f"{path}: no sheet {SHEET!r} (use the template of `kefu appeals template`)")
    ws = wb[SHEET]
    header = list(next(ws.iter_rows(min_row=2, max_row=2, values_only=True)))
    expected = [zh for _k, zh, _e, _w in COLUMNS]
    if list(header[: len(expected)]) != expected:
        raise AppealError(f"{path}: row 2 should hold the headers {', '.join(expected)}; found {header}")
    out, errors = [], []
    for number, values in enumerate(ws.iter_rows(min_row=HEADER_ROWS + 1, values_only=True), start=HEADER_ROWS + 1):
        row = dict(zip([k for k, *_ in COLUMNS], values))
        reason = str(row.get("reason") or "").strip()
        if not reason:
            continue  # not appealed
        kind, item_id, rule = (
            row.get("item_kind"),
            str(row.get("item_id") or "").strip(),
            str(row.get("measure_id") or "").strip(),
        )
        if kind not in appeals.ITEM_KINDS:
            errors.append(f"{path}: row {number}, column 申诉对象 (B): expected ticket or unit, got {kind!r}")
            continue
        if not rule or not item_id or (kind == "unit" and ":" not in item_id):
            errors.append(
                f"{path}: row {number}, columns 规则 (A) / 工单编号/单位 (C): expected a rule and a "
                f"{'ticket id' if kind == 'ticket' else 'grain:unit_id'}, got {rule!r} / {item_id!r}"
            )
            continue
        item = Item.ticket(rule, item_id) if kind == "ticket" else Item.unit(rule, *item_id.split(":", 1))
        attachment = None
        if row.get("attachment"):
            attachment = (path.parent / str(row["attachment"]).strip()).resolve()
            if not attachment.is_file():
                errors.append(
                    f"{path}: row {number}, column 附件 (H): no file {attachment} (put it beside the workbook)"
                )
                continue
        out.append(Row(number, item, reason, attachment))
    if errors:
        raise AppealError("\n".join(errors))
    return out


def import_file(home: Home, month: str, who: Access, path: Path, at: datetime | None = None) -> list[appeals.Appeal]:
    """File every row of a filled template; all rows are checked before any is filed."""
    rows = read_rows(path)
    if not rows:
        raise AppealError(f"{path}: no row has a reason (申诉理由): nothing to file")
    errors = []
    st = appeals.status(home, month)
    at = at or appeals.now_utc()
    if not st.window_open(at):
        raise AppealError(
            f"{path}: {month} takes no appeals now ({st.label}; window "
            f"{'closed at ' + format(st.window_ends, '%Y-%m-%d %H:%M') if st.window_ends else 'not open'})"
        )
    taken = {a.item for a in appeals.appeals(home, month) if a.state in ("pending", "approved")}
    for r in rows:
        try:
            units = appeals.failed_item(home, month, r.item)
            if not appeals.in_scope(who, r.item, units):
                raise AppealError(f"{r.item.label}: outside {who.user}'s scope ({who.label})")
            if r.item in taken:
                raise AppealError(f"{r.item.label}: already appealed")
        except AppealError as exc:
            errors.append(f"{path}: row {r.number}: {exc}")
    if errors:
        raise AppealError("nothing filed:\n" + "\n".join(errors))
    return [appeals.file_appeal(home, who, month, r.item, r.reason, r.attachment, at=at) for r in rows]

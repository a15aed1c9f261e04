"""Reason codes for rejected files and quarantined rows.

The generator's fault manifest (expected/faults.csv) and ingest's quarantine and
load-log tables use the same codes, so a test can match every planted fault to
what ingest did with it. `outcome` says what ingest must do.
"""

from __future__ import annotations

# code -> (outcome, explanation). outcome: quarantine (the row), reject (the whole file), load (accepted as is).
REASONS: dict[str, tuple[str, str]] = {
    "bad_timestamp": ("quarantine", "a date/time that cannot be parsed (e.g. 2026/13/45 25:61)"),
    "ambiguous_date": ("quarantine", "a date that reads two ways (03/05/2026: 5 March or 3 May)"),
    "bad_enum": ("quarantine", "a value outside the column's allowed values"),
    "bad_number": ("quarantine", "a number that cannot be parsed or has the wrong type"),
    "negative_duration": ("quarantine", "a duration below zero"),
    "end_before_start": ("quarantine", "a later milestone earlier than the one it follows"),
    "duplicate_key": ("quarantine", "the same key twice in one file (the first occurrence loads)"),
    "missing_value": ("quarantine", "a required cell is empty"),
    "truncated_row": ("quarantine", "a row cut short (fewer cells than the header)"),
    "unknown_reference": ("quarantine", "a district or technician not in the reference lists"),
    "malformed_row": ("quarantine", "a line the CSV reader cannot split into cells (extra cells, a broken quote)"),
    "encoding": ("reject", "the file is not UTF-8, UTF-8 with BOM, GBK or GB18030"),
    "missing_column": ("reject", "an identity column (key, type, event time) is missing"),
    "unreadable": ("reject", "the file cannot be opened as CSV or XLSX"),
    "unrecognised_file": ("reject", "no source mapping matches the file's name or header"),
    "empty_file": ("reject", "the file is empty: 0 bytes, or only blank lines (空文件)"),
    "merged_header": ("reject", "an XLSX header cell merged over several columns (表头合并单元格)"),
    "extra_column": ("load", "a column the contract does not know: ignored, noted in the load log"),
    "title_row": ("load", "an XLSX title row above the header: the header is found below it"),
}


def outcome(code: str) -> str:
    return REASONS[code][0]

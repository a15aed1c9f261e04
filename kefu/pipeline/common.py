"""What every step of the pipeline shares: its error, the writer slot's name, the build state
beside the working warehouse, atomic JSON, and the calendar helpers."""

from __future__ import annotations

import calendar
import json
import os
import tempfile
from datetime import date, timedelta
from pathlib import Path

from kefu.home import POOL, Home  # noqa: F401  (POOL: the one writer slot, defined once in kefu.home)

STATE_FILE = "state.json"  # beside the working warehouse: what the last build was


class PipelineError(RuntimeError):
    """A step refused to go on; the message says what to do."""


def _write_json_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, 0o644)  # mkstemp makes it 0600: readers (dashboards, analysts) may be other users
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2, default=str)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _state(home: Home) -> dict:
    p = home.warehouse.parent / STATE_FILE
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def month_bounds(month: str) -> tuple[date, date]:
    y, m = (int(x) for x in month.split("-"))
    return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])


def previous_month(day: date) -> str:
    return (day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def day_folders(folder: Path) -> list[date]:
    """The business dates of a landing or archive folder: its subfolders named YYYY-MM-DD."""
    return sorted(date.fromisoformat(p.name) for p in folder.iterdir() if p.is_dir() and len(p.name) == 10)

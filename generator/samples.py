"""Small, contract-driven sample rows for tests and the benchmark.

The real generator (`kefu generate`) builds a whole consistent world; these
rows are only *valid* (every required cell filled, enums from the contract,
timestamps in column order, references to the sample districts and
technicians), which is what ingest needs to prove its own behaviour quickly.
Files are written with :class:`generator.formats.ExportWriter`, so their shapes
(encodings, date styles, title rows) are exactly the generator's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from generator.formats import FORMATS, ExportWriter, truncate
from kefu import contract

DISTRICT_IDS = [f"D{i:02d}" for i in range(1, 6)]
TECHNICIAN_IDS = [f"T{i:04d}" for i in range(1, 11)]
SURNAMES = "张王李赵刘陈杨黄周吴"


def _phone(i: int) -> str:
    return f"13{8 + i % 2}{(i * 7919) % 100_000_000:08d}"


def _id_number(i: int) -> str:
    return f"110101198{i % 10}0{1 + i % 9}1{i % 10}{i % 10000:04d}"[:17] + "X"


def _value(col: contract.Column, entity: str, i: int, base: datetime, ts_rank: int) -> Any:
    n = col.name
    if col.type == "enum":
        vals = list(col.values)
        if n == "severity" or n == "restoration_kind" or n == "vip_level" or n == "transfer_outcome":
            return vals[i % len(vals)] if i % 3 else None
        return vals[i % len(vals)]
    if col.type == "boolean":
        return i % 2 == 0
    if col.type == "integer":
        return i % 7
    if col.type == "number":
        return round(i * 1.5, 2)
    if col.type == "month":
        return f"{base.year}-{base.month:02d}"
    if col.type == "date":
        if n == "valid_to":
            return None
        return (base - timedelta(days=30 + i % 300)).date()
    if col.type == "timestamp":
        return base + timedelta(minutes=7 * ts_rank)
    # strings
    if n == "district_id":
        return DISTRICT_IDS[i % len(DISTRICT_IDS)]
    if n == "technician_id":
        return TECHNICIAN_IDS[i % len(TECHNICIAN_IDS)]
    if "phone" in n:
        return _phone(i)
    if n == "id_number":
        return _id_number(i)
    if n == "address":
        return f"杭州市西湖区文三路{i % 500 + 1}号{i % 30 + 1}栋"
    if n.endswith("_name") and entity in {"customers", "technicians"}:
        return SURNAMES[i % len(SURNAMES)] + "小明"
    if n == "summary":
        return f"用户{SURNAMES[i % len(SURNAMES)]}先生来电，回拨{_phone(i + 1)}"
    if n == "district_name":
        return f"第{i + 1}片区"
    if n.endswith("_id"):
        return f"{n[:2].upper()}{i:07d}"
    return f"{n}-{i}"


def rows(entity: str, day: date, n: int, start: int = 0) -> Iterator[dict[str, Any]]:
    """`n` valid canonical rows of `entity` for business date `day`."""
    ent = contract.entity(entity)
    fmt = FORMATS[entity]
    ts_cols = [c.name for c in ent.columns if c.type == "timestamp"]
    for i in range(start, start + n):
        if entity == "districts":
            i = i % len(DISTRICT_IDS)
        if entity == "technicians":
            i = i % len(TECHNICIAN_IDS)
        base = datetime(day.year, day.month, day.day, 8) + timedelta(seconds=(37 * i) % 30000)
        row: dict[str, Any] = {}
        for c in ent.columns:
            rank = ts_cols.index(c.name) if c.name in ts_cols else 0
            v = _value(c, entity, i, base, rank)
            if c.type == "timestamp":
                v = truncate(v, fmt)
            row[c.name] = v
        if entity == "districts":
            row["district_id"] = DISTRICT_IDS[i]
        if entity == "technicians":
            row["technician_id"] = TECHNICIAN_IDS[i]
        if entity == "calls" and row.get("answered_at") and row.get("ended_at"):
            row["talk_seconds"] = int((row["ended_at"] - row["answered_at"]).total_seconds())
        yield row


def write(path: Path, entity: str, day: date, n: int, start: int = 0) -> Path:
    """Write `n` sample rows of `entity` in the generator's format for `entity`."""
    w = ExportWriter(path, FORMATS[entity], created=datetime(day.year, day.month, day.day))
    w.write_all(rows(entity, day, n, start))
    w.close()
    return path


def write_day(landing: Path, day: date, sizes: dict[str, int]) -> list[Path]:
    """A day folder like the generator's: landing/YYYY-MM-DD/<stem>_<YYYYMMDD>.<ext>."""
    folder = landing / day.isoformat()
    out = []
    for entity, n in sizes.items():
        out.append(write(folder / FORMATS[entity].file_name(day.strftime("%Y%m%d")), entity, day, n))
    return out

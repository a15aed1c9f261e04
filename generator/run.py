"""`kefu generate`: write a landing folder of nightly exports and the answer key.

out/landing/YYYY-MM-DD/<file_stem>_<YYYYMMDD>.<ext>  one file per (business date, entity)
out/expected/kpi_expected.csv                         the answer key (generator.oracle.AnswerKey)
out/expected/files.csv                                every file written: entity, format, encoding, rows
out/expected/faults.csv                               with --faults: the planted input faults
"""

from __future__ import annotations

import csv
import shutil
import time
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from generator.formats import FORMATS, ExportWriter
from generator.oracle import AnswerKey
from generator.world import World, business_datetime

FILES_COLUMNS = ["file", "entity", "format", "encoding", "rows"]


def generate(preset: str, seed: int, months: int | None, out: Path, faults: bool, progress: bool) -> str:
    t0 = time.perf_counter()
    out = Path(out)
    world = World(preset, seed, months)
    for sub in ("landing", "expected"):  # a rerun must not leave files of an earlier run behind
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    landing = out / "landing"
    key = AnswerKey(world.start, world.end)
    files: list[dict] = []
    rows: Counter[str] = Counter()
    bar = tqdm(world.days(), total=world.n_days, disable=not progress, unit="day", desc=f"kefu generate {preset}")
    for day, exports in bar:
        created = business_datetime(day)
        for entity, entity_rows in exports.items():
            fmt = FORMATS[entity]
            path = landing / day.isoformat() / fmt.file_name(f"{day:%Y%m%d}")
            writer = ExportWriter(path, fmt, created=created)
            try:
                for r in entity_rows:
                    writer.write(r)
                    key.feed(entity, r)
            finally:
                writer.close()
            rows[entity] += writer.rows
            files.append(
                {
                    "file": path.relative_to(out).as_posix(),
                    "entity": entity,
                    "format": fmt.ext,
                    "encoding": fmt.encoding or "",
                    "rows": writer.rows,
                }
            )
        key.end_of_day(day)
    expected = out / "expected"
    key.finish()  # judges what is left as of 24:00 of the last business date
    key_rows = key.write_csv(expected / "kpi_expected.csv")
    with open(expected / "files.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FILES_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(files)
    n_faults = None
    if faults:
        from generator.faults import inject

        n_faults = len(inject(out, seed))
    seconds = time.perf_counter() - t0
    lines = [
        f"kefu generate: preset {preset}, seed {seed}, {world.start} .. {world.end} -> {out}",
        f"  {len(files)} files, {sum(rows.values()):,} rows, answer key {key_rows:,} rows"
        + (f", {n_faults} planted faults (expected/faults.csv)" if n_faults is not None else ""),
        *[f"  {e:20s} {rows[e]:>12,}" for e in FORMATS if e in rows],
        f"  {seconds:.1f} s",
    ]
    return "\n".join(lines)

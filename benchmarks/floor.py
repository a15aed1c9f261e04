"""The floor: core KPIs T9, A2, H1, S1, C1 by one hand-written DuckDB query over the export files.

    python -m benchmarks.floor LANDING [--work DIR]

benchmarks/floor.sql is the query. It reads the ticket exports (UTF-8 with BOM) in place. The
DuckDB in this project cannot read the other three inputs by itself: GB18030 / GBK CSV needs the
`encodings` extension and XLSX the `excel` extension, and neither is bundled with the Python
wheel (they are downloaded on first use, which this installation cannot do). So the floor has a
decode step, timed separately and reported beside the query: call records and hotline surveys
are transcoded to UTF-8 (Python's codecs, streamed), callbacks and district households are
written out of their workbooks as CSV (python-calamine, the same reader as the warehouse's
ingest; the title row above the header skipped, date cells as ISO text). Only the files the five KPIs need are decoded.

Limits (T9 24 h, C1 72 h, H1 20 s and its short-abandon) and the S1 brand groups are read from
kefu/rulebook.yml and handed to the query as variables; nothing is typed in the SQL.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from kefu import contract, rulebook

SQL = Path(__file__).with_name("floor.sql")

# what the query reads: variable -> (export file pattern under LANDING/<date>/, decode step)
INPUTS = {
    "tickets_csv": ("工单明细_*.csv", None),
    "calls_csv": ("话务详单_*.csv", "gb18030"),
    "surveys_csv": ("满意度调查_*.csv", "gb18030"),  # GBK files: GB18030 is a superset
    "callbacks_csv": ("回访记录_*.xlsx", "xlsx"),
    "households_csv": ("片区用户数_*.xlsx", "xlsx"),
}
HEADER_FIRST_CELL = {"callbacks_csv": "回访编号", "households_csv": "片区编号"}


def _cell(v) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, float) and v.is_integer():  # calamine gives every number as float
        return str(int(v))
    return str(v)


def xlsx_to_csv(src: Path, dst: Path, first_header_cell: str) -> None:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(src))
    rows = iter(wb.get_sheet_by_index(0).to_python())
    with open(dst, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        for r in rows:  # skip the title row(s) above the header
            if r and r[0] == first_header_cell:
                w.writerow(r)
                break
        w.writerows([_cell(c) for c in r] for r in rows)
    wb.close()


def decode(landing: Path, work: Path) -> dict[str, str]:
    """Write the UTF-8 CSV copies the query needs into `work`; return the query's file globs."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    globs = {}
    for var, (pattern, step) in INPUTS.items():
        if step is None:
            globs[var] = str(landing / "*" / pattern)
            continue
        for src in sorted(landing.glob(f"*/{pattern}")):
            dst = work / (src.stem + ".csv")
            if step == "xlsx":
                xlsx_to_csv(src, dst, HEADER_FIRST_CELL[var])
            else:
                with open(src, encoding=step, newline="") as i, open(dst, "w", encoding="utf-8", newline="") as o:
                    shutil.copyfileobj(i, o, 1 << 22)
        globs[var] = str(work / (pattern.rsplit(".", 1)[0] + ".csv"))
    return globs


def variables() -> dict:
    """Limits in seconds and the tier-label -> brand-group map, from the rulebook and the contract."""
    m = rulebook.load()
    secs = lambda mid, key="all": int(m[mid].limit(key).duration.total_seconds())  # noqa: E731
    labels = contract.entity("surveys").column("customer_tier").values  # canonical -> Chinese label
    groups = {label: rulebook.brand_group(tier) for tier, label in labels.items()}
    groups = {k: v for k, v in groups.items() if v != "other"}
    calls_tiers = contract.entity("calls").column("customer_tier").values
    validity = contract.entity("tickets").column("complaint_validity").values
    return {
        "t9_limit_s": secs("T9"),
        "c1_limit_s": secs("C1"),
        "h1_limit_s": secs("H1"),
        "h1_short_abandon_s": secs("H1", "short_abandon"),
        "brand_group": groups,
        # H1's VIP caller (D-116): the VIP tiers' export labels, or the VIP queue
        "h1_by_tier": rulebook.h1_vip_caller() == "tier",
        "h1_vip_labels": [calls_tiers[t] for t in sorted(rulebook.vip_tiers())],
        # A2 (D-119): the export label of a complaint found not upheld
        "invalid_complaint_label": validity["invalid"],
    }


def query(globs: dict[str, str], threads: int | None = None) -> pd.DataFrame:
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for k, v in {**globs, **variables()}.items():
        if isinstance(v, dict):
            con.execute(f"SET VARIABLE {k} = map(?, ?)", [list(v), list(v.values())])
        else:
            con.execute(f"SET VARIABLE {k} = ?", [v])
    df = con.execute(SQL.read_text(encoding="utf-8")).df()
    con.close()
    return df


def run(landing: Path, work: Path) -> tuple[pd.DataFrame, dict[str, float]]:
    """(KPI rows, {"decode_seconds", "query_seconds"})."""
    t0 = time.perf_counter()
    globs = decode(Path(landing), Path(work))
    t1 = time.perf_counter()
    df = query(globs)
    t2 = time.perf_counter()
    return df, {"decode_seconds": t1 - t0, "query_seconds": t2 - t1}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("landing", type=Path, help="landing folder of exports (LANDING/YYYY-MM-DD/…)")
    ap.add_argument("--work", type=Path, default=Path("out/floor_work"), help="where the decoded copies go")
    ap.add_argument("--csv", type=Path, help="write the KPI rows here")
    args = ap.parse_args(argv)
    df, t = run(args.landing, args.work)
    if args.csv:
        df.to_csv(args.csv, index=False)
    print(df.groupby(["measure_id", "grain"]).size().to_string())
    print(f"decode {t['decode_seconds']:.2f} s, query {t['query_seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

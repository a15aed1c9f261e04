"""Loading history in one pass: the steps of the Airflow DAG `backfill` (dags/backfill.py).

For a new installation with months of exports, or a catch-up after an outage: every landed day
folder up to a business date is ingested as ONE bulk batch (ingest/bulk.py: one read_csv per
entity and shape, one transaction), then ONE dbt build as of the last day, the contract gate,
the threshold suites over every month of the batch, and publish — instead of one nightly run per
day. The nightly DAG takes over from the next day; `monthly_assessment` closes each month of the
history as of its own month end (prepare_month rebuilds it from the export history, D-73), so a
closed month equals what its nights would have published (D-71, D-105).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kefu.home import Home
from kefu.vault import Vault, private_dir


def landed_days(home: Home, through: date | None = None) -> list[date]:
    """Business dates with files waiting in landing/, up to `through`."""
    from kefu.pipeline import day_folders

    if not home.landing.is_dir():
        return []
    return [
        d
        for d in day_folders(home.landing)
        if (through is None or d <= through) and any(p.is_file() for p in (home.landing / d.isoformat()).rglob("*"))
    ]


def months_between(first: date, last: date) -> list[str]:
    out, (y, m) = [], (first.year, first.month)
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def ingest_backlog(home: Home, through: date | None = None, demo_key: bool = False, config: Path | None = None) -> dict:
    """Bulk-load every landed day folder up to `through` (default: all) into the working warehouse;
    each day's files are named, archived and rejected as the nightly run of that day does it."""
    from ingest import config as ingest_config
    from ingest.bulk import bulk_ingest, day_batch
    from kefu.pipeline import PipelineError

    days = landed_days(home, through)
    if not days:
        raise PipelineError(
            f"nothing to backfill: no exports waiting in {home.landing}"
            + (f" up to {through}" if through else "")
            + " (没有待补录的导出文件)"
        )
    cfg = ingest_config.load(config, demo_key=demo_key)
    for d in (home.landing, home.archive, home.rejected):  # private to the service user (D-97)
        private_dir(d)
    summary = bulk_ingest(
        day_batch(home.landing, home.archive, home.rejected, days), home.warehouse, cfg, vault=Vault.for_home(home.root)
    )
    loaded = [r for r in summary.results if r.status == "loaded"]
    return {
        "first_day": days[0].isoformat(),
        "business_date": days[-1].isoformat(),
        "days": len(days),
        "months": months_between(days[0], days[-1]),
        "files": len(summary.results),
        "loaded": len(loaded),
        "rejected": summary.count("rejected"),
        "duplicate": summary.count("duplicate"),
        "rows_loaded": sum(r.rows_loaded for r in loaded),
        "rows_quarantined": sum(r.rows_quarantined for r in loaded),
        "summary": str(summary),
    }


def backfill(
    home: Home,
    through: date | None = None,
    run_id: str | None = None,
    demo_key: bool = False,
    config: Path | None = None,
):
    """All backfill steps in one process (what the DAG's tasks run): bulk ingest, one build as of the
    last day, contract gate, threshold suites over every month of the batch, publish."""
    from kefu import pipeline

    with pipeline.writer_lock(home, wait=False):
        ing = ingest_backlog(home, through, demo_key=demo_key, config=config)
        day = date.fromisoformat(ing["business_date"])
        run_id = run_id or f"backfill__{day.isoformat()}"
        rep = pipeline.NightReport(day.isoformat(), run_id)
        rep.steps["ingest"] = ing
        rep.steps["build"] = pipeline.build_day(home, day)
        rep.steps["contract"] = pipeline.contract_gate(home, day, run_id)
        rep.steps["thresholds"] = pipeline.threshold_check(home, day, run_id, months=ing["months"])
        rep.steps["publish"] = pipeline.publish(home, day, run_id)
    return rep

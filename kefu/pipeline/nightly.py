"""The nightly steps that make the working warehouse: ingest the day, build it as of 24:00 of the
day, the Great Expectations contract gate (blocking) and the threshold suites (D-71, D-72)."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import duckdb

from kefu import build
from kefu.home import Home
from kefu.pipeline.common import STATE_FILE, PipelineError, _state, _write_json_atomic, previous_month
from kefu.vault import Vault, private_dir, prune_archive


def ingest_day(home: Home, day: date, config: Path | None = None, demo_key: bool = False) -> dict:
    """Load the exports of `day` (landing/YYYY-MM-DD) into the working warehouse; archive them.

    A date whose folder is gone because its files were archived by an earlier run is a rerun:
    nothing to load. A date with neither is an error (the exports did not arrive)."""
    from ingest import config as ingest_config
    from ingest.loader import ingest

    folder = home.landing / day.isoformat()
    archived = home.archive / day.isoformat()
    if not folder.is_dir() or not any(p.is_file() for p in folder.rglob("*")):
        if archived.is_dir():
            return {"business_date": day.isoformat(), "files": 0, "note": "already loaded (archived)"}
        raise PipelineError(f"no exports for {day} in {folder} (导出文件未到): expected a folder of that day's files")
    cfg = ingest_config.load(config, demo_key=demo_key)
    for d in (home.landing, home.archive, home.rejected):  # private to the service user (D-97)
        private_dir(d)
    summary = ingest(
        landing=folder,
        warehouse_file=home.warehouse,
        cfg=cfg,
        archive=archived,
        rejected=home.rejected / day.isoformat(),
        progress=False,
        vault=Vault.for_home(home.root),
    )
    loaded = [r for r in summary.results if r.status == "loaded"]
    # retention counts from the business date, so a rerun of a past night deletes what that night did
    deleted = prune_archive(home.root, cfg.archive_retention_days, today=day)
    return {
        "business_date": day.isoformat(),
        "files": len(summary.results),
        "loaded": len(loaded),
        "rejected": summary.count("rejected"),
        "duplicate": summary.count("duplicate"),
        "rows_loaded": sum(r.rows_loaded for r in loaded),
        "rows_quarantined": sum(r.rows_quarantined for r in loaded),
        "summary": str(summary),
        **({"archive_deleted": len(deleted)} if deleted else {}),
    }


def latest_export_date(warehouse: Path) -> date | None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select max(export_date) from audit.load_log where status = 'loaded'").fetchone()[0]
    finally:
        con.close()


def build_vars(day: date, history: bool) -> dict[str, str]:
    v = {"as_of_date": day.isoformat()}
    if history:
        v["history_as_of"] = day.isoformat()
    return v


NIGHTLY_EXCLUDE = "resource_type:test resource_type:unit_test"  # D-72: tests run monthly, in rebuild and CI
FULL_EXCLUDE = "resource_type:unit_test"  # every data test; unit tests need no data and run in CI
SEEDS = "resource_type:seed"  # an incremental build of the same project digest has its seeds loaded (D-192)
VIEWS = "config.materialized:view"  # ... and its views created with the same SQL (D-194)


def build_day(home: Home, day: date, target_path: Path | None = None, data_tests: bool = False) -> dict:
    """dbt build of the working warehouse as of 24:00 of `day`.

    Nightly: the models only; the blocking check of the night is the GX contract gate (D-72).
    data_tests=True also runs every dbt data test (month close, rebuild)."""
    latest = latest_export_date(home.warehouse)
    if latest is None:
        raise PipelineError(f"the warehouse {home.warehouse} has no loaded exports yet; run ingest first")
    history = day < latest
    state = _state(home)
    project = build.project_digest()
    # incremental models hold what the last build saw: after a build of another past state, or by
    # another version of the dbt project or rulebook (an upgrade, a threshold edit), rebuild them
    full_refresh = (
        history
        or bool(state.get("history"))
        or (state.get("as_of_date", "") > day.isoformat())
        or state.get("project") != project
    )
    t0 = time.monotonic()
    build.build(
        home.warehouse,
        full_refresh=full_refresh,
        target_path=target_path or home.root / "dbt_target",
        exclude=" ".join([FULL_EXCLUDE if data_tests else NIGHTLY_EXCLUDE] + ([] if full_refresh else [SEEDS, VIEWS])),
        vars=build_vars(day, history),
    )
    info = {
        "as_of_date": day.isoformat(),
        "history": history,
        "full_refresh": full_refresh,
        "project": project,
        "data_tests": data_tests,
        "seconds": round(time.monotonic() - t0, 1),
        "built_at": datetime.now().isoformat(timespec="seconds"),
    }
    _write_json_atomic(home.warehouse.parent / STATE_FILE, info)
    return info


def contract_gate(home: Home, day: date, run_id: str, warehouse: Path | None = None) -> dict:
    """Great Expectations data-contract suites; raise (nothing gets published) when one fails.
    Data Docs go to logs/<day>/<run>/data_docs/ (beside the run's summary)."""
    from expectations import gates

    res = gates.run_contract_gate(
        warehouse or home.warehouse, day, home.run_dir(day.isoformat(), run_id) / "data_docs" / "contract"
    )
    if not res.success:
        raise PipelineError(
            f"data contract gate failed for {day} — nothing published (数据契约校验未通过)\n" + res.message()
        )
    return {"evaluated": res.evaluated, "docs": str(res.docs_index) if res.docs_index else None}


def months_touched(day: date) -> list[str]:
    """The months a night can change: D's month, and the previous one (late exports, D-06 attribution)."""
    return sorted({day.strftime("%Y-%m"), previous_month(day)})


def threshold_check(
    home: Home, day: date, run_id: str, warehouse: Path | None = None, months: list[str] | None = None
) -> dict:
    """Great Expectations threshold suites; every breach goes to audit.kpi_breaches, the run goes on.
    months: the months to check (default: those the night of `day` can change; a backfill: all of its)."""
    from expectations import gates

    warehouse = warehouse or home.warehouse
    res, breaches = gates.run_threshold_suites(
        warehouse, months or months_touched(day), home.run_dir(day.isoformat(), run_id) / "data_docs" / "thresholds"
    )
    n = gates.record_breaches(warehouse, run_id, day, breaches)
    by_rule = breaches.groupby("rule_id").size().sort_values(ascending=False).head(10).to_dict() if n else {}
    return {
        "breaches": n,
        "evaluated": res.evaluated,
        "top_rules": by_rule,
        "docs": str(res.docs_index) if res.docs_index else None,
    }

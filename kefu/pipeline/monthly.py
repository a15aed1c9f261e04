"""Closing a month (D-73): rebuild the month-end state with every data test, freeze the month's
mart rows and the year's totals as Parquet, write the monthly reports."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import duckdb

from kefu import build
from kefu.home import Home, embedded_manifest, read_manifest
from kefu.pipeline.common import PipelineError, _write_json_atomic, month_bounds
from kefu.pipeline.nightly import FULL_EXCLUDE, build_vars


def _marts_with_month(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.columns where table_schema = 'marts' "
            "and column_name = 'period_month' order by 1"
        ).fetchall()
    ]


def prepare_month(home: Home, month: str, work_dir: Path) -> Path:
    """A warehouse as of 24:00 of the month's last day, passing every dbt data test, to close the
    month from (D-73).

    The published copy when it holds exactly that day and was built by this dbt project and
    rulebook (the normal run on the 1st): a rebuild would give it again (D-70), so only the data
    tests the night left out are run on a scratch copy of it (D-175). Otherwise (a month closed on
    demand later, or a copy built by other code) a scratch copy rebuilt in full as of that day from
    the export history, so closing a month twice gives the same assessment."""
    _first, last = month_bounds(month)
    if not home.published.exists():
        raise PipelineError(f"cannot close {month}: nothing is published yet (月末数据未发布)")
    work_dir.mkdir(parents=True, exist_ok=True)
    # the published file's name: DuckDB's catalog name, so dbt takes the nights' parse of the project (D-217)
    scratch = work_dir / home.published.name
    shutil.copyfile(home.published, scratch)
    os.chmod(scratch, 0o644)
    # what the copy holds, read from the copy: a night publishing meanwhile cannot change it (D-203);
    # a file published before manifests were embedded has its manifest beside it
    manifest = embedded_manifest(scratch)
    if manifest is None:
        manifest = read_manifest(home.published)
    published = manifest.get("business_date")
    if not published or published < last.isoformat():
        scratch.unlink()
        raise PipelineError(
            f"cannot close {month}: the published warehouse holds {published or 'nothing'}; "
            f"the nightly run of {last} must be published first (月末数据未发布)"
        )
    history = published != last.isoformat()
    target = home.root / "dbt_target" / "monthly"
    if not history and manifest.get("project") == build.project_digest():
        # a month is closed only on a warehouse that passes every data test (D-73)
        build.data_tests(scratch, target_path=target, exclude=FULL_EXCLUDE, vars=build_vars(last, history=False))
    else:
        # from the export history when the published copy is newer; built by other code or another
        # rulebook than this one (D-70): its incremental models are rebuilt too
        build.build(
            scratch, full_refresh=True, target_path=target, exclude=FULL_EXCLUDE, vars=build_vars(last, history)
        )
    return scratch


def month_end_published(home: Home, month: str) -> bool:
    """Whether the published copy holds the month's last day or a later one: what monthly_assessment
    waits for before it prepares the month (a late night is waited for, not failed on; D-203)."""
    if not home.published.exists():
        return False
    published = read_manifest(home.published).get("business_date")
    return bool(published) and published >= month_bounds(month)[1].isoformat()


def close_month(source: Path, month: str, out_dir: Path) -> dict:
    """Freeze the month's assessment: every mart row of period_month = month as Parquet in
    out_dir (written to a temp folder and renamed into place), with the year's totals through
    the month (yearly_totals: months judged / passed / failed per rule and unit, and
    kpi_district_yearly). Closing December (the run on 1 January) gives the final yearly totals."""
    con = duckdb.connect(str(source), read_only=True)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    rows: dict[str, int] = {}
    try:

        def freeze(query: str, name: str, params: list | None = None) -> int:
            """COPY the query to <tmp>/<name>.parquet, return its row count."""
            target = str(tmp / f"{name}.parquet").replace("'", "''")
            return con.execute(f"copy ({query} order by all) to '{target}' (format parquet)", params).fetchone()[0]

        for t in _marts_with_month(con):
            rows[t] = freeze(f'select * from marts."{t}" where period_month = ?', t, [month])
        # the year's totals through this month (A5 年度汇总); the December close is the final tally,
        # handed over by the run on 1 January
        year = month[:4]
        rows["yearly_totals"] = freeze(  # tallied once, in marts.kpi_rule_results_ytd (D-148)
            "select period_year, measure_id, rule_id, grain, unit_id, months_judged, months_passed, "
            "months_failed from marts.kpi_rule_results_ytd where period_month = ?",
            "yearly_totals",
            [month],
        )
        rows["kpi_district_yearly"] = freeze(
            "select * from marts.kpi_district_yearly where period_year = ?", "kpi_district_yearly", [year]
        )
        as_of = con.execute("select max(as_of_date) from intermediate.int_tickets_as_of").fetchone()[0]
    finally:
        con.close()
    info = {
        "month": month,
        "as_of_date": str(as_of),
        "year_complete": month.endswith("-12"),
        "closed_at": datetime.now().isoformat(timespec="seconds"),
        "tables": rows,
    }
    _write_json_atomic(tmp / "assessment.json", info)
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        # keep files other steps put there (reports) out of the frozen tables' way: only our files move
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    if old.exists():
        for p in old.iterdir():
            if not (out_dir / p.name).exists() and not p.name.endswith(".parquet") and p.name != "assessment.json":
                os.replace(p, out_dir / p.name)
        shutil.rmtree(old, ignore_errors=True)
    return info


def month_reports(source: Path, month: str, out_dir: Path) -> list[str]:
    """The monthly assessment reports (Excel + PDF) and the weekly summaries of the month (R1, R2)."""
    from kefu import reports

    return [str(p) for p in reports.build_monthly(source, month, out_dir)]

"""Closing a month without needless rebuilds (docs/decisions.md D-175, D-176).

- the published copy of the month's last night, built by this project, is closed on its data tests
  (not rebuilt), and a failing data test stops the close;
- when no approved appeal changes a row, the final score marts and the final workbook come from the
  month's warehouse itself and equal what the scratch copy rebuilt by dbt gives (D-174); a changed
  or missing row takes that rebuild;
- the final step keeps the draft's weekly summaries (they read nothing the sign-off changes)."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest

from kefu import appeals_adjust, assessment_flow, pipeline, reports
from kefu.appeals import MonthStatus

MONTH = "2026-02"


@pytest.fixture(scope="module")
def warehouse(built_demo) -> Path:
    return built_demo(1, 3)[0]


def signed() -> MonthStatus:
    now = datetime.now(UTC)
    return MonthStatus(MONTH, "final", True, now, now, "tester", now)


def draft_and_final(warehouse: Path, out: Path) -> None:
    """The month frozen as a draft, then its final results with no appeal."""
    pipeline.close_month(warehouse, MONTH, out)
    appeals_adjust.write(out, MONTH, [], signed())


def table(path: Path) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute("select * from read_parquet(?) order by all", [str(path)]).fetchall()


def sheets(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_without_a_change_the_final_scores_and_workbook_equal_the_rebuilt_ones(warehouse, tmp_path, monkeypatch):
    quick, rebuilt = tmp_path / "quick", tmp_path / "rebuilt"
    for out in (quick, rebuilt):
        draft_and_final(warehouse, out)
    assert assessment_flow.final_equals_draft(warehouse, MONTH, quick)
    before = warehouse.stat().st_mtime_ns
    source = assessment_flow.final_warehouse(warehouse, MONTH, quick, tmp_path / "tmp_quick")
    assert source == warehouse and warehouse.stat().st_mtime_ns == before  # nothing copied, nothing written
    assert not (tmp_path / "tmp_quick").exists()

    monkeypatch.setattr(assessment_flow, "final_equals_draft", lambda *a: False)  # the D-174 path
    copy = assessment_flow.final_warehouse(warehouse, MONTH, rebuilt, tmp_path / "tmp_rebuilt")
    assert copy != warehouse and copy.exists()
    for name in assessment_flow.FINAL_SCORES:
        rows = table(quick / f"{name}_final.parquet")
        assert rows and rows == table(rebuilt / f"{name}_final.parquet"), name
    view = appeals_adjust.view(quick, MONTH, [], signed())
    a = reports.build_monthly(source, MONTH, quick, signoff=view)
    b = reports.build_monthly(copy, MONTH, rebuilt, signoff=view)
    assert sheets(a[0]) == sheets(b[0])


@pytest.mark.parametrize("change", ["value", "row"])
def test_a_changed_or_missing_final_row_is_not_equal(warehouse, tmp_path, change):
    draft_and_final(warehouse, tmp_path)
    final = tmp_path / appeals_adjust.FINAL
    with duckdb.connect() as con:
        con.execute(f"create table t as select * from read_parquet('{final}')")
        first = "rowid = (select min(rowid) from t)"
        if change == "value":
            con.execute(f"update t set numerator = numerator + 1 where {first}")
        else:
            con.execute(f"delete from t where {first}")
        con.execute(f"copy t to '{final}' (format parquet)")
    assert not assessment_flow.final_equals_draft(warehouse, MONTH, tmp_path)


def test_the_final_step_keeps_the_drafts_weekly_summaries(warehouse, tmp_path):
    pipeline.close_month(warehouse, MONTH, tmp_path)
    drafted = reports.build_monthly(warehouse, MONTH, tmp_path)
    weekly = [p for p in drafted if p.name.startswith("weekly_summary_")]
    assert weekly
    stamps = {p: p.stat().st_mtime_ns for p in weekly}
    os.remove(weekly[0])  # one missing: written again
    final = reports.build_monthly(warehouse, MONTH, tmp_path, weekly="missing")
    assert final == drafted
    assert weekly[0].exists() and all(p.stat().st_mtime_ns == stamps[p] for p in weekly[1:])


def test_a_current_published_copy_is_closed_on_its_data_tests_and_a_failing_one_stops_it(warehouse, tmp_path):
    """D-175: the published copy of the month's last night, built by this project, is not rebuilt;
    every data test still runs on it, and one failing stops the close."""
    from kefu import build
    from kefu.home import Home

    home = Home(tmp_path / "home")
    home.published_dir.mkdir(parents=True)
    shutil.copyfile(warehouse, home.published)
    home.manifest.write_text(
        json.dumps({"business_date": "2026-03-31", "run_id": "r", "project": build.project_digest()}), encoding="utf-8"
    )
    scratch = pipeline.prepare_month(home, "2026-03", tmp_path / "work")
    assert pipeline.fingerprint(scratch) == pipeline.fingerprint(home.published)  # tested, not rebuilt
    with duckdb.connect(str(home.published)) as con:  # a verdict colour no data test accepts
        con.execute(
            "update marts.kpi_rule_results set status = 'purple' "
            "where rowid = (select min(rowid) from marts.kpi_rule_results)"
        )
    with pytest.raises(RuntimeError, match="accepted_values"):
        pipeline.prepare_month(home, "2026-03", tmp_path / "work")

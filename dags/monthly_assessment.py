"""
### monthly_assessment — 月度考核 (Airflow DAG)

On the 1st of each month (06:00 Asia/Shanghai, after the nightly run of the month's last day
was published) it closes the previous month; triggered with the param `month` (YYYY-MM) it
closes any month on demand.

0. **wait_for_month_end** — a sensor (mode reschedule) until the published copy holds the month's
   last day: a night that runs late is waited for (docs/decisions.md D-203);
1. **prepare** — a warehouse as of 24:00 of the month's last day that passes every dbt data test:
   a copy of the published warehouse when it holds that day and was built by this project (its
   data tests run, nothing rebuilt: D-175), else a scratch copy rebuilt as of that day from the
   export history, so closing a month again gives the same assessment (docs/decisions.md D-73);
2. **close_month** — the *draft*: the month's rows of every KPI mart frozen as Parquet in
   `published/assessment/YYYY-MM/`, with the year's totals through the month (the run on 1 January
   closes December: the final yearly totals); the appeal window opens (kefu/appeals.py). A month
   already signed stays frozen (re-open it first: `kefu assessment reopen`);
3. **reports** — the draft workbook (Excel), 服务监督报告 PDF (R1) and weekly summaries (R2),
   marked 草稿 draft;
4. **wait_for_signoff** — a sensor (mode reschedule) until the department manager signs the month
   (`kefu assessment sign`, after the appeals are decided: `kefu appeals …`, dashboard 申诉);
5. **final** — the approved appeals exempted (核减), the final results, workbook and PDF with raw,
   exempted and final figures and who signed, every file read-only (docs/decisions.md D-129..D-131);
   the score rebuilt on the final results only when an approval changed one (D-174, D-176);
6. **cleanup** the scratch copy; 7. **notify**.

Reads only the published copy: it never takes the nightly run's writer slot.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from kefu.pipeline_airflow import (
    default_args,
    home,
    month_end_poke_seconds,
    month_end_timeout,
    month_of,
    on_failure,
    run_id,
    signoff_poke_seconds,
    signoff_timeout,
    stop_on,
)


@dag(
    dag_id="monthly_assessment",
    schedule="0 6 1 * *",
    start_date=pendulum.datetime(2026, 2, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    on_failure_callback=on_failure,
    doc_md=__doc__,
    tags=["kefu", "monthly"],
    params={
        "month": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}$",
            description="month to close, YYYY-MM (default: the month before the logical date)",
        )
    },
    dagrun_timeout=signoff_timeout() + timedelta(hours=6),  # the run waits for the sign-off
)
def monthly_assessment():
    @task.sensor(poke_interval=month_end_poke_seconds(), timeout=month_end_timeout().total_seconds(), mode="reschedule")
    def wait_for_month_end() -> bool:
        from kefu import pipeline

        return pipeline.month_end_published(home(), month_of(get_current_context()))

    @task(retries=0)
    def prepare() -> str | None:
        from kefu import assessment_flow, pipeline

        ctx = get_current_context()
        h = home()
        if assessment_flow.frozen(h, month_of(ctx)):
            return None  # signed and final: every step leaves it as it is, nothing to copy or test (D-218)
        with stop_on(pipeline.PipelineError):
            # one work folder for every run (max_active_runs=1), removed by cleanup
            return str(pipeline.prepare_month(h, month_of(ctx), h.root / "tmp" / "monthly_assessment"))

    @task
    def close_month(source: str | None) -> dict:
        from kefu import assessment_flow

        return assessment_flow.draft(home(), source, month_of(get_current_context()))

    @task
    def reports(source: str | None, closed: dict) -> list[str]:
        from kefu import assessment_flow

        return assessment_flow.draft_reports(home(), source, closed["month"], closed)

    @task.sensor(poke_interval=signoff_poke_seconds(), timeout=signoff_timeout().total_seconds(), mode="reschedule")
    def wait_for_signoff(closed: dict, _draft_files: list[str]) -> bool:
        from kefu import assessment_flow

        return assessment_flow.signed_off(home(), closed["month"])

    @task
    def final(source: str | None, closed: dict) -> dict:
        from kefu import assessment_flow

        return assessment_flow.finalize(home(), source, closed["month"], closed)

    @task
    def cleanup(source: str | None) -> None:
        import shutil
        from pathlib import Path

        if source:
            shutil.rmtree(Path(source).parent, ignore_errors=True)

    @task
    def notify(closed: dict, signed: dict) -> str:
        from kefu import pipeline

        month = closed["month"]
        text = (
            f"客服考核 monthly assessment {month} final (as of {closed['as_of_date']}), signed by "
            f"{signed.get('signed_by')}: {closed['tables'].get('kpi_rule_results', 0)} rule results in "
            f"{home().assessment_dir(month)}"
            + (
                " (already final: frozen, nothing recomputed)"
                if signed.get("frozen")
                else f"; unit results failed {signed.get('results_failed_raw')} raw → {signed.get('results_failed_final')} "
                f"final, {len(signed.get('exempted_appeals', []))} appeals exempted\n"
                + "\n".join(f"  {f}" for f in signed.get("files", []))
            )
        )
        print(text)
        pipeline.write_run_log(home(), text, month, run_id(get_current_context()))
        pipeline.notify(f"月度考核 {month}", text, event="month_final")
        return text

    src = prepare()
    wait_for_month_end() >> src
    closed = close_month(src)
    draft_files = reports(src, closed)
    signed = final(src, closed)
    wait_for_signoff(closed, draft_files) >> signed
    # cleanup is a teardown: it always runs, and its success does not hide a failed run
    notify(closed, signed) >> cleanup(src).as_teardown(setups=src)


monthly_assessment()

"""
### monthly_assessment — 月度考核 (Airflow DAG)

On the 1st of each month (06:00 Asia/Shanghai, after the nightly run of the month's last day
was published) it closes the previous month; triggered with the param `month` (YYYY-MM) it
closes any month on demand.

1. **prepare** — a warehouse as of 24:00 of the month's last day: the published copy when it
   holds that day, else a scratch copy rebuilt as of that day from the export history, so
   closing a month again gives the same assessment (docs/decisions.md D-73);
2. **close_month** — the month's rows of every KPI mart frozen as Parquet in
   `published/assessment/YYYY-MM/`, with the year's totals through the month (the run on 1 January closes December: the final yearly totals);
3. **reports** — the assessment workbook (Excel), the 服务监督报告 PDF (R1) and the weekly
   summaries (R2) beside them;
4. **cleanup** the scratch copy; 5. **notify**.

Reads only the published copy: it never takes the nightly run's writer slot.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from kefu.pipeline_airflow import default_args, home, month_of, on_failure, run_id, stop_on


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
    dagrun_timeout=timedelta(hours=6),
)
def monthly_assessment():
    @task(retries=0)
    def prepare() -> str:
        from kefu import pipeline

        ctx = get_current_context()
        h = home()
        with stop_on(pipeline.PipelineError):
            return str(pipeline.prepare_month(h, month_of(ctx), h.root / "tmp" / run_id(ctx).replace(":", "_")))

    @task
    def close_month(source: str) -> dict:
        from pathlib import Path

        from kefu import pipeline

        month = month_of(get_current_context())
        return pipeline.close_month(Path(source), month, home().assessment_dir(month))

    @task
    def reports(source: str, _closed: dict) -> list[str]:
        from pathlib import Path

        from kefu import pipeline

        month = month_of(get_current_context())
        return pipeline.month_reports(Path(source), month, home().assessment_dir(month))

    @task
    def cleanup(source: str) -> None:
        import shutil
        from pathlib import Path

        shutil.rmtree(Path(source).parent, ignore_errors=True)

    @task
    def notify(closed: dict, files: list[str]) -> str:
        from kefu import pipeline

        month = closed["month"]
        text = (
            f"客服考核 monthly assessment {month} closed (as of {closed['as_of_date']}): "
            f"{closed['tables'].get('kpi_rule_results', 0)} rule results in {home().assessment_dir(month)}\n"
            + "\n".join(f"  {f}" for f in files)
        )
        print(text)
        pipeline.write_run_log(home(), text, month, run_id(get_current_context()))
        pipeline.notify(f"[客服考核] 月度考核 {month}", text)
        return text

    src = prepare()
    closed = close_month(src)
    files = reports(src, closed)
    # cleanup is a teardown: it always runs, and its success does not hide a failed run
    notify(closed, files) >> cleanup(src).as_teardown(setups=src)


monthly_assessment()

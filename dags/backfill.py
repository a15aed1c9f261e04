"""
### backfill — 历史数据批量补录 (Airflow DAG)

Loads history in one pass instead of one `nightly` run per day: a new installation with months of
exports in `landing/`, or a catch-up after an outage. Triggered by hand (no schedule); the param
`through` (YYYY-MM-DD) stops at that business date, by default every landed day folder is loaded.

1. **ingest** every landed day folder up to `through` as ONE bulk batch: one `read_csv` per
   entity and file shape, typed and checked in one SQL pass, one transaction (a killed run leaves
   the warehouse as before; rerun it). Per file as ever: `audit.load_log`, quarantined rows with
   their row numbers, newest version wins, duplicates are no-ops, personal data hashed;
2. **dbt_build** the warehouse once, as of 24:00 of the last day loaded;
3. **contract_gate** (blocking) and 4. **threshold_suites** over every month of the batch;
5. **publish**, 6. **dbt_docs**, 7. **notify** — as in `nightly`.

Then `nightly` takes over from the next day, and `monthly_assessment` closes each month of the
history as of its own month end (docs/decisions.md D-71, D-73, D-105). Pause `nightly` while
this runs; both share the writer pool `kefu_warehouse`.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from kefu.pipeline_airflow import POOL, default_args, home, on_failure, run_id, stop_on


@dag(
    dag_id="backfill",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    on_failure_callback=on_failure,
    doc_md=__doc__,
    tags=["kefu", "backfill"],
    params={
        "through": Param(
            None,
            type=["null", "string"],
            format="date",
            description="load day folders up to this business date YYYY-MM-DD (default: all)",
        ),
        "demo_key": Param(
            bool(os.environ.get("KEFU_DEMO_KEY")),
            type="boolean",
            description="hash personal data with the public demo key (demo data only; default: env KEFU_DEMO_KEY)",
        ),
    },
    dagrun_timeout=timedelta(hours=12),
)
def backfill():
    def day(ingested: dict):
        from datetime import date

        return date.fromisoformat(ingested["business_date"])

    @task(pool=POOL)  # the batch is one transaction: a retry after a failure starts it afresh
    def ingest() -> dict:
        from datetime import date

        from kefu import backfill as bf
        from kefu import pipeline

        ctx = get_current_context()
        through = ctx["params"].get("through")
        h = home()
        with stop_on(pipeline.PipelineError), pipeline.writer_lock(h):
            out = bf.ingest_backlog(
                h, date.fromisoformat(through) if through else None, demo_key=bool(ctx["params"]["demo_key"])
            )
        print(out.pop("summary", ""))
        return out

    @task(pool=POOL)
    def dbt_build(ingested: dict) -> dict:
        from kefu import pipeline

        h = home()
        with pipeline.writer_lock(h):
            return pipeline.build_day(h, day(ingested), target_path=h.root / "dbt_target" / "nightly")

    @task(pool=POOL, retries=0)
    def contract_gate(ingested: dict, _built: dict) -> dict:
        from kefu import pipeline

        h = home()
        with stop_on(pipeline.PipelineError), pipeline.writer_lock(h):
            return pipeline.contract_gate(h, day(ingested), run_id(get_current_context()))

    @task(pool=POOL)
    def threshold_suites(ingested: dict, _gate: dict) -> dict:
        from kefu import pipeline

        h = home()
        with pipeline.writer_lock(h):
            return pipeline.threshold_check(h, day(ingested), run_id(get_current_context()), months=ingested["months"])

    @task(pool=POOL)
    def publish(ingested: dict, _thresholds: dict) -> dict:
        from kefu import pipeline

        h = home()
        with pipeline.writer_lock(h):
            return pipeline.publish(h, day(ingested), run_id(get_current_context()))

    @task
    def dbt_docs(published: dict) -> dict:
        from kefu import pipeline

        return pipeline.analyst_docs(home(), published)

    @task
    def notify(ingested: dict, built: dict, gate: dict, thresholds: dict, published: dict, docs: dict) -> str:
        from kefu import pipeline

        rid = run_id(get_current_context())
        d = ingested["business_date"]
        rep = pipeline.NightReport(
            d,
            rid,
            {
                "ingest": ingested,
                "build": built,
                "contract": gate,
                "thresholds": thresholds,
                "publish": published,
                "docs": docs,
            },
        )
        text = f"backfill of {ingested['days']} days {ingested['first_day']}..{d} in one batch\n" + rep.text()
        print(text)
        pipeline.write_run_log(home(), text, d, rid)
        pipeline.notify(f"backfill {ingested['first_day']}..{d} ok", text)
        return text

    i = ingest()
    b = dbt_build(i)
    g = contract_gate(i, b)
    t = threshold_suites(i, g)
    p = publish(i, t)
    d = dbt_docs(p)
    notify(i, b, g, t, p, d)


backfill()

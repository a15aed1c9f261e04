"""
### nightly — 每日入库、计算与发布 (Airflow DAG)

One run per business date D (the day whose exports arrived; by default the day before the
run's logical date, Asia/Shanghai; the param `business_date` overrides it):

1. **ingest** `landing/D/` into the working warehouse (bad rows → `audit.quarantine`, files archived);
2. **dbt_build** the warehouse as of 24:00 of D (one `dbt build` of the models; docs/decisions.md D-72);
3. **contract_gate** — Great Expectations data-contract suites. **Blocking**: on failure nothing
   is published and the run fails with the suite, table and failed expectation;
4. **threshold_suites** — Great Expectations threshold suites generated from the rulebook;
   every breach is recorded in `audit.kpi_breaches` (rule, unit, value, threshold); not blocking;
5. **publish** — atomic copy of the warehouse to `published/kefu.duckdb` (what dashboards and
   analysts read); 6. **dbt_docs** for analysts; 7. **notify** — summary in the log, e-mail via
   Airflow's SMTP settings when `KEFU_NOTIFY_EMAIL` is set.

Every task that opens the working DuckDB file runs in the 1-slot pool `kefu_warehouse`;
`max_active_runs=1`. Installation folder: env `KEFU_HOME` (kefu/home.py).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from kefu.pipeline_airflow import (
    POOL,
    business_date,
    default_args,
    home,
    on_failure,
    run_id,
    stop_on,
)


@dag(
    dag_id="nightly",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 2, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    on_failure_callback=on_failure,
    doc_md=__doc__,
    tags=["kefu", "nightly"],
    params={
        "business_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="business date YYYY-MM-DD (default: the day before the logical date)",
        ),
        "demo_key": Param(
            bool(os.environ.get("KEFU_DEMO_KEY")),
            type="boolean",
            description="hash personal data with the public demo key (demo data only; default: env KEFU_DEMO_KEY)",
        ),
    },
    dagrun_timeout=timedelta(hours=6),
)
def nightly():
    @task(pool=POOL)
    def ingest() -> dict:
        from kefu import pipeline

        ctx = get_current_context()
        h = home()
        with stop_on(pipeline.PipelineError), pipeline.writer_lock(h):
            out = pipeline.ingest_day(h, business_date(ctx), demo_key=bool(ctx["params"]["demo_key"]))
        print(out.pop("summary", ""))
        return out

    @task(pool=POOL)
    def dbt_build(_ingested: dict) -> dict:
        from kefu import pipeline

        ctx = get_current_context()
        h = home()
        with pipeline.writer_lock(h):
            return pipeline.build_day(h, business_date(ctx), target_path=h.root / "dbt_target" / "nightly")

    @task(pool=POOL, retries=0)
    def contract_gate(_built: dict) -> dict:
        from kefu import pipeline

        ctx = get_current_context()
        h = home()
        with stop_on(pipeline.PipelineError), pipeline.writer_lock(h):
            return pipeline.contract_gate(h, business_date(ctx), run_id(ctx))

    @task(pool=POOL)
    def threshold_suites(_gate: dict) -> dict:
        from kefu import pipeline

        ctx = get_current_context()
        h = home()
        with pipeline.writer_lock(h):
            return pipeline.threshold_check(h, business_date(ctx), run_id(ctx))

    @task(pool=POOL)
    def publish(_thresholds: dict) -> dict:
        from kefu import pipeline

        ctx = get_current_context()
        h = home()
        with pipeline.writer_lock(h):
            return pipeline.publish(h, business_date(ctx), run_id(ctx))

    @task
    def dbt_docs(published: dict) -> dict:
        """The analysts' dbt docs site, generated against the published copy (no writer slot)."""
        from kefu import pipeline

        return pipeline.analyst_docs(home(), published)

    @task
    def notify(ingested: dict, built: dict, gate: dict, thresholds: dict, published: dict, docs: dict) -> str:
        from kefu import pipeline

        ctx = get_current_context()
        day, rid = business_date(ctx), run_id(ctx)
        rep = pipeline.NightReport(
            day.isoformat(),
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
        text = rep.text()
        print(text)
        pipeline.write_run_log(home(), text, day.isoformat(), rid)
        pipeline.prune_data_docs(home())
        pipeline.notify(f"[客服考核] nightly {day} ok · {thresholds.get('breaches', 0)} breaches", text)
        return text

    i = ingest()
    b = dbt_build(i)
    g = contract_gate(b)
    t = threshold_suites(g)
    p = publish(t)
    d = dbt_docs(p)
    notify(i, b, g, t, p, d)


nightly()

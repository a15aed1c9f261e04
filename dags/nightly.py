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
   analysts read); 6. **dbt_docs** for analysts; 7. **notify** — summary in the log, sent as
   `nightly_summary` to the channels of `secrets/notify.yml` (kefu/notify.py, docs/notifications.md).

Every task that opens the working DuckDB file runs in the 1-slot pool `kefu_warehouse`;
`max_active_runs=1`. Installation folder: env `KEFU_HOME` (kefu/home.py).
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from kefu.pipeline.order import NIGHTLY_STEPS
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
    # One task per step of kefu.pipeline.NIGHTLY_STEPS, in its order (D-156): each task gets what
    # every earlier task returned, so the order declared there is the order the tasks run.
    done: dict = {}
    for step in NIGHTLY_STEPS:
        options = {"task_id": step.task_id, "doc_md": f"`kefu.pipeline.{step.function}`"}
        if step.writer:
            options["pool"] = POOL
        if step.blocking:
            options["retries"] = 0  # a data problem: retrying cannot fix it
        done[step.key] = task(**options)(run_step)(step.key, dict(done))


def run_step(key: str, done: dict) -> dict:
    """Run one step of the night; the writer steps hold the writer slot."""
    from kefu import pipeline

    ctx = get_current_context()
    h = home()
    step = pipeline.step(key)
    run = pipeline.Run(
        h,
        business_date(ctx),
        run_id(ctx),
        demo_key=bool(ctx["params"]["demo_key"]),
        target_path=h.root / "dbt_target" / "nightly",
        done=done,
    )
    with (
        stop_on(pipeline.PipelineError) if step.blocking else nullcontext(),
        pipeline.writer_lock(h) if step.writer else nullcontext(),
    ):
        out = step.call(run)
    if "summary" in out:  # the ingest's per-file table: to the log, not to XCom
        print(out.pop("summary"))
    return out


nightly()

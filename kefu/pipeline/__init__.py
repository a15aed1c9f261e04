"""The nightly and monthly jobs as plain functions; dags/ wraps each in an Airflow task.

Nightly, for one business date D (docs/decisions.md D-71..D-74), in the order declared once in
`order.NIGHTLY_STEPS` (D-156):
  ingest -> dbt_build -> contract_gate (blocking) -> threshold_suites (records breaches)
  -> publish -> dbt_docs -> notify.
Every step that opens the working warehouse (Home.warehouse) runs in the single writer slot
(Airflow pool `kefu_warehouse`); readers only ever open the published copy, which publish
replaces atomically (os.replace) and only after the contract gate passed.

A run is a function of its business date: the build is pinned to D (`as_of_date`), and a
rerun of a date older than the newest export loaded rebuilds the warehouse as that night saw
it (`history_as_of`: every version exported up to D, see macros/raw_source.sql).

The package, by step:
  common      PipelineError, POOL, the build state file, month and day helpers
  lock        writer_lock: the one writer of the working warehouse
  nightly     ingest_day, build_day, contract_gate, threshold_check
  publishing  publish (atomic copy + manifest), fingerprint, analyst_docs
  notifying   NightReport (the summary text), write_run_log, prune_data_docs, notify (e-mail)
  monthly     month_end_published, prepare_month, close_month, month_reports (the month close, D-73)
  order       NIGHTLY_STEPS (the step order), night, rebuild
Every public name is exported here: `from kefu import pipeline; pipeline.build_day(...)`.
"""

from __future__ import annotations

from kefu.pipeline.common import (
    POOL,
    STATE_FILE,
    PipelineError,
    _state,
    _write_json_atomic,
    day_folders,
    month_bounds,
    previous_month,
)
from kefu.pipeline.lock import writer_lock
from kefu.pipeline.monthly import _marts_with_month, close_month, month_end_published, month_reports, prepare_month
from kefu.pipeline.nightly import (
    FULL_EXCLUDE,
    NIGHTLY_EXCLUDE,
    build_day,
    build_vars,
    contract_gate,
    ingest_day,
    latest_export_date,
    months_touched,
    threshold_check,
)
from kefu.pipeline.notifying import NightReport, notify, prune_data_docs, write_run_log
from kefu.pipeline.order import NIGHTLY_STEPS, WRITER_STEPS, Run, Step, night, rebuild, run_steps, step
from kefu.pipeline.publishing import (
    PUBLISH_TEMPS,
    _publish_hook,
    analyst_docs,
    docs_signature,
    fingerprint,
    publish,
    sync_manifest,
)

__all__ = [
    "FULL_EXCLUDE",
    "NIGHTLY_EXCLUDE",
    "NIGHTLY_STEPS",
    "POOL",
    "PUBLISH_TEMPS",
    "STATE_FILE",
    "WRITER_STEPS",
    "NightReport",
    "PipelineError",
    "Run",
    "Step",
    "_marts_with_month",
    "_publish_hook",
    "_state",
    "_write_json_atomic",
    "analyst_docs",
    "build_day",
    "build_vars",
    "close_month",
    "contract_gate",
    "day_folders",
    "docs_signature",
    "fingerprint",
    "ingest_day",
    "latest_export_date",
    "month_bounds",
    "month_end_published",
    "month_reports",
    "months_touched",
    "night",
    "notify",
    "prepare_month",
    "previous_month",
    "prune_data_docs",
    "publish",
    "rebuild",
    "run_steps",
    "step",
    "sync_manifest",
    "threshold_check",
    "write_run_log",
    "writer_lock",
]

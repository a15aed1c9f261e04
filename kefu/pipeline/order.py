"""The nightly step order, declared once (issue 20 point 4, docs/decisions.md D-156).

`NIGHTLY_STEPS` is the one list of what a night does, in order. `dags/nightly.py` makes one Airflow
task per step from it; `night` (kefu nightly, benchmarks) runs its writer steps in one process;
`rebuild` runs the same writer steps over a scratch warehouse, with the bulk ingest of the archive
in place of the day's ingest and the swap into place before publish. The `backfill` DAG has its
own ingest; a test checks that its tasks follow the same order.

Each step calls its function through the `kefu.pipeline` package at run time (`step.function` names
it), so what the package exports is what runs — also when a test replaces it there.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kefu.home import Home
from kefu.pipeline.common import STATE_FILE, PipelineError, day_folders
from kefu.pipeline.lock import writer_lock
from kefu.pipeline.notifying import NightReport
from kefu.vault import Vault, private_dir, restore_tree


def _pipeline() -> Any:
    return importlib.import_module("kefu.pipeline")


@dataclass
class Run:
    """What a step needs to know about the run it is part of."""

    home: Home
    day: date
    run_id: str
    demo_key: bool = False
    config: Path | None = None
    warehouse: Path | None = None  # the gates' warehouse when it is not home.warehouse (rebuild: the scratch)
    build_home: Home | None = None  # the installation dbt builds (rebuild: the scratch)
    target_path: Path | None = None  # dbt's target folder (default: home/dbt_target)
    data_tests: bool = False  # run every dbt data test with the build (rebuild, month close)
    done: dict[str, dict] = field(default_factory=dict)  # step key -> what the earlier steps returned


def _ingest(run: Run) -> dict:
    return _pipeline().ingest_day(run.home, run.day, config=run.config, demo_key=run.demo_key)


def _build(run: Run) -> dict:
    kwargs: dict[str, Any] = {"target_path": run.target_path} if run.target_path else {}
    if run.data_tests:
        kwargs["data_tests"] = True
    return _pipeline().build_day(run.build_home or run.home, run.day, **kwargs)


def _contract(run: Run) -> dict:
    kwargs = {"warehouse": run.warehouse} if run.warehouse else {}
    return _pipeline().contract_gate(run.home, run.day, run.run_id, **kwargs)


def _thresholds(run: Run) -> dict:
    kwargs = {"warehouse": run.warehouse} if run.warehouse else {}
    return _pipeline().threshold_check(run.home, run.day, run.run_id, **kwargs)


def _publish(run: Run) -> dict:
    return _pipeline().publish(run.home, run.day, run.run_id)


def _docs(run: Run) -> dict:
    return _pipeline().analyst_docs(run.home, run.done.get("publish", {}))


def _notify(run: Run) -> dict:
    p = _pipeline()
    text = p.NightReport(run.day.isoformat(), run.run_id, dict(run.done)).text()
    print(text)
    p.write_run_log(run.home, text, run.day.isoformat(), run.run_id)
    p.prune_data_docs(run.home)
    breaches = run.done.get("thresholds", {}).get("breaches", 0)
    sent = p.notify(f"nightly {run.day} ok · {breaches} breaches", text)
    return {"text": text, "mailed": sent}


@dataclass(frozen=True)
class Step:
    """One step of the night."""

    key: str  # its entry in NightReport.steps
    task_id: str  # its Airflow task (dags/nightly.py, dags/backfill.py)
    function: str  # the kefu.pipeline function that does it
    call: Callable[[Run], dict]
    writer: bool  # opens the working warehouse: Airflow pool kefu_warehouse + writer_lock
    blocking: bool = False  # a PipelineError is a data problem: the run fails without retries


NIGHTLY_STEPS: tuple[Step, ...] = (
    Step("ingest", "ingest", "ingest_day", _ingest, writer=True, blocking=True),
    Step("build", "dbt_build", "build_day", _build, writer=True),
    Step("contract", "contract_gate", "contract_gate", _contract, writer=True, blocking=True),
    Step("thresholds", "threshold_suites", "threshold_check", _thresholds, writer=True),
    Step("publish", "publish", "publish", _publish, writer=True),
    Step("docs", "dbt_docs", "analyst_docs", _docs, writer=False),
    Step("notify", "notify", "notify", _notify, writer=False),
)
WRITER_STEPS: tuple[Step, ...] = tuple(s for s in NIGHTLY_STEPS if s.writer)


def step(key: str) -> Step:
    """The step with this key or task id."""
    for s in NIGHTLY_STEPS:
        if key in (s.key, s.task_id):
            return s
    raise KeyError(f"no nightly step {key!r}; the steps are {[s.key for s in NIGHTLY_STEPS]}")


def run_steps(
    run: Run, steps: tuple[Step, ...], report: NightReport, instead: dict[str, Callable[[Run], dict]] | None = None
) -> NightReport:
    """Run `steps` in order into `report`; `instead` replaces a step's call by key (rebuild)."""
    for s in steps:
        run.done = report.steps
        report.steps[s.key] = (instead or {}).get(s.key, s.call)(run)
    return report


def night(
    home: Home, day: date, run_id: str | None = None, demo_key: bool = False, config: Path | None = None
) -> NightReport:
    """The writer steps of the night in one process (the CLI and benchmarks; Airflow runs every
    step of NIGHTLY_STEPS as its own task)."""
    run_id = run_id or f"manual__{day.isoformat()}"
    rep = NightReport(day.isoformat(), run_id)
    with writer_lock(home, wait=False):
        run_steps(Run(home, day, run_id, demo_key=demo_key, config=config), WRITER_STEPS, rep)
    return rep


def rebuild(home: Home, demo_key: bool = False, config: Path | None = None, run_id: str | None = None) -> NightReport:
    """Rebuild everything from the archived exports (D-71): ingest every archived day, in date order,
    into a NEW warehouse file — one bulk batch (ingest/bulk.py, D-105); build it with every data
    test; run the gates; only then swap it in as the working warehouse (os.replace) and publish.
    The old warehouse stays until the swap. The steps are the night's writer steps."""
    from ingest import config as ingest_config
    from ingest.bulk import bulk_ingest, day_batch

    days = day_folders(home.archive) if home.archive.is_dir() else []
    if not days:
        raise PipelineError(f"nothing to rebuild from: {home.archive} holds no day folders YYYY-MM-DD")
    last = days[-1]
    run_id = run_id or f"rebuild__{last.isoformat()}"
    rep = NightReport(last.isoformat(), run_id)
    cfg = ingest_config.load(config, demo_key=demo_key)
    with writer_lock(home, wait=False), tempfile.TemporaryDirectory(dir=home.root, prefix=".rebuild.") as tmp:
        scratch = Home(Path(tmp))
        scratch.warehouse.parent.mkdir(parents=True)

        def ingest_archive(_run: Run) -> dict:
            vault = Vault.for_home(home.root)
            private_dir(scratch.root)
            for d in (
                days
            ):  # a decrypted copy of the archive (D-97) in the private scratch folder: ingest moves what it reads
                restore_tree(vault, home.archive / d.isoformat(), scratch.landing / d.isoformat())
            summary = bulk_ingest(
                day_batch(scratch.landing, scratch.archive, scratch.rejected, days),
                scratch.warehouse,
                cfg,
                encrypt_archive=False,
            )  # the scratch copy goes with the temp folder
            loaded = [r for r in summary.results if r.status == "loaded"]
            return {
                "files": len(loaded),
                "rows_loaded": sum(r.rows_loaded for r in loaded),
                "rows_quarantined": sum(r.rows_quarantined for r in loaded),
                "note": f"rebuilt from {len(days)} archived days {days[0]}..{last}",
            }

        def swap_and_publish(run: Run) -> dict:
            home.warehouse.parent.mkdir(parents=True, exist_ok=True)
            os.replace(scratch.warehouse, home.warehouse)
            os.replace(scratch.warehouse.parent / STATE_FILE, home.warehouse.parent / STATE_FILE)
            return _publish(run)

        run = Run(
            home,
            last,
            run_id,
            demo_key=demo_key,
            config=config,
            warehouse=scratch.warehouse,
            build_home=scratch,
            target_path=home.root / "dbt_target" / "rebuild",
            data_tests=True,
        )
        run_steps(run, WRITER_STEPS, rep, instead={"ingest": ingest_archive, "publish": swap_and_publish})
    return rep

"""What the Airflow DAGs (dags/nightly.py, dags/monthly_assessment.py) share: the installation,
the business date of a run, default arguments, the failure callback. Kept out of dags/ so the
DAG files stay short and importing them stays cheap."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from kefu.home import POOL, Home  # noqa: F401  (POOL: the DAG files import it from here)

TZ = "Asia/Shanghai"


def home() -> Home:
    return Home.from_env()


def business_date(ctx) -> date:
    """The param business_date, else the day before the run's logical date (in Asia/Shanghai):
    the run at 02:00 on the 2nd processes the exports of the 1st."""
    given = (ctx.get("params") or {}).get("business_date")
    if given:
        return date.fromisoformat(str(given))
    logical = ctx.get("logical_date") or ctx["dag_run"].run_after
    return (
        logical.in_timezone(TZ).date() - timedelta(days=1)
        if hasattr(logical, "in_timezone")
        else logical.date() - timedelta(days=1)
    )


def month_of(ctx) -> str:
    """The param month, else the month before the run's logical date (the run on the 1st closes it)."""
    given = (ctx.get("params") or {}).get("month")
    if given:
        return str(given)
    logical = ctx.get("logical_date") or ctx["dag_run"].run_after
    day = logical.in_timezone(TZ).date() if hasattr(logical, "in_timezone") else logical.date()
    return (day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def run_id(ctx) -> str:
    return str(ctx["run_id"])


def default_args() -> dict:
    return {
        "owner": "kefu",
        "retries": int(os.environ.get("KEFU_RETRIES", "2")),
        "retry_delay": timedelta(minutes=int(os.environ.get("KEFU_RETRY_MINUTES", "5"))),
        "on_failure_callback": on_failure,
    }


def on_failure(context) -> None:
    """Log (and send as run_failed, kefu/notify.py) which task of which run failed and why."""
    from kefu import pipeline

    ti = context.get("task_instance") or context.get("ti")
    exc = context.get("exception")
    if exc is None and context.get("reason"):  # the DAG-level callback: the run failed
        exc = context["reason"]
    text = (
        f"[客服考核] FAILED {getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')} "
        f"run {context.get('run_id')}: {exc if exc is not None else 'the run failed (see the task above)'}"
    )
    print(text)
    try:
        try:
            key = (
                month_of(context)
                if getattr(ti, "dag_id", "") == "monthly_assessment"
                else business_date(context).isoformat()
            )
        except (KeyError, TypeError, ValueError):
            key = "unknown"
        pipeline.write_run_log(home(), text, str(key), str(context.get("run_id")), name="failed.txt", append=True)
    except OSError:
        pass
    pipeline.notify(text.splitlines()[0][:200], text, event="run_failed")


@contextmanager
def stop_on(*errors: type[BaseException]) -> Iterator[None]:
    """Turn a data problem (retrying cannot fix it) into a failure without retries."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except errors as exc:
        raise AirflowFailException(str(exc)) from exc


def month_end_poke_seconds() -> float:
    """How often monthly_assessment asks whether the month's last night is published:
    KEFU_MONTH_END_POKE_SECONDS, default 5 minutes (`kefu demo` asks every second)."""
    return float(os.environ.get("KEFU_MONTH_END_POKE_SECONDS", "300"))


def month_end_timeout():
    """How long monthly_assessment waits for the month's last night before it fails:
    KEFU_MONTH_END_TIMEOUT_HOURS, default 20 hours (the run of 06:00 on the 1st gives up before the
    next night's run at 02:00; a night that failed needs a person)."""
    return timedelta(hours=float(os.environ.get("KEFU_MONTH_END_TIMEOUT_HOURS", "20")))


def signoff_poke_seconds() -> float:
    """How often the DAG's sensor asks whether the month is signed: KEFU_SIGNOFF_POKE_SECONDS, default
    30 minutes (a window of working days; the tests use a few seconds)."""
    return float(os.environ.get("KEFU_SIGNOFF_POKE_SECONDS", "1800"))


def signoff_timeout():
    """How long a run waits for the sign-off before it fails: KEFU_SIGNOFF_TIMEOUT_DAYS, default 28 days
    (the rulebook's window of working days plus the decisions, well inside the next month's run)."""
    return timedelta(days=float(os.environ.get("KEFU_SIGNOFF_TIMEOUT_DAYS", "28")))

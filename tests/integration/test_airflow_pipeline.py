"""The Airflow DAGs end to end: dag.test() of `nightly` and `monthly_assessment` on a
private AIRFLOW_HOME (SQLite), the published copy, backfill/idempotency. A corrupt export and a
run killed during dbt: tests/integration/test_airflow_failures.py.

To fit CI, one demo month is used: its first 29 days are loaded by the backfill DAG (one bulk
batch, one build, the gates, publish; the session's `airflow_backfilled` home, tests/conftest.py,
D-210), the last two go through the nightly DAG, then the month is closed through
monthly_assessment — and equals what night-by-night runs publish (D-71, D-105).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date

import duckdb
import pytest
from airflow_checks import assert_success, sha256

from kefu import airflow_runner, appeals, exactness, pipeline
from kefu.access import Access
from kefu.home import Home

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

NIGHTLY_TASKS = {"ingest", "dbt_build", "contract_gate", "threshold_suites", "publish", "dbt_docs", "notify"}
MONTHLY_TASKS = {
    "wait_for_month_end",
    "prepare",
    "close_month",
    "reports",
    "wait_for_signoff",
    "final",
    "notify",
    "cleanup",
}
MANAGER = Access("wang.fang@example.com", "manager")


def publications(home: Home) -> list[dict]:
    lines = (home.published_dir / "publications.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines]


def test_dagbag_imports_both_dags_with_their_settings(tmp_path):
    env = airflow_runner.airflow_env(tmp_path / "home", tmp_path / "airflow")
    code = (
        "import json\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(airflow_runner.DAGS)!r})\n"
        "out = {'errors': {k: str(v) for k, v in bag.import_errors.items()}, 'dags': {}}\n"
        "for dag_id, dag in bag.dags.items():\n"
        "    out['dags'][dag_id] = {'max_active_runs': dag.max_active_runs, 'doc_md': bool(dag.doc_md),\n"
        "        'callback': dag.on_failure_callback is not None, 'schedule': str(getattr(dag.timetable, '_expression', '')),\n"
        "        'tasks': {t.task_id: {'pool': t.pool, 'retries': t.retries, 'upstream': sorted(t.upstream_task_ids),\n"
        "                             'callback': bool(t.on_failure_callback)} for t in dag.tasks}}\n"
        "print('RESULT ' + json.dumps(out))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    line = next(x for x in res.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line[len("RESULT ") :])
    assert out["errors"] == {}
    assert set(out["dags"]) == {"nightly", "monthly_assessment", "backfill"}
    nightly = out["dags"]["nightly"]
    assert nightly["max_active_runs"] == 1 and nightly["doc_md"] and nightly["callback"]
    assert set(nightly["tasks"]) == NIGHTLY_TASKS
    writers = {"ingest", "dbt_build", "contract_gate", "threshold_suites", "publish"}
    assert {t for t, v in nightly["tasks"].items() if v["pool"] == pipeline.POOL} == writers
    assert nightly["tasks"]["dbt_build"]["retries"] >= 1 and nightly["tasks"]["dbt_build"]["callback"]
    assert nightly["tasks"]["contract_gate"]["retries"] == 0  # a data problem is not retried
    monthly = out["dags"]["monthly_assessment"]
    assert monthly["max_active_runs"] == 1 and monthly["doc_md"]
    assert set(monthly["tasks"]) == MONTHLY_TASKS  # draft, then a sensor waits for the sign-off (issue 21)
    backfill = out["dags"]["backfill"]
    assert backfill["max_active_runs"] == 1 and backfill["doc_md"] and backfill["callback"]
    assert set(backfill["tasks"]) == NIGHTLY_TASKS and backfill["schedule"] == ""  # triggered by hand
    assert {t for t, v in backfill["tasks"].items() if v["pool"] == pipeline.POOL} == writers
    declared = [s.task_id for s in pipeline.NIGHTLY_STEPS]
    assert runs_in_order(nightly["tasks"]) == declared  # the step order is declared once (D-156)
    assert runs_in_order(backfill["tasks"]) == declared
    assert {s.task_id for s in pipeline.NIGHTLY_STEPS if s.writer} == writers


def runs_in_order(tasks: dict[str, dict]) -> list[str]:
    """The task ids in the one order their dependencies allow; fails when two could run in either order."""
    order: list[str] = []
    while len(order) < len(tasks):
        ready = [t for t, v in tasks.items() if t not in order and set(v["upstream"]) <= set(order)]
        assert len(ready) == 1, f"after {order}, {ready} could run next: the order is not one chain"
        order += ready
    return order


def test_runs_in_order_sees_a_task_out_of_the_chain():
    chain = {"a": {"upstream": []}, "b": {"upstream": ["a"]}, "c": {"upstream": ["a", "b"]}}
    assert runs_in_order(chain) == ["a", "b", "c"]
    with pytest.raises(AssertionError):
        runs_in_order({**chain, "c": {"upstream": ["a"]}})


# --- the happy path, backfill and idempotency ---------------------------------------------------


@pytest.fixture(scope="module")
def month_run(tmp_path_factory, generated, airflow_backfilled):
    """Backlog Jan 1-29 by the backfill DAG, then nightly Jan 30 and Jan 31 through Airflow."""
    home, env, backfill = airflow_backfilled(tmp_path_factory.mktemp("airflow_month"))
    days = pipeline.day_folders(generated(1, 1) / "landing")
    assert days[-1] == date(2026, 1, 31)
    backfilled = [backfill]
    assert_success(backfilled, ["2026-01-29"])
    assert set(backfilled[0]["tasks"]) == NIGHTLY_TASKS
    # the batch loaded exactly the days up to its date, each archived under its own day
    assert sorted(p.name for p in home.archive.iterdir()) == [d.isoformat() for d in days[:-2]]
    assert all(any((home.landing / d.isoformat()).iterdir()) for d in days[-2:])
    results = airflow_runner.run_in_child("nightly", ["2026-01-30", "2026-01-31"], env)
    return home, env, results


def test_nightly_dag_publishes_the_answer_key(month_run):
    home, _env, results = month_run
    assert_success(results, ["2026-01-30", "2026-01-31"])
    for r in results:
        assert set(r["tasks"]) == NIGHTLY_TASKS
    diff = exactness.compare(home.published, home.root / "expected" / "kpi_expected.csv")
    assert diff.empty, exactness.summary(diff)
    manifest = json.loads(home.manifest.read_text(encoding="utf-8"))
    assert manifest["business_date"] == "2026-01-31"
    assert [p["business_date"] for p in publications(home)] == ["2026-01-29", "2026-01-30", "2026-01-31"]
    assert not os.access(home.published, os.W_OK) or os.geteuid() == 0  # read-only file mode
    assert home.published.stat().st_mode & 0o222 == 0
    assert home.manifest.stat().st_mode & 0o444 == 0o444  # every reader may read what was published
    # the run's summary and Great Expectations Data Docs sit together under logs/<date>/<run>/
    run = home.run_dir("2026-01-31", results[-1]["run_id"])
    assert "data contract gate: passed" in (run / "summary.txt").read_text(encoding="utf-8")
    assert (run / "data_docs" / "contract" / "index.html").exists()
    assert (run / "data_docs" / "thresholds" / "index.html").exists()
    # every breach of the threshold suites is in audit.kpi_breaches: the failed rule results of the months
    con = duckdb.connect(str(home.published), read_only=True)
    failed = con.execute(
        "select count(*) from marts.kpi_rule_results where not passed and period_month in ('2025-12', '2026-01')"
    ).fetchone()[0]
    recorded = con.execute(
        "select count(*) from audit.kpi_breaches where business_date = date '2026-01-31'"
    ).fetchone()[0]
    con.close()
    assert failed > 0 and recorded == failed


def run_month_signing(home: Home, env: dict, month: str, act) -> list[dict]:
    """monthly_assessment of `month` in a thread; once its draft is published (the sensor waits for
    the sign-off, poking every 2 s) act() plays the district heads and the manager."""
    import threading

    env = env | {"KEFU_SIGNOFF_POKE_SECONDS": "2"}
    out: dict = {}
    before = len(appeals.events(home, month)) if appeals.ledger_path(home).exists() else 0
    run = threading.Thread(
        target=lambda: out.update(results=airflow_runner.run_in_child("monthly_assessment", [month], env))
    )
    run.start()
    deadline = time.monotonic() + 1800
    while (
        not any(
            e["event"] == "draft_ready"
            for e in (appeals.events(home, month)[before:] if appeals.ledger_path(home).exists() else [])
        )
        or not (home.assessment_dir(month) / f"service_report_{month}.pdf").exists()
    ):
        assert run.is_alive(), f"the run ended before its draft: {out}"
        assert time.monotonic() < deadline, "no draft after 30 minutes"
        time.sleep(2)
    time.sleep(3)  # the draft reports are renamed into place before the sensor's first poke
    assert run.is_alive(), "the run did not wait for the sign-off"
    act()
    run.join(timeout=1800)
    assert not run.is_alive()
    return out["results"]


def test_monthly_assessment_draft_appeal_approve_sign_final(month_run):
    """Issue 21 end to end through Airflow: draft → appeal → approve → sign → final, the workbook and
    PDF showing raw, exempted and final figures and who signed."""
    import openpyxl
    import pypdf

    home, env, _ = month_run
    out = home.assessment_dir("2026-01")
    item: dict = {}

    def appeal_approve_sign() -> None:
        assert appeals.status(home, "2026-01").state == "draft"
        assert "草稿 draft" in openpyxl.load_workbook(out / "assessment_2026-01.xlsx")["概览 Summary"]["A1"].value
        con = duckdb.connect()
        rule, ticket, district = con.execute(
            "select measure_id, ticket_id, district_id from read_parquet(?) where measure_id = 'T1' and is_judged "
            "and not is_met and district_id is not null order by ticket_id limit 1",
            [str(out / "fct_ticket_sla.parquet")],
        ).fetchone()
        raw = dict(
            con.execute(
                "select grain || ':' || unit_id, [numerator, denominator] from read_parquet(?) "
                "where measure_id = ? and grain in ('company', 'district') and unit_id in ('ALL', ?)",
                [str(out / "kpi_rule_results.parquet"), rule, district],
            ).fetchall()
        )
        # a technician whose score is not capped appeals one of his failed results (a unit item):
        # approved, the result counts as passed and the final score regains its deduction (D-174)
        tech, measure, deduction, score = con.execute(
            "select m.unit_id, l.measure_id, l.deduction, m.score from read_parquet(?) as m "
            "join read_parquet(?) as l on l.grain = m.grain and l.unit_id = m.unit_id "
            "where m.grain = 'technician' and not m.is_capped and l.deduction > 0 "
            "order by m.unit_id, l.measure_id limit 1",
            [str(out / "kpi_score_monthly.parquet"), str(out / "kpi_score_lines.parquet")],
        ).fetchone()
        con.close()
        t = appeals.file_appeal(
            home,
            Access(tech, "technician", technician=tech),
            "2026-01",
            appeals.Item.unit(measure, "technician", tech),
            "病假未登记 sick leave not recorded",
        )
        appeals.decide(home, MANAGER, "2026-01", t.appeal_id, "approved", "假条已核实 confirmed")
        item.update(tech=tech, tech_score=score + deduction, tech_appeal=t.appeal_id)
        head = Access(f"head.{district}@example.com", "district_head", districts=(district,))
        a = appeals.file_appeal(
            home, head, "2026-01", appeals.Item.ticket(rule, ticket), "停电未登记 outage not recorded"
        )
        appeals.decide(home, MANAGER, "2026-01", a.appeal_id, "approved", "停电已核实 outage confirmed")
        appeals.sign(home, MANAGER, "2026-01")
        item.update(rule=rule, district=district, raw=raw, appeal=a.appeal_id)

    results = run_month_signing(home, env, "2026-01", appeal_approve_sign)
    assert_success(results, ["2026-01"])
    assert set(results[0]["tasks"]) == MONTHLY_TASKS
    info = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    assert info["as_of_date"] == "2026-01-31"
    assert {p.stat().st_mode & 0o444 for p in out.iterdir()} == {0o444}  # readable by every reader
    assert {p.stat().st_mode & 0o222 for p in out.iterdir()} == {0}  # final: frozen
    con = duckdb.connect(str(home.published), read_only=True)
    diff = con.execute(
        f"select count(*) from ((select * from read_parquet('{out / 'kpi_rule_results.parquet'}') "
        f"except select * from marts.kpi_rule_results where period_month = '2026-01') union all "
        f"(select * from marts.kpi_rule_results where period_month = '2026-01' "
        f"except select * from read_parquet('{out / 'kpi_rule_results.parquet'}')))"
    ).fetchone()[0]
    n = con.execute("select count(*) from marts.kpi_rule_results where period_month = '2026-01'").fetchone()[0]
    final = dict(
        con.execute(
            f"select grain || ':' || unit_id, [numerator, denominator] from "
            f"read_parquet('{out / 'kpi_rule_results_final.parquet'}') where measure_id = ? "
            f"and grain in ('company', 'district') and unit_id in ('ALL', ?)",
            [item["rule"], item["district"]],
        ).fetchall()
    )
    con.close()
    assert n > 0 and diff == 0  # the raw draft is the published month
    assert info["tables"]["kpi_rule_results"] == n
    # the exempted (failed) ticket left the company's and its district's denominators, nothing else
    for key, (num, den) in item["raw"].items():
        assert final[key] == [num, den - 1], key
    signoff = json.loads((out / "signoff.json").read_text(encoding="utf-8"))
    assert (signoff["state"], signoff["signed_by"], sorted(signoff["exempted_appeals"])) == (
        "final",
        MANAGER.user,
        sorted([item["appeal"], item["tech_appeal"]]),
    )
    con = duckdb.connect()
    final_score = con.execute(
        "select score from read_parquet(?) where grain = 'technician' and unit_id = ?",
        [str(out / "kpi_score_monthly_final.parquet"), item["tech"]],
    ).fetchone()[0]
    con.close()
    assert final_score == pytest.approx(item["tech_score"])  # the signed month scores its final results
    wb = openpyxl.load_workbook(out / "assessment_2026-01.xlsx")
    assert f"已签发 signed by {MANAGER.user}" in wb["概览 Summary"]["A1"].value
    assert item["appeal"] in [r[0] for r in wb["申诉 Appeals"].iter_rows(min_row=4, values_only=True)]
    header = [c.value for c in wb["核减前后 Raw vs final"][2]]
    changed = [
        dict(zip(header, r))
        for r in wb["核减前后 Raw vs final"].iter_rows(min_row=4, values_only=True)
        if r[header.index("核减项数")]
    ]
    assert {(r["考核层级"], r["原始分母"] - r["核减后分母"]) for r in changed} >= {("片区", 1), ("全公司", 1)}
    text = "".join("".join(p.extract_text() for p in pypdf.PdfReader(out / "service_report_2026-01.pdf").pages).split())
    assert f"已签发signedby{MANAGER.user}" in text and item["appeal"] in text and "申诉、核减与签发" in text


def test_rerunning_dates_and_the_month_changes_nothing(month_run):
    home, env, _ = month_run
    published_before = sha256(home.published)
    manifest_before = home.manifest.read_text(encoding="utf-8")
    closed = home.assessment_dir("2026-01") / "kpi_rule_results.parquet"
    closed_before = sha256(closed)
    jan30 = next(p for p in publications(home) if p["business_date"] == "2026-01-30")

    # signed by the test above: closing the month again must leave it frozen
    assert appeals.status(home, "2026-01").state == "final"
    dbt_log = home.root / "dbt_target" / "monthly" / "logs" / "dbt.log"
    logged = dbt_log.stat().st_size

    # the newest date again (same marts: the published copy is not even rewritten), then a past
    # date: the working warehouse is rebuilt as that night saw it (export history) and its marts
    # equal what was published that night; the published copy (a newer date) stays. Then the month
    # again (one Airflow start for the three runs).
    plan = [("nightly", ["2026-01-31", "2026-01-30"]), ("monthly_assessment", ["2026-01"])]
    results = airflow_runner.run_plan_in_child(plan, env)
    assert_success(results[:2], ["2026-01-31", "2026-01-30"])
    assert sha256(home.published) == published_before
    assert home.manifest.read_text(encoding="utf-8") == manifest_before
    assert pipeline.fingerprint(home.warehouse) == jan30["fingerprint"]

    # the month closed again from that state gives the identical assessment: it is frozen, and the
    # run neither copies the warehouse nor runs a data test (D-218)
    assert_success(results[2:], ["2026-01"])
    assert sha256(closed) == closed_before
    assert dbt_log.stat().st_size == logged
    assert not (home.root / "tmp" / "monthly_assessment").exists()


def test_reopening_a_signed_month_recomputes_it_as_a_draft_to_sign_again(month_run):
    home, env, _ = month_run
    out = home.assessment_dir("2026-01")
    signed_before = json.loads((out / "signoff.json").read_text(encoding="utf-8"))
    appeals.reopen(home, MANAGER, "2026-01", "补录停电记录 late outage record")
    assert appeals.status(home, "2026-01").state == "draft"

    def sign_again() -> None:
        assert json.loads((out / "signoff.json").read_text(encoding="utf-8"))["state"] == "draft"
        assert not (out / "kpi_rule_results_final.parquet").exists()  # the old final went with the old draft
        appeals.sign(home, MANAGER, "2026-01")

    assert_success(run_month_signing(home, env, "2026-01", sign_again), ["2026-01"])
    signed = json.loads((out / "signoff.json").read_text(encoding="utf-8"))
    assert signed["state"] == "final" and signed["reopenings"] == 1 and signed["signed_at"] > signed_before["signed_at"]
    # the approval of the first cycle still stands
    assert signed["exempted_appeals"] == signed_before["exempted_appeals"]
    kinds = [e["event"] for e in appeals.events(home, "2026-01")]
    assert kinds == [  # the first cycle: the technician's unit appeal, then the district's ticket appeal
        "draft_ready",
        "appeal_filed",
        "appeal_decided",
        "appeal_filed",
        "appeal_decided",
        "month_signed",
        "month_reopened",
        "draft_ready",
        "month_signed",
    ]

"""kefu demo's two lanes (airflow_runner.run_lanes, D-204): each lane in a child of its own, results in
lane order, and a failed run in one lane stops the others at once."""

from __future__ import annotations

import subprocess
import sys
import time

from kefu import airflow_runner


def _fake_child(monkeypatch, behaviour):
    """run_plan_in_child replaced: each lane starts a real child (sleep) and reports what behaviour says."""
    children = []

    def fake(plan, env, conf=None, on_result=None, on_start=None):
        # a child that goes on through SIGTERM, as a child inside dag.test() does: only SIGKILL stops it
        proc = subprocess.Popen(
            [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"]
        )
        children.append(proc)
        on_start(proc)
        results = []
        for dag_id, keys in plan:
            for key in keys:
                state = behaviour(dag_id, key)
                if state == "sleep":  # a long run: until the child ends (killed by another lane)
                    proc.wait()
                    raise RuntimeError("dag.test crashed")  # what run_plan_in_child raises then
                r = {"dag_id": dag_id, "key": key, "state": state}
                results.append(r)
                on_result(r)
                if state != "success":
                    break
        proc.kill()
        proc.wait()
        return results

    monkeypatch.setattr(airflow_runner, "run_plan_in_child", fake)
    return children


def test_each_lane_returns_its_own_results_in_order(monkeypatch):
    _fake_child(monkeypatch, lambda dag_id, key: "success")
    seen = []
    lanes = airflow_runner.run_lanes(
        [
            [("backfill", ["2026-03-28"]), ("nightly", ["2026-03-29", "2026-03-30"])],
            [("monthly_assessment", ["2026-01"])],
        ],
        {},
        on_result=seen.append,
    )
    assert [[r["key"] for r in lane] for lane in lanes] == [["2026-03-28", "2026-03-29", "2026-03-30"], ["2026-01"]]
    assert sorted(r["key"] for r in seen) == ["2026-01", "2026-03-28", "2026-03-29", "2026-03-30"]


def test_a_failed_run_stops_the_other_lane_at_once(monkeypatch):
    def behaviour(dag_id, key):
        if dag_id == "backfill":
            time.sleep(0.5)
            return "failed"
        return "sleep"  # the month waits for a night that will never be published

    children = _fake_child(monkeypatch, behaviour)
    t0 = time.monotonic()
    lanes = airflow_runner.run_lanes([[("backfill", ["2026-03-28"])], [("monthly_assessment", ["2026-01"])]], {})
    assert time.monotonic() - t0 < 30  # not the 60 s of the sleeping child
    assert [r["state"] for r in lanes[0]] == ["failed"] and lanes[1] == []
    assert all(p.wait(timeout=10) is not None for p in children)  # terminated, not left to sleep


def test_a_lane_that_crashes_is_raised_after_the_others_stopped(monkeypatch):
    def behaviour(dag_id, key):
        if dag_id == "backfill":
            raise RuntimeError("dag.test of backfill crashed")
        return "sleep"

    children = _fake_child(monkeypatch, behaviour)
    try:
        airflow_runner.run_lanes([[("backfill", ["2026-03-28"])], [("monthly_assessment", ["2026-01"])]], {})
    except RuntimeError as exc:
        assert "backfill crashed" in str(exc)
    else:
        raise AssertionError("the crash was not raised")
    assert all(p.wait(timeout=10) is not None for p in children)  # terminated, not left to sleep

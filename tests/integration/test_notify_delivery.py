"""Notifications delivered for real, to receivers the test starts on 127.0.0.1 (random ports):
an HTTP receiver (a `http.server` thread) for apprise's json:// and form:// webhooks, an SMTP
receiver (aiosmtpd) for mailto://; a channel answering HTTP 500 and one refusing the connection;
the nightly `notify` task's own function and the DAGs' failure callback end to end; `kefu notify test`."""

from __future__ import annotations

import email
import email.policy
import importlib.util
import json
import socket
from email.header import decode_header, make_header
from pathlib import Path
from types import SimpleNamespace

import pytest

from kefu import notify

ROOT = Path(__file__).resolve().parents[2]
PHONE = "13912345678"


@pytest.fixture
def smtp():
    """An SMTP server on 127.0.0.1 keeping every message it receives."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages: list[tuple[str, list[str], bytes]] = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    with socket.socket() as s:  # a free port (aiosmtpd checks its own port once started: not 0)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Keep()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    yield SimpleNamespace(port=port, messages=handler.messages)
    ctl.stop()


def routed(receiver) -> dict:
    base = f"127.0.0.1:{receiver.port}"
    return {
        "channels": {
            "manager-hook": {"url": f"json://{base}/manager", "audience": ["role:manager"]},
            "d01-hook": {"url": f"json://{base}/d01", "audience": ["district:D01"]},
            "d02-form": {"url": f"form://{base}/d02", "audience": ["district:D02"]},
            "ops-hook": {"url": f"json://{base}/ops", "audience": ["role:operator"]},
        }
    }


def test_json_and_form_webhooks_receive_title_body_and_event(receiver, tmp_path):
    out = notify.send(
        "appeal_filed",
        "申诉 AP-0042 · 工单 TK0001",
        f"片区 D02 技术员 T0201 (客户 {PHONE})",
        audience=["district:D02"],
        config=routed(receiver),
        log_file=tmp_path / "n.jsonl",
    )
    assert sorted((d.channel, d.ok) for d in out) == [("d02-form", True), ("manager-hook", True)]
    (form,) = receiver.at("/d02")
    (js,) = receiver.at("/manager")
    for payload in (form, js):
        assert payload["title"] == "[客服考核] 考核申诉已提交 · Appeal filed: 申诉 AP-0042 · 工单 TK0001"
        assert "片区 D02 技术员 T0201" in payload["message"] and "event: appeal_filed" in payload["message"]
        assert PHONE not in json.dumps(payload, ensure_ascii=False) and "139****5678" in payload["message"]
    assert js["type"] == "info"
    assert receiver.at("/d01") == [] and receiver.at("/ops") == []


def test_routing_district_channels_get_only_their_events_the_manager_all(receiver, tmp_path):
    cfg = routed(receiver)
    sends = [
        ("appeal_filed", ["district:D01"]),
        ("appeal_decided", ["district:D02"]),
        ("appeal_decided", ["district:D01"]),
        ("draft_ready", []),
        ("run_failed", []),
    ]
    for event, audience in sends:
        notify.send(event, f"{event} test", "", audience=audience, config=cfg, log_file=tmp_path / "n.jsonl")
    events = {
        path: [p["message"].rsplit("event: ", 1)[1].split(" ")[0] for p in receiver.at(path)]
        for path in ("/manager", "/d01", "/d02", "/ops")
    }
    assert events["/manager"] == ["appeal_filed", "appeal_decided", "appeal_decided", "draft_ready", "run_failed"]
    assert events["/d01"] == ["appeal_filed", "appeal_decided"]
    assert events["/d02"] == ["appeal_decided"]
    assert events["/ops"] == ["run_failed"]


def test_a_refusing_channel_does_not_raise_and_is_reported(receiver, tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    cfg = {
        "channels": {
            "good": {"url": f"json://127.0.0.1:{receiver.port}/good", "audience": "all"},
            "http500": {"url": f"json://kefu:HOOKPASSWORD1@127.0.0.1:{receiver.port}/fail", "audience": "all"},
            "refused": {"url": f"json://127.0.0.1:{closed}/x", "audience": "all"},
        }
    }
    log = tmp_path / "notifications.jsonl"
    out = {
        d.channel: d
        for d in notify.send("run_failed", "nightly 2026-01-05 FAILED", "publish: boom", config=cfg, log_file=log)
    }
    assert out["good"].ok and len(receiver.at("/good")) == 1
    assert not out["http500"].ok and "500" in out["http500"].error
    assert not out["refused"].ok and "onnection" in out["refused"].error
    recorded = {r["channel"]: r for r in map(json.loads, log.read_text(encoding="utf-8").splitlines())}
    assert {k: v["ok"] for k, v in recorded.items()} == {"good": True, "http500": False, "refused": False}
    assert "HOOKPASSWORD1" not in log.read_text(encoding="utf-8") + out["http500"].line()


def test_mailto_delivers_to_a_local_smtp_server(smtp, tmp_path):
    cfg = {
        "channels": {
            "manager-mail": {
                "url": f"mailto://127.0.0.1:{smtp.port}?from=kefu@example.com&to=manager@example.com&name=kefu",
                "audience": ["role:manager"],
            }
        }
    }
    out = notify.send(
        "month_signed",
        "2026-01 月度考核已签发",
        "签发 by M01 · 12 districts",
        config=cfg,
        log_file=tmp_path / "n.jsonl",
    )
    assert [(d.channel, d.ok, d.url) for d in out] == [
        ("manager-mail", True, f"mailto://127.0.0.1:{smtp.port}/m***@example.com")
    ]  # no address in logs
    ((sender, rcpts, raw),) = smtp.messages
    assert sender == "kefu@example.com" and rcpts == ["manager@example.com"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert (
        str(make_header(decode_header(msg["Subject"])))
        == "[客服考核] 月度考核已签发 · Month signed: 2026-01 月度考核已签发"
    )
    body = msg.get_body(("plain", "html")).get_content()
    assert "签发 by M01" in body and "event: month_signed" in body


def _load_dag_module(name: str):
    spec = importlib.util.spec_from_file_location(f"kefu_test_dag_{name}", ROOT / "dags" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.airflow  # imports the DAG file (Airflow), ~6 s
def test_the_nightly_notify_task_delivers_its_summary(receiver, tmp_path, monkeypatch):
    """The very function of the nightly DAG's `notify` task (its python_callable), with a context."""
    home = tmp_path / "home"
    (home / "secrets").mkdir(parents=True)
    (home / "secrets" / "notify.yml").write_text(
        f"channels:\n  manager:\n    url: json://127.0.0.1:{receiver.port}/manager\n    audience: [role:manager]\n"
        f"  d01:\n    url: json://127.0.0.1:{receiver.port}/d01\n    audience: [district:D01]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KEFU_HOME", str(home))
    monkeypatch.delenv(notify.CONFIG_ENV, raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    nightly = _load_dag_module("nightly")
    monkeypatch.setattr(
        nightly,
        "get_current_context",
        lambda: {"params": {"business_date": "2026-01-05", "demo_key": False}, "run_id": "manual__2026-01-05"},
    )
    task = nightly.nightly().get_task("notify")
    # the task runs the pipeline's notify step (kefu/pipeline/order.py) with what the earlier steps returned
    text = task.python_callable(
        "notify",
        {
            "ingest": {"files": 9, "rows_loaded": 1234, "rows_quarantined": 5, "rejected": 0},
            "build": {"as_of_date": "2026-01-05", "seconds": 41.0},
            "contract": {"evaluated": 310},
            "thresholds": {"breaches": 3, "top_rules": {"T1": 2, "H1": 1}},
            "publish": {
                "published": True,
                "path": str(home / "published" / "kefu.duckdb"),
                "bytes": 10,
                "seconds": 0.2,
            },
            "docs": {},
        },
    )["text"]
    (msg,) = receiver.at("/manager")
    assert msg["title"] == "[客服考核] 夜间运行汇总 · Nightly summary: nightly 2026-01-05 ok · 3 breaches"
    assert (
        "1,234 rows loaded" in msg["message"]
        and "超标 3 项" in msg["message"]
        and text.splitlines()[0] in msg["message"]
    )
    assert receiver.at("/d01") == []
    recorded = [json.loads(x) for x in (home / "logs" / "notifications.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["event"], r["channel"], r["ok"]) for r in recorded] == [("nightly_summary", "manager", True)]


def test_the_failure_callback_sends_run_failed(receiver, tmp_path, monkeypatch):
    from kefu import pipeline_airflow

    monkeypatch.setenv("KEFU_HOME", str(tmp_path / "home"))
    cfg = tmp_path / "notify.yml"
    cfg.write_text(
        f"channels:\n  ops:\n    url: json://127.0.0.1:{receiver.port}/ops\n    audience: [role:operator]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(notify.CONFIG_ENV, str(cfg))
    pipeline_airflow.on_failure(
        {
            "task_instance": SimpleNamespace(dag_id="nightly", task_id="publish"),
            "exception": RuntimeError("disk full"),
            "run_id": "scheduled__x",
            "params": {"business_date": "2026-01-05"},
        }
    )
    (msg,) = receiver.at("/ops")
    assert msg["type"] == "failure"
    assert msg["title"].startswith("[客服考核] 运行失败 · Run failed: FAILED nightly.publish run scheduled__x")
    assert "disk full" in msg["message"]


def test_kefu_notify_test_prints_what_went_where_masked(receiver, tmp_path, monkeypatch, capsys):
    from kefu.cli import main

    monkeypatch.setenv("KEFU_HOME", str(tmp_path / "home"))
    cfg = tmp_path / "notify.yml"
    cfg.write_text(
        f"channels:\n  manager:\n    url: json://kefu:WEBHOOKSECRET7@127.0.0.1:{receiver.port}/manager\n"
        f"    audience: [role:manager]\n  d01:\n    url: json://127.0.0.1:{receiver.port}/fail\n"
        f"    audience: [district:D01]\n",
        encoding="utf-8",
    )
    assert main(["notify", "test", "--event", "nightly_summary", "--config", str(cfg)]) == 0
    printed = capsys.readouterr().out
    assert f"nightly_summary -> manager (json://kefu:****@127.0.0.1:{receiver.port}/manager): sent" in printed
    assert "WEBHOOKSECRET7" not in printed and "d01" not in printed
    assert "测试消息 · test message" in receiver.at("/manager")[0]["title"]
    assert main(["notify", "test", "--event", "appeal_filed", "--audience", "district:D01", "--config", str(cfg)]) == 1
    printed = capsys.readouterr().out
    assert "FAIL appeal_filed -> d01" in printed and "500" in printed
    assert main(["notify", "test", "--event", "run_failed", "--config", str(tmp_path / "none.yml")]) == 1
    assert "no channel configured" in capsys.readouterr().err


@pytest.mark.airflow  # imports the DAG file (Airflow)
def test_the_monthly_notify_task_sends_month_final(receiver, tmp_path, monkeypatch):
    cfg = tmp_path / "notify.yml"
    cfg.write_text(
        f"channels:\n  manager:\n    url: json://127.0.0.1:{receiver.port}/manager\n    audience: [role:manager]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(notify.CONFIG_ENV, str(cfg))
    monkeypatch.setenv("KEFU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monthly = _load_dag_module("monthly_assessment")
    monkeypatch.setattr(monthly, "get_current_context", lambda: {"params": {"month": "2026-01"}, "run_id": "manual__m"})
    task = monthly.monthly_assessment().get_task("notify")
    task.python_callable(
        {"month": "2026-01", "as_of_date": "2026-01-31", "tables": {"kpi_rule_results": 4321}},
        {
            "signed_by": "wang.fang",
            "results_failed_raw": 9,
            "results_failed_final": 8,
            "exempted_appeals": ["2026-01-A001"],
            "files": ["assessment.xlsx", "report.pdf"],
        },
    )
    (msg,) = receiver.at("/manager")
    assert msg["title"] == "[客服考核] 月度考核已定稿 · Month final, reports published: 月度考核 2026-01"
    assert "4321 rule results" in msg["message"] and "report.pdf" in msg["message"]

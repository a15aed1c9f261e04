"""kefu.notify without a network: the configuration, audiences as apprise tags, the message text
(Chinese with English, no personal data), and the WeCom / DingTalk / Feishu robots.

The robots' hosts are fixed in apprise 2.3 (wecombot -> qyapi.weixin.qq.com, dingtalk ->
oapi.dingtalk.com, feishu -> open.feishu.cn: `notify_url` is a class constant, no URL argument
overrides it), so they are not pointed at a local receiver: the prepared request is captured by
patching requests' lowest sending layer, `requests.adapters.HTTPAdapter.send`, which every
`requests.post` of apprise goes through; nothing leaves the machine."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests

from kefu import notify

PHONE = "13812345678"
ID_NUMBER = "110101199003071234"


class Captured:
    def __init__(self) -> None:
        self.requests: list[requests.PreparedRequest] = []


@pytest.fixture
def wire(monkeypatch) -> Captured:
    """Every HTTP request apprise prepares, answered 200 with the robots' success body."""
    cap = Captured()

    def send(self, request, **kwargs):
        cap.requests.append(request)
        r = requests.Response()
        r.status_code = 200
        r._content = b'{"errcode": 0, "errmsg": "ok", "code": 0, "StatusCode": 0}'
        r.headers["Content-Type"] = "application/json"
        r.url, r.request = request.url, request
        return r

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return cap


ROBOTS = {
    "channels": {
        "d01-wecom": {"url": "wecombot://WECOMKEY0123456789", "audience": ["district:D01"]},
        "manager-dingtalk": {"url": "dingtalk://SECDINGTALK987654@DINGTOKEN123456/", "audience": "role:manager"},
        "d02-feishu": {"url": "feishu://FEISHUTOKEN24680", "audience": ["district:D02"]},
    }
}


def test_robot_schemas_parse_and_post_their_payload_to_their_own_hosts(wire, tmp_path):
    out = notify.send(
        "month_signed",
        "2026-01 月度考核已签发",
        "签发人 manager M01 · 12 个片区",
        audience=["all"],
        config=ROBOTS,
        log_file=tmp_path / "n.jsonl",
    )
    assert sorted((d.channel, d.ok) for d in out) == [
        ("d01-wecom", True),
        ("d02-feishu", True),
        ("manager-dingtalk", True),
    ]
    by_host = {requests.utils.urlparse(r.url).hostname: r for r in wire.requests}
    assert set(by_host) == {"qyapi.weixin.qq.com", "oapi.dingtalk.com", "open.feishu.cn"}

    wecom = by_host["qyapi.weixin.qq.com"]
    assert "key=WECOMKEY0123456789" in wecom.url
    w = json.loads(wecom.body)
    assert w["msgtype"] == "text" and "月度考核已签发 · Month signed" in w["text"]["content"]
    assert "event: month_signed" in w["text"]["content"]

    ding = by_host["oapi.dingtalk.com"]
    assert "access_token=DINGTOKEN123456" in ding.url and "sign=" in ding.url  # the secret signs, is not sent
    assert "SECDINGTALK987654" not in ding.url + str(ding.body)
    d = json.loads(ding.body)
    assert "签发人 manager M01" in json.dumps(d, ensure_ascii=False)

    feishu = by_host["open.feishu.cn"]
    assert feishu.url.startswith("https://open.feishu.cn/open-apis/bot/v2/hook/FEISHUTOKEN24680")
    assert "Month signed" in json.dumps(json.loads(feishu.body), ensure_ascii=False)


def test_masked_urls_and_logs_never_show_a_robot_key(wire, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # apprise's DingTalk debug line prints its full request URL
    out = notify.send(
        "appeal_filed",
        "申诉 AP-0007",
        "工单 TK0001",
        audience=["district:D01"],
        config=ROBOTS,
        log_file=tmp_path / "n.jsonl",
    )
    assert {d.channel for d in out} == {"d01-wecom", "manager-dingtalk"}
    logged = caplog.text + (tmp_path / "n.jsonl").read_text(encoding="utf-8") + "".join(d.line() for d in out)
    assert "apprise" in caplog.text  # apprise did log
    for secret in ("WECOMKEY0123456789", "SECDINGTALK987654", "DINGTOKEN123456"):
        assert secret not in logged


def test_routing_by_audience_goes_through_apprise_tags(wire, tmp_path):
    cfg = {
        "channels": {
            "d01": {"url": "wecombot://KEYD01xxxx", "audience": ["district:D01"]},
            "d02": {"url": "wecombot://KEYD02xxxx", "audience": ["district:D02"]},
            "t0101": {"url": "wecombot://KEYT0101xx", "audience": ["technician:T0101"]},
            "manager": {"url": "wecombot://KEYMGRxxxx", "audience": ["role:manager"]},
            "ops": {"url": "wecombot://KEYOPSxxxx", "audience": ["all"]},
        }
    }

    def sent(*a, **k):
        return sorted(d.channel for d in notify.send(*a, **k, config=cfg, log_file=tmp_path / "n"))

    assert sent("appeal_decided", "AP-1", "维持 upheld", audience=["district:D01", "technician:T0101"]) == [
        "d01",
        "manager",
        "ops",
        "t0101",
    ]
    assert sent("appeal_filed", "AP-2", "", audience=["district:D02"]) == ["d02", "manager", "ops"]
    assert sent("draft_ready", "2026-01", "") == ["manager", "ops"]
    assert sent("month_signed", "2026-01", "", audience=["all"]) == ["d01", "d02", "manager", "ops", "t0101"]
    keys = [r.url.split("key=")[1] for r in wire.requests]
    assert keys.count("KEYD01xxxx") == 2 and keys.count("KEYD02xxxx") == 2 and keys.count("KEYMGRxxxx") == 4


def test_no_clear_personal_data_leaves_in_a_message():
    title, body = notify.compose(
        "appeal_filed",
        f"申诉 客户电话 {PHONE}",
        f"证件 {ID_NUMBER}, 邮箱 wang.fang@example.com, 工单 TK20260101000123, 技术员 T0101",
    )
    text = title + body
    assert PHONE not in text and ID_NUMBER not in text and "wang.fang@" not in text
    assert "138****5678" in text and "1101**********1234" in text  # the warehouse's masked forms
    assert "TK20260101000123" in text and "T0101" in text  # ids the readers may see are kept
    assert title.startswith("[客服考核] 考核申诉已提交 · Appeal filed: ")
    assert body.rstrip().splitlines()[-1].startswith("事件 event: appeal_filed")


def test_configuration_errors_name_the_file_and_the_channel(tmp_path):
    p = tmp_path / "notify.yml"
    p.write_text("channels:\n  d01:\n    url: wecombot://KEY\n    audience: [district:D01, boss]\n", encoding="utf-8")
    with pytest.raises(notify.NotifyConfigError, match=r"notify.yml: channel 'd01': audience \['boss'\]"):
        notify.load(p)
    p.write_text("channels:\n  - wecombot://KEY\n", encoding="utf-8")
    with pytest.raises(notify.NotifyConfigError, match="must map a channel name"):
        notify.load(p)
    p.write_text("channels:\n  mail:\n    audience: all\n", encoding="utf-8")
    with pytest.raises(notify.NotifyConfigError, match=r"channel 'mail': expected `url:"):
        notify.load(p)
    assert notify.load(tmp_path / "missing.yml").channels == ()


def test_a_bad_config_or_url_is_a_failed_delivery_not_an_exception(tmp_path):
    out = notify.send("run_failed", "x", "y", config=tmp_path / "broken.yml", log_file=tmp_path / "n.jsonl")
    assert out == []  # no file: nothing configured, nothing sent
    (tmp_path / "broken.yml").write_text("channels: [\n", encoding="utf-8")
    out = notify.send("run_failed", "x", "y", config=tmp_path / "broken.yml", log_file=tmp_path / "n.jsonl")
    assert [(d.channel, d.ok) for d in out] == [("(config)", False)] and "broken.yml" in out[0].error
    out = notify.send(
        "run_failed",
        "x",
        "y",
        config={"channels": {"odd": {"url": "nosuch://SECRETVALUE99"}}},
        log_file=tmp_path / "n.jsonl",
    )
    assert [(d.channel, d.ok) for d in out] == [("odd", False)] and "nosuch" in out[0].error
    recorded = [json.loads(x) for x in (tmp_path / "n.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["ok"] for r in recorded] == [False, False] and "SECRETVALUE99" not in json.dumps(recorded)
    assert (tmp_path / "n.jsonl").stat().st_mode & 0o777 == 0o600


def test_unknown_events_and_audiences_are_programming_errors():
    with pytest.raises(ValueError, match="unknown notification event 'draft'"):
        notify.send("draft", "x", "y", config={"channels": {}})
    with pytest.raises(ValueError, match="audience 'D01' not understood"):
        notify.send("draft_ready", "x", "y", audience=["D01"], config={"channels": {}})
    assert notify.tag_of("district:D01") == "district-d01" and notify.tag_of("all") == "always"


def test_the_config_is_found_in_the_installation_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv(notify.CONFIG_ENV, raising=False)
    monkeypatch.setenv("KEFU_HOME", str(tmp_path))
    assert notify.config_path() == Path(tmp_path).resolve() / "secrets" / "notify.yml"
    monkeypatch.setenv(notify.CONFIG_ENV, str(tmp_path / "elsewhere.yml"))
    assert notify.config_path() == tmp_path / "elsewhere.yml"


def test_the_old_email_variable_is_reported_not_silently_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv(notify.LEGACY_EMAIL_ENV, "manager@example.com")
    monkeypatch.setenv(notify.CONFIG_ENV, str(tmp_path / "missing.yml"))
    (d,) = notify.send("nightly_summary", "nightly ok", "", log_file=tmp_path / "n.jsonl")
    assert not d.ok and "KEFU_NOTIFY_EMAIL is no longer read" in d.error and "missing.yml" in d.error


def test_the_documented_example_configuration_is_one_apprise_understands(wire, tmp_path):
    import re

    import yaml

    md = (Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text(encoding="utf-8")
    example = yaml.safe_load(re.search(r"```yaml\n(.*?)```", md, re.DOTALL).group(1))
    cfg = notify.from_dict(example, "docs/notifications.md")
    assert {c.url.split("://")[0] for c in cfg.channels} >= {
        "mailto",
        "mailtos",
        "wecombot",
        "dingtalk",
        "feishu",
        "json",
    }
    import apprise

    assert [c.name for c in cfg.channels if apprise.Apprise.instantiate(c.url) is None] == []
    robots = notify.NotifyConfig(tuple(c for c in cfg.channels if not c.url.startswith("mailto")))
    out = notify.send("month_signed", "2026-01", "", audience=["all"], config=robots, log_file=tmp_path / "n")
    assert sorted(d.channel for d in out if d.ok) == sorted(c.name for c in robots.channels)


def test_inside_an_airflow_task_the_secrets_go_to_airflows_masker(wire, tmp_path, monkeypatch):
    import sys
    import types

    masked: list[str] = []
    fake = types.ModuleType("airflow.sdk.log")
    fake.mask_secret = masked.append
    monkeypatch.setitem(sys.modules, "airflow.sdk", sys.modules.get("airflow.sdk") or types.ModuleType("airflow.sdk"))
    monkeypatch.setitem(sys.modules, "airflow.sdk.log", fake)
    notify.send("month_signed", "2026-01", "", audience=["all"], config=ROBOTS, log_file=tmp_path / "n")
    assert {"WECOMKEY0123456789", "SECDINGTALK987654", "DINGTOKEN123456", "FEISHUTOKEN24680"} <= set(masked)

"""Notifications where people read them · 通知: e-mail and WeCom / DingTalk / Feishu group robots.

One entry point, `send(event, subject, body, audience)`, delivers through apprise (one apprise URL
per channel) to the channels whose audience is concerned; the nightly summary, the month's draft,
appeals, sign-off and failed runs all go this way (D-140 – D-144).

The configuration ($KEFU_NOTIFY_CONFIG, else $KEFU_HOME/secrets/notify.yml — it holds robot keys and
SMTP passwords: 0600, never in the published copy) names each channel, its URL and its audience:

    channels:
      manager-mail:                          # a name of your choosing: it is what logs show
        url: mailtos://kefu:PASSWORD@smtp.example.com?to=manager@example.com
        audience: [all]                      # every event
      d01-wecom:
        url: wecombot://BOT_KEY
        audience: [district:D01]             # the events concerning district D01

An audience is `all`, `role:<role>` (manager, district_head, technician, analyst, auditor, operator),
`district:<id>` or `technician:<id>`. It becomes an apprise tag (`district:D01` -> `district-d01`;
a channel of audience `all` gets apprise's `always` tag) and apprise's own tag matching picks the
channels. Every event also concerns its default audience (EVENTS): the department manager hears of
every event, operators of failed runs.

A failure to deliver never raises: it is logged with the channel named and its URL masked, and it is
returned (and appended to $KEFU_HOME/logs/notifications.jsonl) as a `Delivery` with ok=False.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

log = logging.getLogger("kefu.notify")

CONFIG_ENV = "KEFU_NOTIFY_CONFIG"
LEGACY_EMAIL_ENV = "KEFU_NOTIFY_EMAIL"  # before D-140: one address, Airflow's SMTP settings
LOG_NAME = "notifications.jsonl"
PREFIX = "[客服考核]"  # every title starts with it: a mail filter or a robot keyword can match it


@dataclass(frozen=True)
class Event:
    zh: str
    en: str
    audience: tuple[str, ...]  # concerned whatever the caller names
    kind: str = "info"  # apprise notify type: info | success | warning | failure


EVENTS: dict[str, Event] = {
    "nightly_summary": Event("夜间运行汇总", "Nightly summary", ("role:manager", "role:operator")),
    "draft_ready": Event("月度考核草稿已生成", "Draft assessment ready", ("role:manager",)),
    "appeal_filed": Event("考核申诉已提交", "Appeal filed", ("role:manager",)),
    "appeal_decided": Event("考核申诉已裁定", "Appeal decided", ("role:manager",)),
    "month_signed": Event("月度考核已签发", "Month signed", ("role:manager",), "success"),
    "month_final": Event("月度考核已定稿", "Month final, reports published", ("role:manager",), "success"),
    "month_reopened": Event("月度考核已重新打开", "Month reopened", ("role:manager",), "warning"),
    "run_failed": Event("运行失败", "Run failed", ("role:manager", "role:operator"), "failure"),
}

ROLES = ("manager", "district_head", "technician", "analyst", "auditor", "operator")
AUDIENCE = re.compile(rf"^(?:all|role:(?:{'|'.join(ROLES)})|(?:district|technician):[A-Za-z0-9][A-Za-z0-9_-]*)$")


class NotifyConfigError(ValueError):
    """The notification configuration cannot be used (the message names the file and the entry)."""


@dataclass(frozen=True)
class Channel:
    name: str
    url: str
    audience: tuple[str, ...]


@dataclass(frozen=True)
class NotifyConfig:
    channels: tuple[Channel, ...] = ()
    source: str = "(none)"


@dataclass
class Delivery:
    """What happened to one message on one channel (url masked: never a token or password)."""

    event: str
    channel: str
    url: str
    ok: bool
    error: str | None = None
    audience: list[str] = field(default_factory=list)

    def line(self) -> str:
        state = "sent 已发送" if self.ok else f"NOT sent 未发送: {self.error}"
        return f"{self.event} -> {self.channel} ({self.url}): {state}"


# --- configuration ----------------------------------------------------------------------------


def config_path() -> Path:
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    from kefu.home import Home

    return Home.from_env().root / "secrets" / "notify.yml"


def load(path: str | Path | None = None) -> NotifyConfig:
    """The channels of the configuration file (none: no file, nothing is sent)."""
    p = Path(path) if path else config_path()
    if not p.exists():
        return NotifyConfig((), f"{p} (missing: nothing is sent)")
    try:
        spec = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise NotifyConfigError(f"cannot read the notification config {p}: {e}") from None
    return from_dict(spec, str(p))


def from_dict(spec: dict, source: str = "(dict)") -> NotifyConfig:
    channels = spec.get("channels") if isinstance(spec, dict) else None
    if channels is None:
        raise NotifyConfigError(f"{source}: expected a mapping `channels:` of name -> {{url, audience}}")
    if not isinstance(channels, dict):
        raise NotifyConfigError(
            f"{source}: `channels` must map a channel name to {{url, audience}}, got {type(channels).__name__}"
        )
    out = []
    for name, entry in channels.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str) or not entry["url"].strip():
            raise NotifyConfigError(
                f"{source}: channel {name!r}: expected `url: <apprise URL>` "
                "(mailto://, wecombot://, dingtalk://, feishu://, json://, …)"
            )
        aud = entry.get("audience", ["all"])
        aud = [aud] if isinstance(aud, str) else list(aud or [])
        bad = [a for a in aud if not isinstance(a, str) or not AUDIENCE.match(a)]
        if bad or not aud:
            raise NotifyConfigError(
                f"{source}: channel {name!r}: audience {bad or aud!r} not understood; expected "
                f"all, role:<{'|'.join(ROLES)}>, district:<id> or technician:<id>"
            )
        out.append(Channel(str(name), entry["url"].strip(), tuple(aud)))
    return NotifyConfig(tuple(out), source)


def tag_of(audience: str) -> str:
    """The apprise tag of an audience (apprise tags are [a-z0-9_-]; a colon would read as a priority)."""
    if not AUDIENCE.match(audience):
        raise ValueError(
            f"audience {audience!r} not understood; expected all, role:<role>, district:<id> or technician:<id>"
        )
    return "always" if audience == "all" else audience.lower().replace(":", "-")


# --- secrets out of every log -----------------------------------------------------------------


def _secrets_of(plugin: Any) -> set[str]:
    """The private values of an apprise service (robot keys, tokens, passwords): apprise marks them."""
    found = {getattr(plugin, "password", None)}
    for key, spec in getattr(plugin, "template_tokens", {}).items():
        if spec.get("private"):
            found.add(getattr(plugin, spec.get("map_to") or key, None))
    return {s for s in found if isinstance(s, str) and len(s) >= 3}


class _Redact(logging.Filter):
    """Replaces the channels' secrets in every record of the apprise logger (its debug lines print
    some robots' full request URLs)."""

    def __init__(self, secrets: set[str]):
        super().__init__()
        self.secrets = sorted(secrets, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "****")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg, record.args = self.redact(record.getMessage()), None
        except Exception:
            return False
        return True


def _mask_in_airflow(secrets: set[str]) -> None:
    """Inside an Airflow task, also hand the secrets to Airflow's masker (task logs). Outside Airflow
    (the CLI, tests) Airflow is not imported for this: importing it reads and may write airflow.cfg."""
    if "airflow.sdk" not in sys.modules:
        return
    try:
        from airflow.sdk.log import mask_secret
    except Exception:
        return
    for s in secrets:
        try:
            mask_secret(s)
        except Exception:
            return


def _url_parts(url: str) -> set[str]:
    """Every piece of a URL that may be a secret, for redacting a URL apprise refused."""
    rest = url.split("://", 1)[-1]
    return {rest} | {p for p in re.split(r"[/:@?&=#+]", rest) if len(p) >= 6}


@contextmanager
def _redacting(secrets: set[str]) -> Iterator[_Redact]:
    f = _Redact(secrets)
    lg = logging.getLogger("apprise")
    lg.addFilter(f)
    try:
        yield f
    finally:
        lg.removeFilter(f)


# --- personal data out of every message ---------------------------------------------------------

PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def scrub(text: str) -> str:
    """Messages carry ids and counts only; a mobile number, ID number or e-mail address that slipped
    into a text is masked before it leaves (pii.mask, the form the warehouse stores)."""
    from ingest import pii

    text = ID_NUMBER.sub(lambda m: pii.mask(m.group(0), "id_number") or "", text)
    text = PHONE.sub(lambda m: pii.mask(m.group(0), "phone") or "", text)
    return mask_addresses(text)


def mask_addresses(text: str) -> str:
    """wang.fang@example.com -> w***@example.com (messages, and the mailto:// URLs logs show)."""
    return EMAIL.sub(lambda m: m.group(0)[:1] + "***@" + m.group(0).split("@", 1)[1], text)


def compose(event: str, subject: str, body: str) -> tuple[str, str]:
    """Title and body of a message: Chinese with English alongside, the event named, no personal data."""
    ev = EVENTS[event]
    subject = subject.removeprefix(PREFIX).strip()
    title = scrub(f"{PREFIX} {ev.zh} · {ev.en}: {subject}".strip())
    text = scrub(f"{subject}\n\n{body}".strip() if body and body.strip() != subject.strip() else subject)
    return title, f"{text}\n\n事件 event: {event} · 发自 from kefu@{socket.gethostname()}"


# --- sending ----------------------------------------------------------------------------------


def send(
    event: str,
    subject: str,
    body: str,
    audience: Iterable[str] = (),
    config: NotifyConfig | dict | str | Path | None = None,
    log_file: Path | None = None,
) -> list[Delivery]:
    """Deliver one message to every channel concerned by `audience` (plus the event's default
    audience). Never raises for a channel or configuration that fails: each one is a Delivery with
    ok=False, logged (channel named, URL masked) and recorded in the notifications log."""
    import apprise

    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}; expected one of {', '.join(EVENTS)}")
    wanted = list(dict.fromkeys([*EVENTS[event].audience, *audience]))
    tags = ["all"] if "all" in wanted else [tag_of(a) for a in wanted]  # apprise's match-all tag
    title, text = compose(event, subject, body)
    try:
        cfg = (
            config
            if isinstance(config, NotifyConfig)
            else from_dict(config)
            if isinstance(config, dict)
            else load(config)
        )
    except NotifyConfigError as e:
        log.error("notify: %s", e)
        return _record([Delivery(event, "(config)", "-", False, str(e), wanted)], log_file)

    if not cfg.channels and os.environ.get(LEGACY_EMAIL_ENV):  # the e-mail of before D-140: say so, loudly
        why = (
            f"{LEGACY_EMAIL_ENV} is no longer read: write the recipient as a mailto:// channel in "
            f"{config_path()} (docs/notifications.md)"
        )
        log.warning("notify: %s", why)
        return _record([Delivery(event, "(config)", "-", False, why, wanted)], log_file)

    deliveries: list[Delivery] = []
    services = apprise.Apprise()
    by_service: dict[int, Channel] = {}
    secrets: set[str] = set()
    for ch in cfg.channels:
        with _redacting(_url_parts(ch.url)):  # apprise logs the URL (or its key) it cannot use
            service = apprise.Apprise.instantiate(ch.url, tag=[tag_of(a) for a in ch.audience])
        if service is None:
            scheme = ch.url.split("://", 1)[0] if "://" in ch.url else ch.url[:12]
            deliveries.append(
                Delivery(
                    event,
                    ch.name,
                    f"{scheme}://****",
                    False,
                    f"apprise does not understand this URL (schema {scheme!r}); see https://appriseit.com/services/",
                    list(ch.audience),
                )
            )
            continue
        services.add(service)
        by_service[id(service)] = ch
        secrets |= _secrets_of(service)
    _mask_in_airflow(secrets)

    kind = getattr(apprise.NotifyType, EVENTS[event].kind.upper())
    with _redacting(secrets) as redact:
        for service in services.find(tag=tags):
            ch = by_service[id(service)]
            masked = mask_addresses(unquote(service.url(privacy=True).split("?", 1)[0]))
            with apprise.LogCapture(level=logging.WARNING) as captured:
                try:
                    ok = bool(service.notify(body=text, title=title, notify_type=kind))
                except Exception as exc:
                    ok = False
                    logging.getLogger("apprise").warning("%s: %s", type(exc).__name__, exc)
                reason = None if ok else (_last_lines(redact.redact(captured.getvalue())) or "not delivered")
            deliveries.append(Delivery(event, ch.name, masked, ok, reason, list(ch.audience)))
    for d in deliveries:
        if d.ok:
            log.info("notify: %s", d.line())
        else:
            log.warning("notify: %s", d.line())
    return _record(deliveries, log_file)


def _last_lines(text: str, n: int = 2) -> str:
    lines = [re.sub(r"^\S+ \S+ - \w+ - ", "", ln).strip() for ln in text.splitlines() if ln.strip()]
    return " | ".join(lines[-n:])[:400]


def _record(deliveries: list[Delivery], log_file: Path | None) -> list[Delivery]:
    """Append each delivery to $KEFU_HOME/logs/notifications.jsonl (0600); a log that cannot be
    written is itself only logged."""
    if not deliveries:
        return deliveries
    try:
        if log_file is None:
            from kefu.home import Home

            log_file = Home.from_env().logs / LOG_NAME
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            at = datetime.now(UTC).isoformat(timespec="seconds")
            for d in deliveries:
                f.write(json.dumps({"at": at, **asdict(d)}, ensure_ascii=False) + "\n")
    except OSError as e:
        log.warning("notify: cannot record deliveries in %s: %s", log_file, e)
    return deliveries

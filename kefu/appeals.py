"""Appeals (申诉), exemptions (核减) and the sign-off of a month (issue 21; docs/decisions.md D-125..D-134).

A closed month is a *draft* first. During the appeal window (`appeal_window_working_days` of the
rulebook, counted from the day the draft was published or the month re-opened) a district head or a
technician files an appeal against a *failed* item of the draft, with a reason and an attachment;
the department manager approves or rejects it with a comment. Approved items are exempted
(kefu/appeals_adjust.py computes the adjusted results); the manager signs the month, which makes it
final and frozen; a late correction is an explicit re-opening.

Everything is an event row of one append-only ledger, $KEFU_HOME/appeals/ledger.sqlite (SQLite:
several dashboard sessions, the CLI and the DAG write it; triggers refuse UPDATE and DELETE). Each row
says who (actor, role), when (UTC), what (event, month, item), before and after (the state of the
appeal or the month). Every state is derived from the rows: nothing is ever overwritten.

Items. `ticket`: a rule × ticket of marts.fct_ticket_sla judged and not met; `unit`: a rule × grain ×
unit of marts.kpi_rule_results that failed (the unit's verdict is waived). Both are checked against
the month's frozen draft (published/assessment/YYYY-MM/*.parquet).

The four events other people want to hear about (draft ready, appeal filed, decision made, month
signed) and the re-opening go through `announce`, which records them; the notifier is connected there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from kefu import rulebook, workcal
from kefu.access import Access
from kefu.home import Home
from kefu.vault import Vault, private_dir

TZ = ZoneInfo("Asia/Shanghai")
EVENTS = ("draft_ready", "appeal_filed", "appeal_decided", "month_signed", "month_reopened")
ANNOUNCED = ("draft_ready", "appeal_filed", "appeal_decided", "month_signed", "month_reopened")
FILERS = ("district_head", "technician")  # who may appeal (申诉人)
DECIDERS = ("manager",)  # who decides, signs and re-opens (部门经理)
DECISIONS = {"approved": "核减 approved", "rejected": "驳回 rejected"}
ITEM_KINDS = ("ticket", "unit")

SCHEMA = """
create table if not exists events (
    seq          integer primary key autoincrement,
    at           text not null,      -- UTC, ISO 8601
    actor        text not null,      -- who: the signed-in user, or the DAG
    role         text not null,
    event        text not null check (event in ('draft_ready', 'appeal_filed', 'appeal_decided',
                                                'month_signed', 'month_reopened')),
    month        text not null check (month glob '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
    appeal_id    text,
    measure_id      text,
    item_kind    text check (item_kind is null or item_kind in ('ticket', 'unit')),
    item_id      text,               -- the ticket id, or grain:unit_id
    grain        text,
    unit_id      text,
    before_state text,               -- the appeal's or month's state before the event
    after_state  text not null,      -- ... and after it
    facts        text not null default '{}'  -- JSON: reason, attachment, decision, comment, ...
);
create index if not exists events_month on events (month, seq);
create trigger if not exists events_no_update before update on events
begin select raise(abort, 'the appeals ledger is append-only (申诉台账只增不改): UPDATE refused'); end;
create trigger if not exists events_no_delete before delete on events
begin select raise(abort, 'the appeals ledger is append-only (申诉台账只增不改): DELETE refused'); end;
"""


class AppealError(ValueError):
    """An appeal step refused; the message says why and what to do."""


# --- the ledger ------------------------------------------------------------------------------------


def ledger_path(home: Home) -> Path:
    return home.root / "appeals" / "ledger.sqlite"


def attachments_dir(home: Home) -> Path:
    return home.root / "appeals" / "attachments"


@contextmanager
def ledger(home: Home, write: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to the ledger (created 0600 in a 0700 folder: reasons and attachments may name
    customers). write=True: one IMMEDIATE transaction, so two writers never interleave a check and
    its append (the second waits up to 30 s)."""
    path = ledger_path(home)
    private_dir(path.parent)
    new = not path.exists()
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        if new:
            os.chmod(path, 0o600)
        con.row_factory = sqlite3.Row
        con.executescript(SCHEMA)
        if write:
            con.execute("begin immediate")
        try:
            yield con
        except BaseException:
            if write:
                con.execute("rollback")
            raise
        if write:
            con.execute("commit")
    finally:
        con.close()


def now_utc() -> datetime:
    return datetime.now(UTC)


def _append(
    con: sqlite3.Connection,
    *,
    at: datetime,
    actor: str,
    role: str,
    event: str,
    month: str,
    after: str,
    before: str | None = None,
    appeal_id: str | None = None,
    item: Item | None = None,
    facts: dict | None = None,
) -> int:
    cur = con.execute(
        "insert into events (at, actor, role, event, month, appeal_id, measure_id, item_kind, item_id, grain, "
        "unit_id, before_state, after_state, facts) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            at.astimezone(UTC).isoformat(timespec="seconds"),
            actor,
            role,
            event,
            month,
            appeal_id,
            item.measure_id if item else None,
            item.kind if item else None,
            item.item_id if item else None,
            item.grain if item else None,
            item.unit_id if item else None,
            before,
            after,
            json.dumps(facts or {}, ensure_ascii=False, default=str),
        ],
    )
    return int(cur.lastrowid)


def events(home: Home, month: str | None = None) -> list[dict[str, Any]]:
    """Every event row (of one month), oldest first, facts parsed."""
    with ledger(home) as con:
        sql = "select * from events" + (" where month = ?" if month else "") + " order by seq"
        rows = [dict(r) for r in con.execute(sql, [month] if month else [])]
    for r in rows:
        r["facts"] = json.loads(r["facts"])
    return rows


# --- the month's state -----------------------------------------------------------------------------


def window_working_days() -> int:
    n = rulebook.settings().get("appeal_window_working_days")
    if not isinstance(n, int) or n < 1:
        raise AppealError(
            f"{rulebook.RULEBOOK_FILE}: appeal_window_working_days must be a whole number of "
            f"working days >= 1 (申诉期), got {n!r}"
        )
    return n


@dataclass(frozen=True)
class MonthStatus:
    month: str
    state: str  # none (no draft yet) | draft | final
    drafted: bool  # a draft was published in the current cycle
    window_opened: datetime | None  # the draft's publication or the re-opening (UTC)
    window_ends: datetime | None  # 24:00 Asia/Shanghai of the N-th working day after it
    signed_by: str | None = None
    signed_at: datetime | None = None
    reopenings: int = 0

    def window_open(self, at: datetime) -> bool:
        return self.state == "draft" and self.window_ends is not None and at < self.window_ends

    @property
    def label(self) -> str:
        if self.state == "final":
            return f"已签发 final — signed by {self.signed_by} at {self.signed_at:%Y-%m-%d %H:%M} UTC"
        if self.state == "draft":
            return "草稿 draft — not signed"
        return "未结账 not closed"


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def status_of(rows: list[dict], month: str) -> MonthStatus:
    """The month's state from its event rows (oldest first)."""
    state, drafted, opened, signed_by, signed_at, reopenings = "none", False, None, None, None, 0
    for r in rows:
        if r["event"] == "draft_ready":
            if state == "none":  # the first draft opens the window; a re-opening opened its own
                opened = _ts(r["at"])
            state, drafted = "draft", True
        elif r["event"] == "month_signed":
            state, signed_by, signed_at = "final", r["actor"], _ts(r["at"])
        elif r["event"] == "month_reopened":
            state, drafted, opened, signed_by, signed_at = "draft", False, _ts(r["at"]), None, None
            reopenings += 1
    ends = None
    if opened is not None:
        ends = workcal.end_of_nth_working_day(opened.astimezone(TZ).date(), window_working_days()).replace(tzinfo=TZ)
    return MonthStatus(month, state, drafted, opened, ends, signed_by, signed_at, reopenings)


def status(home: Home, month: str) -> MonthStatus:
    return status_of(events(home, month), month)


# --- appeals ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    measure_id: str
    kind: str  # ticket | unit
    item_id: str  # ticket id, or grain:unit_id
    grain: str | None = None
    unit_id: str | None = None

    @classmethod
    def ticket(cls, measure_id: str, ticket_id: str) -> Item:
        return cls(measure_id, "ticket", ticket_id)

    @classmethod
    def unit(cls, measure_id: str, grain: str, unit_id: str) -> Item:
        return cls(measure_id, "unit", f"{grain}:{unit_id}", grain, unit_id)

    @property
    def label(self) -> str:
        return f"{self.measure_id} × {'工单 ticket ' + self.item_id if self.kind == 'ticket' else self.item_id}"


@dataclass
class Appeal:
    appeal_id: str
    month: str
    item: Item
    filed_by: str
    filed_at: datetime
    reason: str
    district_id: str | None
    technician_id: str | None
    attachment: str | None = None
    state: str = "pending"  # pending | approved | rejected
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str | None = None
    history: list[dict] = field(default_factory=list)


def appeals_of(rows: list[dict], month: str) -> list[Appeal]:
    """The month's appeals from its event rows (oldest first): filed, then at most one decision."""
    out: dict[str, Appeal] = {}
    for r in rows:
        if r["event"] == "appeal_filed":
            item = Item(r["measure_id"], r["item_kind"], r["item_id"], r["grain"], r["unit_id"])
            f = r["facts"]
            out[r["appeal_id"]] = Appeal(
                r["appeal_id"],
                month,
                item,
                r["actor"],
                _ts(r["at"]),
                f["reason"],
                f.get("district_id"),
                f.get("technician_id"),
                f.get("attachment"),
                history=[r],
            )
        elif r["event"] == "appeal_decided":
            a = out[r["appeal_id"]]
            a.state, a.decided_by, a.decided_at = r["after_state"], r["actor"], _ts(r["at"])
            a.comment = r["facts"].get("comment")
            a.history.append(r)
    return list(out.values())


def appeals(home: Home, month: str) -> list[Appeal]:
    """The month's appeals and their states."""
    return appeals_of(events(home, month), month)


def exemptions(home: Home, month: str) -> list[Appeal]:
    """The approved appeals: the items exempted (核减) from the month."""
    return [a for a in appeals(home, month) if a.state == "approved"]


def _draft_file(home: Home, month: str, table: str) -> Path:
    p = home.assessment_dir(month) / f"{table}.parquet"
    if not p.exists():
        raise AppealError(
            f"{month} has no draft assessment ({p} is missing): the monthly_assessment run "
            "publishes the draft first (月度考核草稿未生成)"
        )
    return p


def failed_item(home: Home, month: str, item: Item) -> dict:
    """The item's row in the month's draft, with its district and technician; refused unless it failed."""
    con = duckdb.connect()
    try:
        if item.kind == "ticket":
            row = con.execute(
                "select district_id, technician_id, is_judged, is_met from read_parquet(?) "
                "where measure_id = ? and ticket_id = ? and period_month = ?",
                [str(_draft_file(home, month, "fct_ticket_sla")), item.measure_id, item.item_id, month],
            ).fetchone()
            if row is None:
                raise AppealError(
                    f"{item.label}: no such item in the {month} draft (rule and ticket id as in "
                    "the workbook's 未达标工单 sheet)"
                )
            if not row[2] or row[3]:
                raise AppealError(
                    f"{item.label}: {'not judged' if not row[2] else 'met (按时)'} in the {month} "
                    "draft — only a failed item can be appealed (只能对未达标项申诉)"
                )
            return {"district_id": row[0], "technician_id": row[1]}
        row = con.execute(
            "select passed from read_parquet(?) where measure_id = ? and grain = ? and unit_id = ? and period_month = ?",
            [str(_draft_file(home, month, "kpi_rule_results")), item.measure_id, item.grain, item.unit_id, month],
        ).fetchone()
    finally:
        con.close()
    if row is None:
        raise AppealError(f"{item.label}: no such result in the {month} draft")
    if row[0] is not False:
        raise AppealError(
            f"{item.label}: {'passed (达标)' if row[0] else 'measured without a threshold'} in the "
            f"{month} draft — only a failed item can be appealed (只能对未达标项申诉)"
        )
    return {
        "district_id": item.unit_id if item.grain == "district" else None,
        "technician_id": item.unit_id if item.grain == "technician" else None,
    }


def in_scope(who: Access, item: Item, units: dict) -> bool:
    """A district head appeals items of their districts; a technician their own tickets and scorecard."""
    if who.role == "district_head":
        return units.get("district_id") in (who.districts or ())
    if who.role == "technician":
        return units.get("technician_id") == who.technician
    return False


def _require(who: Access, roles: tuple[str, ...], what: str) -> None:
    if who.role not in roles:
        raise AppealError(f"{who.user} ({who.role}) may not {what}: only {' / '.join(roles)}")


def _store_attachment(home: Home, appeal_id: str, attachment: Path) -> dict:
    """The attachment encrypted into appeals/attachments/ (0700, outside published/: it may show
    customers); the ledger keeps its name and sha256."""
    attachment = Path(attachment)
    if not attachment.is_file():
        raise AppealError(f"attachment {attachment}: no such file")
    digest = hashlib.sha256(attachment.read_bytes()).hexdigest()
    folder = private_dir(attachments_dir(home))
    safe = re.sub(r"[^\w.\-]", "_", attachment.name)[-80:]
    stored = folder / f"{appeal_id}__{safe}"
    Vault.for_home(home.root).encrypt_file(attachment, stored)
    return {"attachment": attachment.name, "attachment_sha256": digest, "attachment_file": stored.name}


def _transition(
    home: Home,
    actor: tuple[str, str],
    month: str,
    event: str,
    at: datetime,
    check: Callable[[MonthStatus, list[Appeal]], dict],
) -> dict:
    """One ledger row by `actor` (user, role), checked and appended in one write transaction:
    `check(status, appeals)` sees the month as it is under the lock, refuses (AppealError) or returns
    the row's fields (after, before, appeal_id, item, facts)."""
    with ledger(home, write=True) as con:
        rows = _rows(con, month)
        fields = check(status_of(rows, month), appeals_of(rows, month))
        _append(con, at=at, actor=actor[0], role=actor[1], event=event, month=month, **fields)
    return fields


def file_appeal(
    home: Home,
    who: Access,
    month: str,
    item: Item,
    reason: str,
    attachment: Path | None = None,
    at: datetime | None = None,
) -> Appeal:
    """File an appeal (申诉); refused outside the window, for an item that did not fail, outside the
    filer's scope, or when the item already has a pending or approved appeal."""
    at = at or now_utc()
    _require(who, FILERS, "file an appeal (申诉)")
    if item.kind not in ITEM_KINDS:
        raise AppealError(f"item kind {item.kind!r}: expected one of {', '.join(ITEM_KINDS)}")
    if not reason or not reason.strip():
        raise AppealError(f"{item.label}: an appeal needs a reason (申诉理由)")
    units = failed_item(home, month, item)
    if not in_scope(who, item, units):
        raise AppealError(f"{item.label}: outside {who.user}'s scope ({who.label}) — not your district or tickets")

    def check(st: MonthStatus, filed: list[Appeal]) -> dict:
        if st.state != "draft" or not st.drafted:
            raise AppealError(
                f"{month} is {st.label}: appeals are filed against a draft only"
                + (" (re-open it first)" if st.state == "final" else "")
            )
        if not st.window_open(at):
            raise AppealError(
                f"the appeal window of {month} closed at {st.window_ends:%Y-%m-%d %H:%M} Asia/Shanghai "
                f"({window_working_days()} working days after {st.window_opened.astimezone(TZ):%Y-%m-%d}); "
                "申诉期已过, no appeal can be filed"
            )
        for a in filed:
            if a.item == item and a.state in ("pending", "approved"):
                raise AppealError(f"{item.label} already has appeal {a.appeal_id} ({a.state})")
        appeal_id = f"{month}-A{len(filed) + 1:03d}"
        facts = {"reason": reason.strip(), **units}
        if attachment is not None:
            facts |= _store_attachment(home, appeal_id, attachment)
        return {"appeal_id": appeal_id, "item": item, "before": None, "after": "pending", "facts": facts}

    appeal_id = _transition(home, (who.user, who.role), month, "appeal_filed", at, check)["appeal_id"]
    announce(
        home,
        "appeal_filed",
        month,
        appeal_id=appeal_id,
        item=item.label,
        by=who.user,
        recorded=True,
        audience=_audience(units.get("district_id"), units.get("technician_id")),
    )
    return next(a for a in appeals(home, month) if a.appeal_id == appeal_id)


def _rows(con: sqlite3.Connection, month: str) -> list[dict]:
    rows = [dict(r) for r in con.execute("select * from events where month = ? order by seq", [month])]
    for r in rows:
        r["facts"] = json.loads(r["facts"])
    return rows


def decide(
    home: Home, who: Access, month: str, appeal_id: str, decision: str, comment: str, at: datetime | None = None
) -> Appeal:
    """The manager approves (核减) or rejects (驳回) a pending appeal, with a comment."""
    at = at or now_utc()
    _require(who, DECIDERS, "decide an appeal")
    if decision not in DECISIONS:
        raise AppealError(f"decision {decision!r}: expected approved or rejected")
    if not comment or not comment.strip():
        raise AppealError(f"{appeal_id}: a decision needs a comment (审核意见)")

    def check(st: MonthStatus, filed: list[Appeal]) -> dict:
        if st.state != "draft":
            raise AppealError(f"{month} is {st.label}: decisions are made before the sign-off (re-open it first)")
        found = {a.appeal_id: a for a in filed}
        if appeal_id not in found:
            raise AppealError(f"no appeal {appeal_id} in {month} (known: {', '.join(found) or 'none'})")
        if found[appeal_id].state != "pending":
            raise AppealError(f"{appeal_id} was already decided: {found[appeal_id].state}")
        facts = {"decision": decision, "comment": comment.strip()}
        return {
            "appeal_id": appeal_id,
            "item": found[appeal_id].item,
            "before": "pending",
            "after": decision,
            "facts": facts,
        }

    _transition(home, (who.user, who.role), month, "appeal_decided", at, check)
    a = next(x for x in appeals(home, month) if x.appeal_id == appeal_id)
    announce(
        home,
        "appeal_decided",
        month,
        appeal_id=appeal_id,
        decision=decision,
        by=who.user,
        recorded=True,
        audience=_audience(a.district_id, a.technician_id),
    )
    return a


def sign(home: Home, who: Access, month: str, at: datetime | None = None) -> MonthStatus:
    """The manager signs the month (签发): it becomes final. Refused while an appeal is pending; signing
    before the window's end closes the window early (recorded)."""
    at = at or now_utc()
    _require(who, DECIDERS, "sign the month")

    def check(st: MonthStatus, filed: list[Appeal]) -> dict:
        if st.state != "draft" or not st.drafted:
            raise AppealError(f"{month} is {st.label}: only a published draft can be signed")
        pending = [a.appeal_id for a in filed if a.state == "pending"]
        if pending:
            raise AppealError(f"{month} cannot be signed: appeals {', '.join(pending)} are not decided yet (待审核)")
        approved = [a.appeal_id for a in filed if a.state == "approved"]
        return {
            "before": "draft",
            "after": "final",
            "facts": {"exempted": approved, "window_closed_early": st.window_open(at)},
        }

    approved = _transition(home, (who.user, who.role), month, "month_signed", at, check)["facts"]["exempted"]
    announce(home, "month_signed", month, by=who.user, exempted=len(approved), recorded=True)
    return status(home, month)


def reopen(home: Home, who: Access, month: str, reason: str, at: datetime | None = None) -> MonthStatus:
    """A late correction after the sign-off (重新开账): the month is a draft again, with a new window;
    the next monthly_assessment run recomputes it and it has to be signed again."""
    at = at or now_utc()
    _require(who, DECIDERS, "re-open a signed month")
    if not reason or not reason.strip():
        raise AppealError(f"re-opening {month} needs a reason (重新开账原因)")

    def check(st: MonthStatus, _filed: list[Appeal]) -> dict:
        if st.state != "final":
            raise AppealError(f"{month} is {st.label}: only a signed month is re-opened")
        facts = {"reason": reason.strip(), "was_signed_by": st.signed_by, "was_signed_at": st.signed_at.isoformat()}
        return {"before": "final", "after": "draft", "facts": facts}

    _transition(home, (who.user, who.role), month, "month_reopened", at, check)
    announce(home, "month_reopened", month, by=who.user, reason=reason.strip(), recorded=True)
    return status(home, month)


def record_draft(
    home: Home, month: str, actor: str = "monthly_assessment", facts: dict | None = None, at: datetime | None = None
) -> MonthStatus:
    """The monthly run published the month's draft: the appeal window opens (or stays open)."""
    at = at or now_utc()

    def check(st: MonthStatus, _filed: list[Appeal]) -> dict:
        if st.state == "final":
            raise AppealError(f"{month} is {st.label}: frozen; re-open it to recompute (kefu assessment reopen)")
        return {"before": st.state, "after": "draft", "facts": facts or {}}

    _transition(home, (actor, "system"), month, "draft_ready", at, check)
    st = status(home, month)
    announce(home, "draft_ready", month, window_ends=st.window_ends.isoformat(), recorded=True)
    return st


def _audience(district_id: str | None, technician_id: str | None) -> list[str]:
    """Who besides the manager hears of an appeal: its district (head) and its technician."""
    return [
        *([f"district:{district_id}"] if district_id else []),
        *([f"technician:{technician_id}"] if technician_id else []),
    ]


def announce(
    home: Home, event: str, month: str, recorded: bool = False, audience: list[str] | tuple = (), **facts: Any
) -> dict:
    """The one place the appeal events leave this module (draft ready, appeal filed, decision made,
    month signed, month re-opened). The event itself is already a ledger row (recorded=True from the
    functions above); it is kept in appeals/announcements.jsonl and delivered through kefu.notify
    (apprise: e-mail, WeCom / DingTalk / Feishu robots) to the manager (every event's default
    audience) and `audience` (the district and technician concerned). Returns the message."""
    if event not in ANNOUNCED:
        raise AppealError(f"unknown event {event!r}: expected one of {', '.join(ANNOUNCED)}")
    if not recorded:
        raise AppealError("announce() tells about a ledger row: record the event first")
    titles = {
        "draft_ready": "考核草稿已发布 draft ready",
        "appeal_filed": "新申诉 appeal filed",
        "appeal_decided": "申诉已审核 decision made",
        "month_signed": "月度考核已签发 month signed",
        "month_reopened": "月度考核已重新开账 month re-opened",
    }
    message: dict[str, Any] = {
        "event": event,
        "month": month,
        "subject": f"{titles[event]} {month}",
        "facts": facts,
        "audience": list(audience),
    }
    log = home.root / "appeals" / "announcements.jsonl"
    private_dir(log.parent)
    with open(log, "a", encoding="utf-8") as f:
        f.write(
            json.dumps(message | {"at": now_utc().isoformat(timespec="seconds")}, ensure_ascii=False, default=str)
            + "\n"
        )
    from kefu import notify

    if event in ("draft_ready", "month_signed", "month_reopened"):  # every filer has a stake in these
        audience = [*audience, "role:district_head", "role:technician"]
    body = "\n".join([f"月份 month: {month}", *(f"{k}: {v}" for k, v in facts.items())])
    config = os.environ.get(notify.CONFIG_ENV) or home.root / "secrets" / "notify.yml"
    message["deliveries"] = [
        d.ok
        for d in notify.send(
            event,
            message["subject"],
            body,
            audience,
            config=config,
            log_file=home.root / "logs" / "notifications.jsonl",
        )
    ]
    return message


def attachment_copy(home: Home, appeal: Appeal, dst: Path) -> Path:
    """Decrypt an appeal's attachment to dst (0600) for the manager who reviews it."""
    name = next((r["facts"].get("attachment_file") for r in appeal.history if r["event"] == "appeal_filed"), None)
    if not name:
        raise AppealError(f"{appeal.appeal_id} has no attachment")
    return Vault.for_home(home.root).decrypt_file(attachments_dir(home) / name, Path(dst))


def published_text(text: str | None) -> str | None:
    """Free text (reasons, comments) as it may appear in the workbook and PDF: phone and ID digits,
    a name before a phone and an address masked (ingest.pii.mask_free_text)."""
    from ingest.pii import mask_free_text

    return None if text is None else mask_free_text(text)

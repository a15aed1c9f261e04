"""Appeals, exemptions and sign-off (issue 21, kefu/appeals.py, kefu/appeals_adjust.py) on a hand-written
frozen draft: ten T1 tickets of January 2026, every expected figure counted by hand below.

    ticket  district technician  met      T1 threshold >= 0.90
    t1-t4   D01      W01         yes
    t9      D01      W01         no       company 8/10 = 0.80 failed
    t5-t8   D02      W02         yes      D01 4/5, D02 4/5, W01 4/5, W02 4/5: all 0.80, failed
    t10     D02      W02         no
    T2 at D01: 1/1 passed (nothing to appeal).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from kefu import appeals, appeals_adjust
from kefu.access import Access
from kefu.appeals import AppealError, Item
from kefu.home import Home

MONTH = "2026-01"
DRAFT_AT = datetime(2026, 2, 2, 0, 0, tzinfo=UTC)  # Mon 2 Feb 08:00 Asia/Shanghai
IN_WINDOW = datetime(2026, 2, 9, 7, 0, tzinfo=UTC)  # Mon 9 Feb 15:00: the 5th working day after 2 Feb
AFTER_WINDOW = datetime(2026, 2, 9, 16, 30, tzinfo=UTC)  # Tue 10 Feb 00:30 Asia/Shanghai
HEAD = Access("head.d01@example.com", "district_head", districts=("D01",))
TECH2 = Access("W02", "technician", technician="W02")
MANAGER = Access("wang.fang@example.com", "manager")

TICKETS = (
    [(f"t{i}", "D01", "W01", True) for i in range(1, 5)]
    + [("t9", "D01", "W01", False)]
    + [(f"t{i}", "D02", "W02", True) for i in range(5, 9)]
    + [("t10", "D02", "W02", False)]
)


def result(rule: str, grain: str, unit: str, num: int, den: int, threshold: float = 0.9) -> dict:
    value = num / den
    return {
        "measure_id": rule,
        "period_month": MONTH,
        "grain": grain,
        "unit_id": unit,
        "numerator": num,
        "denominator": den,
        "value": value,
        "threshold": threshold,
        "comparison": ">=",
        "rule_id": rule,
        "name_zh": "名称",
        "name_en": "name",
        "passed": value >= threshold,
    }


@pytest.fixture()
def home(tmp_path: Path) -> Home:
    h = Home(tmp_path / "home")
    folder = h.assessment_dir(MONTH)
    folder.mkdir(parents=True)
    results = pd.DataFrame(
        [
            result("T1", "company", "ALL", 8, 10),
            result("T1", "district", "D01", 4, 5),
            result("T1", "district", "D02", 4, 5),
            result("T1", "technician", "W01", 4, 5),
            result("T1", "technician", "W02", 4, 5),
            result("T2", "district", "D01", 1, 1),
        ]
    )
    deadline = datetime(2026, 1, 20, 18, 0)
    sla = pd.DataFrame(
        [
            {
                "measure_id": "T1",
                "ticket_id": t,
                "district_id": d,
                "technician_id": w,
                "is_judged": True,
                "is_met": met,
                "state": "met" if met else "breached",
                "deadline_at": deadline,
                "period_month": MONTH,
            }
            for t, d, w, met in TICKETS
        ]
        + [
            {
                "measure_id": "T2",
                "ticket_id": "t1",
                "district_id": "D01",
                "technician_id": "W01",
                "is_judged": True,
                "is_met": True,
                "state": "met",
                "deadline_at": deadline,
                "period_month": MONTH,
            }
        ]
    )
    con = duckdb.connect()
    for name, frame in (("kpi_rule_results", results), ("fct_ticket_sla", sla)):
        con.register("f", frame)
        con.execute(f"copy f to '{folder / (name + '.parquet')}' (format parquet)")
        con.unregister("f")
    con.close()
    appeals.record_draft(h, MONTH, at=DRAFT_AT)
    return h


def final_rows(home: Home) -> dict[tuple[str, str, str], tuple]:
    con = duckdb.connect()
    rows = con.execute(
        "select measure_id, grain, unit_id, numerator, denominator, value, passed from read_parquet(?)",
        [str(home.assessment_dir(MONTH) / appeals_adjust.FINAL)],
    ).fetchall()
    con.close()
    return {r[:3]: r[3:] for r in rows}


def test_the_ledger_refuses_update_and_delete(home):
    appeals.file_appeal(home, HEAD, MONTH, Item.ticket("T1", "t9"), "停电未登记 outage not recorded", at=IN_WINDOW)
    con = sqlite3.connect(appeals.ledger_path(home))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("update events set after_state = 'approved'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("delete from events")
    assert con.execute("select count(*) from events").fetchone()[0] == 2  # draft_ready + appeal_filed
    con.close()
    assert appeals.ledger_path(home).stat().st_mode & 0o077 == 0  # private: reasons may name customers


def test_an_item_that_passed_or_is_unknown_cannot_be_appealed(home):
    with pytest.raises(AppealError, match="only a failed item"):
        appeals.file_appeal(home, HEAD, MONTH, Item.ticket("T1", "t1"), "met anyway", at=IN_WINDOW)
    with pytest.raises(AppealError, match="only a failed item"):
        appeals.file_appeal(home, HEAD, MONTH, Item.unit("T2", "district", "D01"), "passed", at=IN_WINDOW)
    with pytest.raises(AppealError, match="no such item"):
        appeals.file_appeal(home, HEAD, MONTH, Item.ticket("T1", "t99"), "?", at=IN_WINDOW)
    assert appeals.appeals(home, MONTH) == []


def test_scope_and_roles(home):
    with pytest.raises(AppealError, match="outside"):  # t10 is a D02 ticket
        appeals.file_appeal(home, HEAD, MONTH, Item.ticket("T1", "t10"), "not ours", at=IN_WINDOW)
    with pytest.raises(AppealError, match="may not file"):
        appeals.file_appeal(home, MANAGER, MONTH, Item.ticket("T1", "t9"), "x", at=IN_WINDOW)
    a = appeals.file_appeal(home, TECH2, MONTH, Item.ticket("T1", "t10"), "客户改约 customer rescheduled", at=IN_WINDOW)
    with pytest.raises(AppealError, match="may not decide"):
        appeals.decide(home, HEAD, MONTH, a.appeal_id, "approved", "ok")
    with pytest.raises(AppealError, match="already has appeal"):
        appeals.file_appeal(home, TECH2, MONTH, Item.ticket("T1", "t10"), "again", at=IN_WINDOW)


def test_after_the_window_filing_is_refused(home):
    st = appeals.status(home, MONTH)
    assert st.window_ends.isoformat() == "2026-02-10T00:00:00+08:00"  # 24:00 of Mon 9 Feb (5 wd after Mon 2 Feb)
    with pytest.raises(AppealError, match="appeal window of 2026-01 closed at 2026-02-10 00:00"):
        appeals.file_appeal(home, HEAD, MONTH, Item.ticket("T1", "t9"), "too late", at=AFTER_WINDOW)
    assert appeals.appeals(home, MONTH) == []


def test_a_rejected_appeal_leaves_the_figures_unchanged(home):
    a = appeals.file_appeal(home, HEAD, MONTH, Item.ticket("T1", "t9"), "工单片区错 wrong district", at=IN_WINDOW)
    appeals.decide(home, MANAGER, MONTH, a.appeal_id, "rejected", "工单确属本片区 the ticket is yours")
    st = appeals.sign(home, MANAGER, MONTH)
    info = appeals_adjust.write(home.assessment_dir(MONTH), MONTH, appeals.appeals(home, MONTH), st)
    assert appeals.exemptions(home, MONTH) == []
    assert final_rows(home)[("T1", "district", "D01")] == (4, 5, 0.8, False)
    assert info["results_failed_raw"] == info["results_failed_final"] == 5
    con = duckdb.connect()
    same = con.execute(
        "select count(*) from (select * from read_parquet(?) except select * from read_parquet(?))",
        [
            str(home.assessment_dir(MONTH) / "kpi_rule_results.parquet"),
            str(home.assessment_dir(MONTH) / appeals_adjust.FINAL),
        ],
    ).fetchone()[0]
    con.close()
    assert same == 0


def test_approve_exempt_and_sign_changes_the_figures_by_the_exempted_item(home):
    t9 = appeals.file_appeal(
        home,
        HEAD,
        MONTH,
        Item.ticket("T1", "t9"),
        "停电 outage 13812345678",
        attachment=_attachment(home),
        at=IN_WINDOW,
    )
    unit = appeals.file_appeal(
        home, TECH2, MONTH, Item.unit("T1", "technician", "W02"), "病假 sick leave", at=IN_WINDOW
    )
    with pytest.raises(AppealError, match="not decided yet"):
        appeals.sign(home, MANAGER, MONTH)
    appeals.decide(home, MANAGER, MONTH, t9.appeal_id, "approved", "停电已核实 outage confirmed")
    appeals.decide(home, MANAGER, MONTH, unit.appeal_id, "approved", "假条已核 confirmed")
    st = appeals.sign(home, MANAGER, MONTH)
    assert (st.state, st.signed_by) == ("final", MANAGER.user)
    info = appeals_adjust.write(home.assessment_dir(MONTH), MONTH, appeals.appeals(home, MONTH), st)
    rows = final_rows(home)
    # t9 leaves the company, D01 and W01 denominators (it was not met: numerators unchanged)
    assert rows[("T1", "company", "ALL")] == (8, 9, pytest.approx(8 / 9), False)  # 0.889 < 0.90: still failed
    assert rows[("T1", "district", "D01")] == (4, 4, 1.0, True)
    assert rows[("T1", "technician", "W01")] == (4, 4, 1.0, True)
    assert rows[("T1", "district", "D02")] == (4, 5, 0.8, False)  # untouched
    assert rows[("T1", "technician", "W02")] == (4, 5, 0.8, True)  # figures kept, verdict waived
    assert info["results_failed_raw"] == 5 and info["results_failed_final"] == 2
    con = duckdb.connect()
    raw_cols = con.execute(
        f"select * from read_parquet('{home.assessment_dir(MONTH) / 'kpi_rule_results.parquet'}')"
    ).description
    fin_cols = con.execute(
        f"select * from read_parquet('{home.assessment_dir(MONTH) / appeals_adjust.FINAL}')"
    ).description
    listed = con.execute(
        f"select appeal_id, state, reason from read_parquet('{home.assessment_dir(MONTH) / appeals_adjust.APPEALS}')"
    ).fetchall()
    con.close()
    assert [(c[0], c[1]) for c in raw_cols] == [(c[0], c[1]) for c in fin_cols]  # the same columns and types
    assert listed[0][1] == "approved" and "13812345678" not in listed[0][2]  # the phone number masked
    # the attachment is kept encrypted, outside published/, and decrypts for the reviewer
    stored = list(appeals.attachments_dir(home).iterdir())
    assert len(stored) == 1 and b"outage report" not in stored[0].read_bytes()
    clear = appeals.attachment_copy(home, appeals.appeals(home, MONTH)[0], home.root / "review.txt")
    assert clear.read_bytes() == b"outage report\n"
    # final: frozen for filing and deciding
    with pytest.raises(AppealError, match="draft only"):
        appeals.file_appeal(home, HEAD, MONTH, Item.ticket("T1", "t9"), "x", at=IN_WINDOW)
    with pytest.raises(AppealError, match="frozen"):
        appeals.record_draft(home, MONTH)


def test_reopening_after_sign_off_is_recorded_and_the_month_is_a_draft_again(home):
    appeals.sign(home, MANAGER, MONTH, at=IN_WINDOW)
    with pytest.raises(AppealError, match="needs a reason"):
        appeals.reopen(home, MANAGER, MONTH, " ")
    reopened_at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    st = appeals.reopen(home, MANAGER, MONTH, "补录停电记录 late outage record", at=reopened_at)
    assert (st.state, st.drafted, st.signed_by, st.reopenings) == ("draft", False, None, 1)
    last = appeals.events(home, MONTH)[-1]
    assert (last["event"], last["actor"], last["before_state"], last["after_state"]) == (
        "month_reopened",
        MANAGER.user,
        "final",
        "draft",
    )
    assert last["facts"]["was_signed_by"] == MANAGER.user
    with pytest.raises(AppealError, match="only a published draft"):
        appeals.sign(home, MANAGER, MONTH)  # the recomputed draft comes first
    appeals.record_draft(home, MONTH, at=reopened_at)
    # a new window from the re-opening (Mon 2 Mar + 5 working days = Mon 9 Mar)
    assert appeals.status(home, MONTH).window_ends.isoformat() == "2026-03-10T00:00:00+08:00"
    appeals.file_appeal(
        home, HEAD, MONTH, Item.ticket("T1", "t9"), "停电 outage", at=datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
    )
    kinds = [e["event"] for e in appeals.events(home, MONTH)]
    assert kinds == ["draft_ready", "month_signed", "month_reopened", "draft_ready", "appeal_filed"]
    announced = (home.root / "appeals" / "announcements.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(announced) == len(kinds)


def _attachment(home: Home) -> Path:
    p = home.root / "outage.txt"
    p.write_bytes(b"outage report\n")
    return p


def month_data(home: Home, signoff) -> object:
    """A MonthData of the hand-written results (what kefu.reports.data.load_month gives from a warehouse)."""
    from kefu.reports.data import MonthData

    con = duckdb.connect()
    results = con.execute(
        f"select * from read_parquet('{home.assessment_dir(MONTH) / 'kpi_rule_results.parquet'}')"
    ).fetchdf()
    con.close()
    rows = results.to_dict("records")
    for r in rows:
        r |= {"value_kind": "rate", "prev_value": None, "prev_passed": None, "unit_name": f"单位{r['unit_id']}"}
    measures = [
        {
            "measure_id": m,
            "rule_id": m,
            "name_zh": "名称",
            "name_en": "name",
            "value_kind": "rate",
            "comparison": ">=",
            "source": "D1",
            "wording": "",
            "targets": "0.9",
        }
        for m in ("T1", "T2")
    ]
    return MonthData(MONTH, "2025-12", datetime(2026, 2, 1), rows, measures, [], [], [], [], [], [], signoff=signoff)


def test_workbook_and_pdf_show_raw_exempted_final_and_the_signer(home, tmp_path):
    import openpyxl
    import pypdf

    from kefu import assessment_flow
    from kefu.reports import pdf, workbook

    t9 = appeals.file_appeal(home, HEAD, MONTH, Item.ticket("T1", "t9"), "停电未登记 outage", at=IN_WINDOW)
    t10 = appeals.file_appeal(home, TECH2, MONTH, Item.ticket("T1", "t10"), "改约 rescheduled", at=IN_WINDOW)
    draft = assessment_flow.signoff_view(home, MONTH)
    assert draft.label == "草稿 draft — not signed" and draft.results_failed_final == 5  # nothing decided yet
    appeals.decide(home, MANAGER, MONTH, t9.appeal_id, "approved", "停电已核实 confirmed")
    appeals.decide(home, MANAGER, MONTH, t10.appeal_id, "rejected", "客户未改约 not rescheduled")
    appeals.sign(home, MANAGER, MONTH, at=datetime(2026, 2, 9, 8, 0, tzinfo=UTC))
    view = assessment_flow.signoff_view(home, MONTH)
    assert view.label == "已签发 signed by wang.fang@example.com at 2026-02-09 16:00 (Asia/Shanghai)"
    # t9 exempted: D01 4/5 -> 4/4 and W01 4/5 -> 4/4 pass; the company 8/10 -> 8/9 still fails
    assert (view.results_failed_raw, view.results_failed_final) == (5, 3)
    assert {(r["grain"], r["unit_id"]) for r in view.changed} == {
        ("company", "ALL"),
        ("district", "D01"),
        ("technician", "W01"),
    }

    book = workbook.write(month_data(home, view), tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(book)
    assert "已签发 signed by wang.fang@example.com" in wb["概览 Summary"]["A1"].value
    sheet = wb["核减前后 Raw vs final"]
    header = [c.value for c in sheet[2]]
    d01 = next(r for r in sheet.iter_rows(min_row=4, values_only=True) if r[2] == "D01" and r[0] == "T1")
    got = dict(zip(header, d01))
    assert (got["原始分子"], got["原始分母"], got["核减项数"], got["核减后分子"], got["核减后分母"]) == (4, 5, 1, 4, 4)
    assert (got["原始结果"], got["最终结果"]) == ("未达标", "达标")
    listed = {r[0]: r for r in wb["申诉 Appeals"].iter_rows(min_row=4, values_only=True)}
    assert listed[t9.appeal_id][9] == "核减" and listed[t10.appeal_id][9] == "驳回"
    assert listed[t10.appeal_id][12] == "客户未改约 not rescheduled"

    text = "".join(
        p.extract_text() for p in pypdf.PdfReader(pdf.monthly(month_data(home, view), tmp_path / "r.pdf")).pages
    )
    flat = "".join(text.split())
    assert "已签发signedbywang.fang@example.comat2026-02-0916:00" in flat
    assert "申诉、核减与签发" in flat and t9.appeal_id in flat and "驳回rejected" in flat
    assert "4/5" in flat and "4/4" in flat  # D01 raw and final

    draft_pdf = pdf.monthly(month_data(home, draft), tmp_path / "d.pdf")
    assert "草稿draft—notsigned" in "".join("".join(p.extract_text() for p in pypdf.PdfReader(draft_pdf).pages).split())


def test_cli_template_import_decide_sign_reopen(home, tmp_path, capsys, monkeypatch):
    import openpyxl
    import yaml

    from kefu import appeals_excel, cli

    monkeypatch.setattr(appeals, "now_utc", lambda: IN_WINDOW)
    roles = tmp_path / "roles.yml"
    roles.write_text(
        yaml.safe_dump(
            {"users": {HEAD.user: {"role": "district_head", "districts": ["D01"]}, MANAGER.user: {"role": "manager"}}}
        ),
        encoding="utf-8",
    )
    common = ["--month", MONTH, "--home", str(home.root), "--roles", str(roles)]
    template = tmp_path / "filled.xlsx"
    assert cli.main(["appeals", "template", *common, "--as", HEAD.user, "--out", str(template)]) == 0
    wb = openpyxl.load_workbook(template)
    ws = wb[appeals_excel.SHEET]
    listed = [(r[0], r[1], r[2]) for r in ws.iter_rows(min_row=4, values_only=True)]
    # D01's failed items only: the ticket t9 and D01's unit result (a technician's result is theirs to appeal)
    assert listed == [("T1", "ticket", "t9"), ("T1", "unit", "district:D01")]
    ws.cell(row=4, column=7, value="停电未登记 outage not recorded")
    ws.cell(row=4, column=8, value="missing.pdf")
    wb.save(template)
    assert cli.main(["appeals", "import", str(template), *common, "--as", HEAD.user]) == 2
    err = capsys.readouterr().err
    assert "row 4, column 附件 (H): no file" in err and appeals.appeals(home, MONTH) == []  # nothing filed
    (tmp_path / "missing.pdf").write_bytes(b"%PDF outage")
    assert cli.main(["appeals", "import", str(template), *common, "--as", HEAD.user]) == 0
    [a] = appeals.appeals(home, MONTH)
    assert (a.item, a.filed_by, a.attachment) == (Item.ticket("T1", "t9"), HEAD.user, "missing.pdf")
    assert cli.main(["assessment", "sign", *common, "--as", MANAGER.user]) == 2
    assert "not decided yet" in capsys.readouterr().err
    assert (
        cli.main(
            ["appeals", "decide", *common, "--as", MANAGER.user, a.appeal_id, "approved", "--comment", "停电已核实"]
        )
        == 0
    )
    assert cli.main(["assessment", "sign", *common, "--as", HEAD.user]) == 2  # a district head cannot sign
    assert cli.main(["assessment", "sign", *common, "--as", MANAGER.user]) == 0
    assert appeals.status(home, MONTH).state == "final"
    assert cli.main(["assessment", "reopen", *common, "--as", MANAGER.user, "--reason", "补录"]) == 0
    assert cli.main(["assessment", "status", "--month", MONTH, "--home", str(home.root)]) == 0
    assert "草稿 draft" in capsys.readouterr().out


def test_the_demo_signer_signs_a_draft_once_no_appeal_is_pending(home):
    import time

    from kefu import assessment_flow

    a = appeals.file_appeal(home, HEAD, MONTH, Item.ticket("T1", "t9"), "停电", at=IN_WINDOW)
    with assessment_flow.signing_drafts(home, [MONTH], every=0.1):
        time.sleep(0.5)
        assert appeals.status(home, MONTH).state == "draft"  # the pending appeal holds it
        appeals.decide(home, MANAGER, MONTH, a.appeal_id, "rejected", "无记录 no record")
        deadline = time.monotonic() + 10
        while appeals.status(home, MONTH).state != "final" and time.monotonic() < deadline:
            time.sleep(0.1)
    st = appeals.status(home, MONTH)
    assert (st.state, st.signed_by) == ("final", assessment_flow.DEMO_SIGNER)


def test_rotating_the_archive_key_keeps_the_attachments_readable(home):
    from kefu import vault

    appeals.file_appeal(home, HEAD, MONTH, Item.ticket("T1", "t9"), "停电", attachment=_attachment(home), at=IN_WINDOW)
    before = vault.Vault.for_home(home.root).keys(create=False)
    vault.rotate(home.root)
    assert vault.Vault.for_home(home.root).keys(create=False) != before  # the old key is gone
    clear = appeals.attachment_copy(home, appeals.appeals(home, MONTH)[0], home.root / "after.txt")
    assert clear.read_bytes() == b"outage report\n"


def test_without_a_sign_off_view_the_reports_are_as_before(home, tmp_path):
    import openpyxl
    import pypdf

    from kefu.reports import pdf, workbook

    wb = openpyxl.load_workbook(workbook.write(month_data(home, None), tmp_path / "plain.xlsx"))
    assert "申诉 Appeals" not in wb.sheetnames and "签" not in wb["概览 Summary"]["A1"].value
    text = "".join(
        p.extract_text() for p in pypdf.PdfReader(pdf.monthly(month_data(home, None), tmp_path / "p.pdf")).pages
    )
    assert "申诉" not in text and "草稿" not in text


def test_each_appeal_step_reaches_the_people_concerned_through_kefu_notify(home, receiver, monkeypatch):
    """Filed → the manager and the district's own channel; decided → the same; signed → the manager
    and every district head. Delivered by apprise to a local HTTP receiver (tests/conftest.py)."""
    from kefu import notify

    base = f"127.0.0.1:{receiver.port}"
    cfg = home.root / "secrets" / "notify.yml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(
        "channels:\n"
        f"  manager: {{url: 'json://{base}/manager', audience: [role:manager]}}\n"
        f"  d01: {{url: 'json://{base}/d01', audience: [district:D01]}}\n"
        f"  d02: {{url: 'json://{base}/d02', audience: [district:D02]}}\n"
        f"  heads: {{url: 'json://{base}/heads', audience: [role:district_head]}}\n",
        encoding="utf-8",
    )
    monkeypatch.delenv(notify.CONFIG_ENV, raising=False)
    a = appeals.file_appeal(home, HEAD, MONTH, Item.ticket("T1", "t9"), "停电 outage 13812345678", at=IN_WINDOW)
    appeals.decide(home, MANAGER, MONTH, a.appeal_id, "approved", "属实 confirmed")
    appeals.sign(home, MANAGER, MONTH)
    manager = [m["title"] for m in receiver.at("/manager")]
    assert [t.split(" · ")[0] for t in manager] == [
        "[客服考核] 考核申诉已提交",
        "[客服考核] 考核申诉已裁定",
        "[客服考核] 月度考核已签发",
    ]
    d01 = [m["title"].split(" · ")[0] for m in receiver.at("/d01")]
    assert d01 == ["[客服考核] 考核申诉已提交", "[客服考核] 考核申诉已裁定"]  # t9 is a D01 ticket
    assert receiver.at("/d02") == []  # not their district
    assert [m["title"].split(" · ")[0] for m in receiver.at("/heads")] == ["[客服考核] 月度考核已签发"]
    assert a.appeal_id in receiver.at("/d01")[0]["message"]
    assert "13812345678" not in json.dumps(receiver.posts, ensure_ascii=False)  # reasons never leave the ledger

"""`kefu appeals …` and `kefu assessment …` (issue 21): appeals, decisions, sign-off and re-opening.

Who acts is `--as USER`, looked up in the roles file (--roles, else $KEFU_ROLES; docs/security.md):
a district head or technician files, the manager decides, signs and re-opens.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kefu import access, appeals
from kefu.appeals import AppealError
from kefu.home import Home


def who(args) -> access.Access:
    path = args.roles or os.environ.get("KEFU_ROLES")
    if not path:
        raise AppealError("who is acting? give --roles FILE (or set $KEFU_ROLES) with the user of --as")
    found = access.resolve(access.load_roles(path), {"email": args.user, "sub": args.user})
    if found is None:
        raise AppealError(f"{args.user} is not in the roles file {path}")
    return found


def _home(args) -> Home:
    return Home.from_env(args.home)


def _cmd_template(args) -> int:
    from kefu import appeals_excel

    out = Path(args.out or f"appeal_template_{args.month}.xlsx")
    path, n = appeals_excel.write_template(_home(args), args.month, who(args), out)
    print(f"申诉模板 template: {path} · {n} failed items you may appeal; fill 申诉理由 (reason) to appeal a row")
    return 0


def _cmd_import(args) -> int:
    from kefu import appeals_excel

    filed = appeals_excel.import_file(_home(args), args.month, who(args), Path(args.file))
    for a in filed:
        print(f"filed {a.appeal_id}: {a.item.label}")
    print(f"{len(filed)} appeals filed (已提交申诉)")
    return 0


def _cmd_file(args) -> int:
    item = (
        appeals.Item.ticket(args.rule, args.ticket)
        if args.ticket
        else appeals.Item.unit(args.rule, *args.unit.split(":", 1))
    )
    a = appeals.file_appeal(
        _home(args), who(args), args.month, item, args.reason, Path(args.attachment) if args.attachment else None
    )
    print(f"filed {a.appeal_id}: {a.item.label}")
    return 0


def _cmd_decide(args) -> int:
    a = appeals.decide(_home(args), who(args), args.month, args.appeal, args.decision, args.comment)
    print(f"{a.appeal_id}: {appeals.DECISIONS[a.state]} by {a.decided_by}")
    return 0


def _cmd_list(args) -> int:
    home = _home(args)
    print(appeals.status(home, args.month).label)
    for a in appeals.appeals(home, args.month):
        print(
            f"{a.appeal_id}  {a.state:<8}  {a.item.label}  by {a.filed_by}  {appeals.published_text(a.reason)}"
            + (f"  → {a.decided_by}: {appeals.published_text(a.comment)}" if a.decided_by else "")
        )
    return 0


def _cmd_sign(args) -> int:
    st = appeals.sign(_home(args), who(args), args.month)
    print(f"{args.month}: {st.label} — the waiting monthly_assessment run now writes the final month")
    return 0


def _cmd_reopen(args) -> int:
    st = appeals.reopen(_home(args), who(args), args.month, args.reason)
    print(
        f"{args.month}: re-opened ({st.label}); run monthly_assessment for {args.month} again to recompute and sign it"
    )
    return 0


def _cmd_status(args) -> int:
    st = appeals.status(_home(args), args.month)
    print(
        f"{args.month}: {st.label}"
        + (
            f" · appeal window closes {st.window_ends:%Y-%m-%d %H:%M} Asia/Shanghai"
            if st.state == "draft" and st.window_ends
            else ""
        )
    )
    return 0


def _run(func):
    def wrapped(args) -> int:
        try:
            return func(args)
        except (AppealError, access.RolesError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    return wrapped


def _common(p: argparse.ArgumentParser, user: bool = True) -> None:
    p.add_argument("--month", required=True, help="the month, YYYY-MM")
    p.add_argument("--home", default=None, help="installation folder (default: $KEFU_HOME)")
    if user:
        p.add_argument("--as", dest="user", required=True, help="who acts: e-mail or id in the roles file")
        p.add_argument("--roles", default=None, help="roles file (default: $KEFU_ROLES)")


def add_parser(sub) -> None:
    """Add `kefu appeals` and `kefu assessment` to the kefu CLI."""
    a = sub.add_parser(
        "appeals",
        help="appeals against failed items of a draft month (申诉与核减)",
        description="File appeals against failed items of a month's draft, during the appeal window "
        "(rulebook appeal_window_working_days), and decide them (docs/decisions.md D-125..D-134).",
    )
    asub = a.add_subparsers(dest="appeals_command", required=True, metavar="ACTION")
    t = asub.add_parser("template", help="an Excel template listing the failed items you may appeal")
    _common(t)
    t.add_argument("--out", default=None, help="the workbook to write (default: appeal_template_MONTH.xlsx)")
    t.set_defaults(func=_run(_cmd_template))
    i = asub.add_parser("import", help="file the appeals of a filled template (all rows or none)")
    i.add_argument("file", help="the filled template (.xlsx); attachments beside it")
    _common(i)
    i.set_defaults(func=_run(_cmd_import))
    f = asub.add_parser("file", help="file one appeal")
    _common(f)
    f.add_argument("--rule", required=True, help="rule (measure) id, e.g. T1")
    g = f.add_mutually_exclusive_group(required=True)
    g.add_argument("--ticket", help="the ticket id (a ticket item)")
    g.add_argument("--unit", help="grain:unit_id (a unit result, e.g. district:D01)")
    f.add_argument("--reason", required=True)
    f.add_argument("--attachment", default=None, help="a file kept encrypted with the appeal")
    f.set_defaults(func=_run(_cmd_file))
    d = asub.add_parser("decide", help="approve (核减) or reject (驳回) an appeal — the manager")
    _common(d)
    d.add_argument("appeal", help="the appeal id, e.g. 2026-01-A001")
    d.add_argument("decision", choices=sorted(appeals.DECISIONS))
    d.add_argument("--comment", required=True)
    d.set_defaults(func=_run(_cmd_decide))
    ls = asub.add_parser("list", help="the month's appeals and their outcomes")
    _common(ls, user=False)
    ls.set_defaults(func=_run(_cmd_list))

    s = sub.add_parser(
        "assessment",
        help="sign off or re-open a month (签发 / 重新开账)",
        description="A month is draft → appeal window → sign-off → final; the monthly_assessment "
        "DAG waits for the sign-off. A signed month is frozen until re-opened.",
    )
    ssub = s.add_subparsers(dest="assessment_command", required=True, metavar="ACTION")
    sg = ssub.add_parser("sign", help="sign the month — the manager; refused while appeals are pending")
    _common(sg)
    sg.set_defaults(func=_run(_cmd_sign))
    ro = ssub.add_parser("reopen", help="re-open a signed month for a late correction (recorded)")
    _common(ro)
    ro.add_argument("--reason", required=True)
    ro.set_defaults(func=_run(_cmd_reopen))
    st = ssub.add_parser("status", help="draft or final, and when the appeal window closes")
    _common(st, user=False)
    st.set_defaults(func=_run(_cmd_status))

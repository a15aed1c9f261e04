"""The monthly assessment as draft → appeal window → sign-off → final (issue 21 part 3, D-129..D-131):
the steps dags/monthly_assessment.py runs around kefu.pipeline's prepare_month / close_month.

- `draft`: freeze the month's tables as the draft (kefu.pipeline.close_month) and open the appeal
  window (a draft_ready row of the appeals ledger); a month already signed stays frozen;
- `draft_reports`: the workbook and PDF marked 草稿 draft, with the appeals so far;
- `signed_off`: what the DAG's sensor asks — has the manager signed the month;
- `finalize`: the exemptions applied (kefu.appeals_adjust), signoff.json with who signed and when,
  the final workbook and PDF (raw, exempted and final figures, the appeals), every file read-only.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kefu import appeals, appeals_adjust
from kefu.home import Home


def frozen(home: Home, month: str) -> bool:
    """Signed and finalized: the month's folder holds the final results of that sign-off."""
    st = appeals.status(home, month)
    info = home.assessment_dir(month) / appeals_adjust.SIGNOFF
    if st.state != "final" or not info.exists():
        return False
    return json.loads(info.read_text(encoding="utf-8")).get("signed_at") == st.signed_at.isoformat()


def draft(home: Home, source: str | Path | None, month: str) -> dict:
    """Close the month as a draft (or leave a final month as it is: frozen until re-opened). source:
    the prepared warehouse, None when the run found the month frozen and prepared nothing (D-218)."""
    from kefu import pipeline

    out = home.assessment_dir(month)
    if frozen(home, month):
        info = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
        return info | {"frozen": True, "state": "final"}
    if appeals.status(home, month).state == "final":  # signed, but the final step never ran: keep that draft
        info = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
        return info | {"frozen": False, "state": "final"}
    info = pipeline.close_month(_prepared(source, month), month, out)
    st = appeals.record_draft(
        home, month, facts={"as_of_date": info["as_of_date"], "rule_results": info["tables"].get("kpi_rule_results", 0)}
    )
    _write_signoff(
        out,
        {
            "month": month,
            "state": "draft",
            "signed_by": None,
            "signed_at": None,
            "window_ends": st.window_ends.isoformat(),
            "reopenings": st.reopenings,
        },
    )
    return info | {"frozen": False, "state": "draft", "window_ends": st.window_ends.isoformat()}


def _prepared(source: str | Path | None, month: str) -> Path:
    """The prepared warehouse (the DAG passes its path as text); None: frozen when the run prepared it,
    re-opened since."""
    if not source:
        raise appeals.AppealError(f"{month} was re-opened after this run found it final: run the month again")
    return Path(source)


def _write_signoff(folder: Path, info: dict) -> None:
    p = folder / appeals_adjust.SIGNOFF
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_text(json.dumps(info, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, p)


def signoff_view(home: Home, month: str) -> appeals_adjust.SignoffView:
    return appeals_adjust.view(
        home.assessment_dir(month), month, appeals.appeals(home, month), appeals.status(home, month)
    )


def draft_reports(home: Home, source: str | Path | None, month: str, closed: dict) -> list[str]:
    """The draft workbook and PDF (marked 草稿 draft — not signed); nothing for a frozen month."""
    from kefu import reports

    if closed.get("frozen") or closed.get("state") == "final":
        return []
    return [
        str(p)
        for p in reports.build_monthly(
            _prepared(source, month), month, home.assessment_dir(month), signoff=signoff_view(home, month)
        )
    ]


def signed_off(home: Home, month: str) -> bool:
    return appeals.status(home, month).state == "final"


def finalize(home: Home, source: str | Path | None, month: str, closed: dict) -> dict:
    """Apply the exemptions, record who signed, write the final reports, make the folder read-only."""
    from kefu import reports

    out = home.assessment_dir(month)
    st = appeals.status(home, month)
    if closed.get("frozen"):
        return {"month": month, "state": "final", "signed_by": st.signed_by, "frozen": True, "files": []}
    if st.state != "final":
        raise appeals.AppealError(f"{month} is {st.label}: the final step runs after the sign-off")
    info = appeals_adjust.write(out, month, appeals.appeals(home, month), st)
    prepared = _prepared(source, month)
    final = final_warehouse(prepared, month, out, home.root / "tmp", home.root / "dbt_target" / "final")
    # the weekly summaries read nothing the final results change: the draft's stand (D-176)
    files = reports.build_monthly(final, month, out, signoff=signoff_view(home, month), weekly="missing")
    if final != prepared:
        shutil.rmtree(final.parent, ignore_errors=True)
    for p in out.iterdir():
        if p.is_file():
            os.chmod(p, 0o444)
    return info | {"frozen": False, "files": [str(p) for p in files]}


FINAL_SCORES = ("kpi_score_lines", "kpi_score_monthly", "kpi_score_yearly")


def final_equals_draft(source: Path, month: str, out: Path) -> bool:
    """Whether the month's final results (`kpi_rule_results_final.parquet`) are, row for row and
    value for value, the month's rows of kpi_rule_results in `source`: no approved appeal changed
    anything (a multiset comparison, both ways, of every column)."""
    import duckdb

    con = duckdb.connect(str(source), read_only=True)
    try:
        cols = ", ".join(
            f'"{c}"'
            for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = 'kpi_rule_results' order by ordinal_position"
            ).fetchall()
        )
        draft = f"select {cols} from marts.kpi_rule_results where period_month = $month"
        final = f"select {cols} from read_parquet($final)"
        params = {"month": month, "final": str(out / appeals_adjust.FINAL)}
        differ = con.execute(
            f"select (select count(*) from ({draft} except all {final})) + "
            f"(select count(*) from ({final} except all {draft}))",
            params,
        ).fetchone()[0]
    finally:
        con.close()
    return differ == 0


def final_warehouse(source: Path, month: str, out: Path, tmp: Path, target_path: Path | None = None) -> Path:
    """The month's warehouse scored on its final (post-exemption) results: `<score mart>_final.parquet`
    and the final reports score what was signed (D-174). The source (possibly the published copy) is
    only read.

    When the final results equal the draft's (final_equals_draft: no approved appeal changed a row),
    the source itself is that warehouse — the same models over the same rows give its score marts
    (D-176) — and the score marts' rows of the month are frozen from it. Otherwise a scratch copy
    gets the final kpi_rule_results rows of the month and dbt rebuilds its score marts from them
    (macros/score.sql); the year to date of the score takes this month's final rows and the earlier
    months' rows of the warehouse. Returns the warehouse the final reports are written from."""
    import duckdb

    from kefu import build

    if final_equals_draft(source, month, out):
        copy = source
    else:
        work = tmp / "final_scores"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        copy = work / source.name  # the source's catalog name: dbt takes the project's parse (D-217)
        shutil.copyfile(source, copy)
        con = duckdb.connect(str(copy))
        try:
            con.execute("delete from marts.kpi_rule_results where period_month = ?", [month])
            con.execute(
                "insert into marts.kpi_rule_results by name select * from read_parquet(?)",
                [str(out / appeals_adjust.FINAL)],
            )
        finally:
            con.close()
        build.run_dbt(
            ["run", "--select", " ".join(FINAL_SCORES), "--quiet"], copy, target_path=target_path or work / "dbt_target"
        )
    con = duckdb.connect(str(copy), read_only=True)
    try:
        for name in FINAL_SCORES:
            con.execute(
                f"copy (select * from marts.{name} where period_month = ? order by all) "
                f"to '{out / (name + '_final.parquet')}' (format parquet)",
                [month],
            )
    finally:
        con.close()
    return copy


DEMO_SIGNER = "kefu-demo (演示自动签发 demo auto sign-off)"


@contextmanager
def signing_drafts(home: Home, months: list[str], actor: str = DEMO_SIGNER, every: float = 2.0) -> Iterator[None]:
    """While the block runs, sign each of `months` as soon as its draft is published (a thread
    polling the ledger): what `kefu demo` uses so its monthly_assessment runs do not wait for a
    person. The signature names the demo, so a demo month is never mistaken for a signed one."""
    import threading

    from kefu.access import Access

    manager = Access(actor, "manager")
    stop = threading.Event()

    def watch() -> None:
        todo = list(months)
        while todo and not stop.is_set():
            for month in list(todo):
                st = appeals.status(home, month) if appeals.ledger_path(home).exists() else None
                if st is not None and st.state == "final":
                    todo.remove(month)
                elif st is not None and st.state == "draft" and st.drafted:
                    try:
                        appeals.sign(home, manager, month)
                    except appeals.AppealError:
                        pass  # an appeal is pending: try again
            stop.wait(every)

    thread = threading.Thread(target=watch, name="kefu-demo-signer", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)

"""Monthly assessment reports (月度考核报表) from the published warehouse:

- the assessment workbook (Excel): every rule's result per grain, the per-audience marts,
  the year-to-date tally, the late tickets and the regulation wording;
- the 服务监督报告 PDF for the general manager (rule R1);
- the weekly service summaries of the month's Friday meetings (rule R2).

`build_monthly` is what `kefu report` and the monthly_assessment DAG call.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from kefu import sandbox
from kefu.reports import data


def _atomic(write, path: Path) -> Path:
    """Write through a temporary name and rename: a killed run never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)
    return path


def build_monthly(source: Path, month: str, out_dir: Path, signoff=None, weekly: str = "all") -> list[Path]:
    """Write the month's workbook, PDF report and weekly summaries into out_dir; return their paths.

    source is a DuckDB warehouse file, opened read-only. Raises LookupError when it holds no rule
    results for the month. signoff (kefu.appeals_adjust.SignoffView): the workbook and PDF also show
    the draft / signed state, raw vs final figures and the appeals (the monthly_assessment DAG).
    weekly="missing": a weekly summary already in out_dir is kept as it is (the final step: the
    summaries read nothing the sign-off changes, docs/decisions.md D-176)."""
    if weekly not in ("all", "missing"):
        raise ValueError(f"weekly must be 'all' or 'missing', not {weekly!r}")
    # imported here: WeasyPrint (≈ 0.7 CPU s) is loaded by the commands that write a report, not by
    # every `kefu` command (the CLI imports this package to register `kefu report`)
    from kefu.reports import pdf, workbook

    out_dir = Path(out_dir)
    con = sandbox.connect(source)  # read-only and sandboxed, like every reader (kefu/sandbox.py)
    try:
        month_data = dataclasses.replace(data.load_month(con, month), signoff=signoff)
        summaries = {day: out_dir / f"weekly_summary_{day}.pdf" for day in data.meeting_days(month, month_data.as_of)}
        weeks = [data.load_week(con, day) for day, p in summaries.items() if weekly == "all" or not p.exists()]
    finally:
        con.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [
        _atomic(lambda p: workbook.write(month_data, p), out_dir / f"assessment_{month}.xlsx"),
        _atomic(lambda p: pdf.monthly(month_data, p), out_dir / f"service_report_{month}.pdf"),
    ]
    for week in weeks:
        _atomic(lambda p, w=week: pdf.weekly(w, p), summaries[week.meeting])
    return files + list(summaries.values())

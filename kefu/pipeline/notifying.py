"""What a run tells: the night's summary text, the run log beside it, and the e-mail."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kefu.home import Home


@dataclass
class NightReport:
    business_date: str
    run_id: str
    steps: dict = field(default_factory=dict)

    def text(self) -> str:
        s = self.steps
        ing, b, g, t, p = (s.get(k, {}) for k in ("ingest", "build", "contract", "thresholds", "publish"))
        lines = [
            f"客服考核数据仓库 nightly run {self.run_id} · business date {self.business_date}",
            f"  ingest: {ing.get('files', 0)} files, {ing.get('rows_loaded', 0):,} rows loaded, "
            f"{ing.get('rows_quarantined', 0):,} quarantined, {ing.get('rejected', 0)} rejected"
            + (f" ({ing['note']})" if ing.get("note") else ""),
            f"  dbt build as of {b.get('as_of_date')}: {b.get('seconds')} s"
            + (" (rebuilt as of that night: history)" if b.get("history") else ""),
            f"  data contract gate: passed ({g.get('evaluated')} expectations)",
            f"  thresholds: {t.get('breaches', 0)} breaches recorded in audit.kpi_breaches "
            f"(超标 {t.get('breaches', 0)} 项) top: {t.get('top_rules', {})}",
            "  publish: "
            + (
                f"{p.get('path')} ({p.get('bytes', 0):,} bytes, {p.get('seconds')} s)"
                if p.get("published")
                else f"not replaced — {p.get('reason')}"
            ),
        ]
        if s.get("docs", {}).get("docs"):
            d = s["docs"]
            lines.append(f"  dbt docs: {d['docs']} ({d.get('note') or str(d.get('seconds')) + ' s'})")
        return "\n".join(lines)


def write_run_log(
    home: Home, report_text: str, key: str, run_id: str, name: str = "summary.txt", append: bool = False
) -> Path:
    """logs/<key>/<run>/summary.txt (key: the business date or month)."""
    d = home.run_dir(key, run_id)
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    with open(p, "a" if append else "w", encoding="utf-8") as f:
        f.write(report_text + "\n")
    return p


def prune_data_docs(home: Home, keep: int | None = None) -> int:
    """Data Docs carry ~4 MB of static files per suite run: keep them for the newest `keep` business
    dates (env KEFU_KEEP_DATA_DOCS, default 31); the run summaries stay. Returns folders removed."""
    keep = keep if keep is not None else int(os.environ.get("KEFU_KEEP_DATA_DOCS", "31"))
    days = sorted(p for p in home.logs.glob("????-??-??") if p.is_dir()) if home.logs.is_dir() else []
    removed = 0
    for day in days[: max(len(days) - keep, 0)]:
        for docs in day.glob("*/data_docs"):
            shutil.rmtree(docs, ignore_errors=True)
            removed += 1
    return removed


def notify(subject: str, body: str, event: str = "nightly_summary", audience: tuple[str, ...] = ()) -> bool:
    """Send through kefu.notify (the channels of $KEFU_HOME/secrets/notify.yml, D-140); the caller
    always logs the body. Never raises for a channel that fails. Returns whether any channel got it."""
    from kefu import notify as notifications

    deliveries = notifications.send(event, subject, body, audience)
    for d in deliveries:
        print(f"notify: {d.line()}")
    return any(d.ok for d in deliveries)

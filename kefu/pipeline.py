"""The nightly and monthly jobs as plain functions; dags/ wraps each in an Airflow task.

Nightly, for one business date D (docs/decisions.md D-71..D-74):
  ingest_day -> build_day -> contract_gate (blocking) -> threshold_check (records breaches)
  -> publish -> notify.
Every step that opens the working warehouse (Home.warehouse) runs in the single writer slot
(Airflow pool `kefu_warehouse`); readers only ever open the published copy, which publish
replaces atomically (os.replace) and only after the contract gate passed.

A run is a function of its business date: the build is pinned to D (`as_of_date`), and a
rerun of a date older than the newest export loaded rebuilds the warehouse as that night saw
it (`history_as_of`: every version exported up to D, see macros/raw_source.sql).
"""

from __future__ import annotations

import calendar
import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from kefu import build
from kefu.home import MANIFEST_TABLE, Home, embedded_manifest, read_manifest
from kefu.vault import Vault, private_dir, prune_archive, restore_tree

POOL = "kefu_warehouse"  # the one writer slot of the working warehouse
STATE_FILE = "state.json"  # beside the working warehouse: what the last build was


class PipelineError(RuntimeError):
    """A step refused to go on; the message says what to do."""


# --- small helpers ----------------------------------------------------------------------------


def _write_json_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, 0o644)  # mkstemp makes it 0600: readers (dashboards, analysts) may be other users
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2, default=str)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _state(home: Home) -> dict:
    p = home.warehouse.parent / STATE_FILE
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def month_bounds(month: str) -> tuple[date, date]:
    y, m = (int(x) for x in month.split("-"))
    return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])


def previous_month(day: date) -> str:
    return (day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@contextmanager
def writer_lock(home: Home, wait: bool = True) -> Iterator[None]:
    """The one writer of the working warehouse, also outside Airflow (kefu nightly / rebuild by hand):
    an exclusive flock on warehouse/.writer.lock, released by the kernel if the process dies."""
    home.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with open(home.warehouse.parent / ".writer.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise PipelineError(f"another run is writing {home.warehouse} (仓库正在更新); try again later") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# --- nightly steps ----------------------------------------------------------------------------


def ingest_day(home: Home, day: date, config: Path | None = None, demo_key: bool = False) -> dict:
    """Load the exports of `day` (landing/YYYY-MM-DD) into the working warehouse; archive them.

    A date whose folder is gone because its files were archived by an earlier run is a rerun:
    nothing to load. A date with neither is an error (the exports did not arrive)."""
    from ingest import config as ingest_config
    from ingest.loader import ingest

    folder = home.landing / day.isoformat()
    archived = home.archive / day.isoformat()
    if not folder.is_dir() or not any(p.is_file() for p in folder.rglob("*")):
        if archived.is_dir():
            return {"business_date": day.isoformat(), "files": 0, "note": "already loaded (archived)"}
        raise PipelineError(f"no exports for {day} in {folder} (导出文件未到): expected a folder of that day's files")
    cfg = ingest_config.load(config, demo_key=demo_key)
    for d in (home.landing, home.archive, home.rejected):  # private to the service user (D-97)
        private_dir(d)
    summary = ingest(
        landing=folder,
        warehouse_file=home.warehouse,
        cfg=cfg,
        archive=archived,
        rejected=home.rejected / day.isoformat(),
        progress=False,
        vault=Vault.for_home(home.root),
    )
    loaded = [r for r in summary.results if r.status == "loaded"]
    # retention counts from the business date, so a rerun of a past night deletes what that night did
    deleted = prune_archive(home.root, cfg.archive_retention_days, today=day)
    return {
        "business_date": day.isoformat(),
        "files": len(summary.results),
        "loaded": len(loaded),
        "rejected": summary.count("rejected"),
        "duplicate": summary.count("duplicate"),
        "rows_loaded": sum(r.rows_loaded for r in loaded),
        "rows_quarantined": sum(r.rows_quarantined for r in loaded),
        "summary": str(summary),
        **({"archive_deleted": len(deleted)} if deleted else {}),
    }


def latest_export_date(warehouse: Path) -> date | None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select max(export_date) from audit.load_log where status = 'loaded'").fetchone()[0]
    finally:
        con.close()


def build_vars(day: date, history: bool) -> dict[str, str]:
    v = {"as_of_date": day.isoformat()}
    if history:
        v["history_as_of"] = day.isoformat()
    return v


NIGHTLY_EXCLUDE = "resource_type:test resource_type:unit_test"  # D-72: tests run monthly, in rebuild and CI
FULL_EXCLUDE = "resource_type:unit_test"  # every data test; unit tests need no data and run in CI


def build_day(home: Home, day: date, target_path: Path | None = None, data_tests: bool = False) -> dict:
    """dbt build of the working warehouse as of 24:00 of `day`.

    Nightly: the models only; the blocking check of the night is the GX contract gate (D-72).
    data_tests=True also runs every dbt data test (month close, rebuild)."""
    latest = latest_export_date(home.warehouse)
    if latest is None:
        raise PipelineError(f"the warehouse {home.warehouse} has no loaded exports yet; run ingest first")
    history = day < latest
    state = _state(home)
    project = build.project_digest()
    # incremental models hold what the last build saw: after a build of another past state, or by
    # another version of the dbt project or rulebook (an upgrade, a threshold edit), rebuild them
    full_refresh = (
        history
        or bool(state.get("history"))
        or (state.get("as_of_date", "") > day.isoformat())
        or state.get("project") != project
    )
    t0 = time.monotonic()
    build.build(
        home.warehouse,
        full_refresh=full_refresh,
        target_path=target_path or home.root / "dbt_target",
        exclude=FULL_EXCLUDE if data_tests else NIGHTLY_EXCLUDE,
        vars=build_vars(day, history),
    )
    info = {
        "as_of_date": day.isoformat(),
        "history": history,
        "full_refresh": full_refresh,
        "project": project,
        "data_tests": data_tests,
        "seconds": round(time.monotonic() - t0, 1),
        "built_at": datetime.now().isoformat(timespec="seconds"),
    }
    _write_json_atomic(home.warehouse.parent / STATE_FILE, info)
    return info


def contract_gate(home: Home, day: date, run_id: str, warehouse: Path | None = None) -> dict:
    """Great Expectations data-contract suites; raise (nothing gets published) when one fails.
    Data Docs go to logs/<day>/<run>/data_docs/ (beside the run's summary)."""
    from expectations import gates

    res = gates.run_contract_gate(
        warehouse or home.warehouse, day, home.run_dir(day.isoformat(), run_id) / "data_docs" / "contract"
    )
    if not res.success:
        raise PipelineError(
            f"data contract gate failed for {day} — nothing published (数据契约校验未通过)\n" + res.message()
        )
    return {"evaluated": res.evaluated, "docs": str(res.docs_index) if res.docs_index else None}


def months_touched(day: date) -> list[str]:
    """The months a night can change: D's month, and the previous one (late exports, D-06 attribution)."""
    return sorted({day.strftime("%Y-%m"), previous_month(day)})


def threshold_check(
    home: Home, day: date, run_id: str, warehouse: Path | None = None, months: list[str] | None = None
) -> dict:
    """Great Expectations threshold suites; every breach goes to audit.kpi_breaches, the run goes on.
    months: the months to check (default: those the night of `day` can change; a backfill: all of its)."""
    from expectations import gates

    warehouse = warehouse or home.warehouse
    res, breaches = gates.run_threshold_suites(
        warehouse, months or months_touched(day), home.run_dir(day.isoformat(), run_id) / "data_docs" / "thresholds"
    )
    n = gates.record_breaches(warehouse, run_id, day, breaches)
    by_rule = breaches.groupby("rule_id").size().sort_values(ascending=False).head(10).to_dict() if n else {}
    return {
        "breaches": n,
        "evaluated": res.evaluated,
        "top_rules": by_rule,
        "docs": str(res.docs_index) if res.docs_index else None,
    }


def fingerprint(warehouse: Path) -> dict[str, str]:
    """Content fingerprint of every mart: row count and an order-independent hash of the rows."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        out = {}
        for t in tables:
            n, h = con.execute(f'select count(*), coalesce(sum(hash(t)::hugeint), 0) from marts."{t}" t').fetchone()
            out[t] = f"{n}:{h}"
        return out
    finally:
        con.close()


PUBLISH_TEMPS = (".kefu.*.duckdb.tmp*", ".manifest.json.*.tmp")  # what a killed publish can leave behind


def _publish_hook(stage: str) -> None:
    from ingest.loader import _crash_hook  # the test hook of the kill tests (KEFU_INGEST_CRASH_AT)

    _crash_hook(stage, "publish")


def sync_manifest(home: Home, _switched: bool = False) -> dict:
    """Bring published/manifest.json and publications.jsonl in line with the manifest embedded in the live
    published file (written into it before the switch, so it always describes it): after each switch,
    and at the start of every publish, which so repairs what a kill between the two left behind."""
    live = embedded_manifest(home.published)
    if live is None:
        return {}
    current = json.loads(home.manifest.read_text(encoding="utf-8")) if home.manifest.exists() else None
    if current != live:
        _write_json_atomic(home.manifest, live)
    if _switched:
        _publish_hook("publish_manifest")
    log = home.published_dir / "publications.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    last = json.loads(lines[-1]) if lines and lines[-1].strip() else {}
    if (last.get("run_id"), last.get("published_at")) != (live.get("run_id"), live.get("published_at")):
        with open(log, "a", encoding="utf-8") as f:  # what was shown when
            f.write(json.dumps(live, ensure_ascii=False) + "\n")
    return live


def publish(home: Home, day: date, run_id: str) -> dict:
    """Replace the published copy by the working warehouse, atomically, unless it holds a newer date
    or the very same content. Readers keep the file they opened; new readers get the new one.

    The manifest goes INTO the new copy (table audit.publication) before the one rename that switches
    it in: the warehouse and its manifest change together, whenever the process dies. manifest.json and
    publications.jsonl beside it follow from the live file (sync_manifest). Temporaries of a killed
    publish are removed first (publish runs in the single writer slot: nobody else writes here)."""
    home.published_dir.mkdir(parents=True, exist_ok=True)
    for pattern in PUBLISH_TEMPS:
        for stale in home.published_dir.glob(pattern):
            stale.unlink(missing_ok=True)
    sync_manifest(home)
    manifest = read_manifest(home.published)
    if manifest.get("business_date", "") > day.isoformat():
        return {"published": False, "reason": f"the published warehouse already holds {manifest['business_date']}"}
    # fold a killed writer's WAL into the file before copying it (we hold the writer slot)
    con = duckdb.connect(str(home.warehouse))
    con.execute("CHECKPOINT")
    con.close()
    prints = fingerprint(home.warehouse)
    if (
        manifest.get("business_date") == day.isoformat()
        and manifest.get("fingerprint") == prints
        and home.published.exists()
    ):
        return {"published": False, "reason": "same business date and identical marts: nothing changed"}
    fd, tmp = tempfile.mkstemp(dir=home.published_dir, prefix=".kefu.", suffix=".duckdb.tmp")
    os.close(fd)
    t0 = time.monotonic()
    new = {
        "business_date": day.isoformat(),
        "run_id": run_id,
        "published_at": datetime.now().isoformat(timespec="seconds"),
        "bytes": None,
        "fingerprint": prints,
        "project": _state(home).get("project"),
    }
    try:
        shutil.copyfile(home.warehouse, tmp)
        con = duckdb.connect(tmp)
        try:
            schema = MANIFEST_TABLE.split(".")[0]
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.execute(
                f"CREATE OR REPLACE TABLE {MANIFEST_TABLE} AS SELECT ?::VARCHAR AS manifest",
                [json.dumps(new, ensure_ascii=False, default=str)],
            )
            con.execute("CHECKPOINT")
        finally:
            con.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o444)
        _publish_hook("publish_copied")
        os.replace(tmp, home.published)
    except BaseException:
        for p in Path(tmp).parent.glob(Path(tmp).name + "*"):
            p.unlink(missing_ok=True)
        raise
    seconds = round(time.monotonic() - t0, 2)
    _publish_hook("publish_switched")
    live = sync_manifest(home, _switched=True)
    return {"published": True, "seconds": seconds, "bytes": live.get("bytes"), "path": str(home.published)}


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


def night(
    home: Home, day: date, run_id: str | None = None, demo_key: bool = False, config: Path | None = None
) -> NightReport:
    """All nightly steps in one process (the CLI and benchmarks; Airflow runs them as tasks)."""
    run_id = run_id or f"manual__{day.isoformat()}"
    rep = NightReport(day.isoformat(), run_id)
    with writer_lock(home, wait=False):
        rep.steps["ingest"] = ingest_day(home, day, config=config, demo_key=demo_key)
        rep.steps["build"] = build_day(home, day)
        rep.steps["contract"] = contract_gate(home, day, run_id)
        rep.steps["thresholds"] = threshold_check(home, day, run_id)
        rep.steps["publish"] = publish(home, day, run_id)
    return rep


def rebuild(home: Home, demo_key: bool = False, config: Path | None = None, run_id: str | None = None) -> NightReport:
    """Rebuild everything from the archived exports (D-71): ingest every archived day, in date order,
    into a NEW warehouse file — one bulk batch (ingest/bulk.py, D-105); build it with every data
    test; run the gates; only then swap it in as the working warehouse (os.replace) and publish.
    The old warehouse stays until the swap."""
    from ingest import config as ingest_config
    from ingest.bulk import bulk_ingest, day_batch

    days = day_folders(home.archive) if home.archive.is_dir() else []
    if not days:
        raise PipelineError(f"nothing to rebuild from: {home.archive} holds no day folders YYYY-MM-DD")
    last = days[-1]
    run_id = run_id or f"rebuild__{last.isoformat()}"
    rep = NightReport(last.isoformat(), run_id)
    cfg = ingest_config.load(config, demo_key=demo_key)
    with writer_lock(home, wait=False), tempfile.TemporaryDirectory(dir=home.root, prefix=".rebuild.") as tmp:
        scratch = Home(Path(tmp))
        scratch.warehouse.parent.mkdir(parents=True)
        vault = Vault.for_home(home.root)
        private_dir(scratch.root)
        for (
            d
        ) in days:  # a decrypted copy of the archive (D-97) in the private scratch folder: ingest moves what it reads
            restore_tree(vault, home.archive / d.isoformat(), scratch.landing / d.isoformat())
        summary = bulk_ingest(
            day_batch(scratch.landing, scratch.archive, scratch.rejected, days),
            scratch.warehouse,
            cfg,
            encrypt_archive=False,
        )  # the scratch copy goes with the temp folder
        loaded = [r for r in summary.results if r.status == "loaded"]
        files = len(loaded)
        rows = sum(r.rows_loaded for r in loaded)
        quarantined = sum(r.rows_quarantined for r in loaded)
        rep.steps["ingest"] = {
            "files": files,
            "rows_loaded": rows,
            "rows_quarantined": quarantined,
            "note": f"rebuilt from {len(days)} archived days {days[0]}..{last}",
        }
        rep.steps["build"] = build_day(scratch, last, target_path=home.root / "dbt_target" / "rebuild", data_tests=True)
        rep.steps["contract"] = contract_gate(home, last, run_id, warehouse=scratch.warehouse)
        rep.steps["thresholds"] = threshold_check(home, last, run_id, warehouse=scratch.warehouse)
        home.warehouse.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch.warehouse, home.warehouse)
        os.replace(scratch.warehouse.parent / STATE_FILE, home.warehouse.parent / STATE_FILE)
        rep.steps["publish"] = publish(home, last, run_id)
    return rep


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


def notify(subject: str, body: str, to: str | None = None) -> bool:
    """E-mail through Airflow's SMTP settings when [smtp] smtp_host and a recipient are configured
    (KEFU_NOTIFY_EMAIL); the caller always logs the body. Returns whether a mail went out."""
    to = to or os.environ.get("KEFU_NOTIFY_EMAIL")
    if not to:
        return False
    try:
        from airflow.configuration import conf

        if not conf.get("smtp", "smtp_host", fallback=None):
            return False
        from airflow.utils.email import send_email

        send_email(to=to, subject=subject, html_content="<pre>" + body + "</pre>")
        return True
    except Exception as exc:  # a mail server down must not fail the night; the log keeps the summary
        print(f"notify: e-mail not sent ({exc})")
        return False


# --- monthly assessment -----------------------------------------------------------------------


def _marts_with_month(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.columns where table_schema = 'marts' "
            "and column_name = 'period_month' order by 1"
        ).fetchall()
    ]


def prepare_month(home: Home, month: str, work_dir: Path) -> Path:
    """A warehouse as of 24:00 of the month's last day, to close the month from.

    The published copy when it holds exactly that day (the normal run on the 1st); otherwise
    (a month closed on demand later) a scratch copy rebuilt as of that day from the export
    history, so closing a month twice gives the same assessment."""
    _first, last = month_bounds(month)
    manifest = read_manifest(home.published)
    published = manifest.get("business_date")
    if not published or published < last.isoformat():
        raise PipelineError(
            f"cannot close {month}: the published warehouse holds {published or 'nothing'}; "
            f"the nightly run of {last} must be published first (月末数据未发布)"
        )
    work_dir.mkdir(parents=True, exist_ok=True)
    scratch = work_dir / f"month_{month}.duckdb"
    shutil.copyfile(home.published, scratch)
    os.chmod(scratch, 0o644)
    # rebuilt as of the month's last day (from the export history when the published copy is newer),
    # with every dbt data test: a month is closed only on a warehouse that passes all of them (D-73)
    history = published != last.isoformat()
    # built by other code or another rulebook than this one (D-70): its incremental models are rebuilt too
    full_refresh = history or manifest.get("project") != build.project_digest()
    build.build(
        scratch,
        full_refresh=full_refresh,
        target_path=work_dir / f"dbt_target_{month}",
        exclude=FULL_EXCLUDE,
        vars=build_vars(last, history=history),
    )
    return scratch


def close_month(source: Path, month: str, out_dir: Path) -> dict:
    """Freeze the month's assessment: every mart row of period_month = month as Parquet in
    out_dir (written to a temp folder and renamed into place), with the year's totals through
    the month (yearly_totals: months judged / passed / failed per rule and unit, and
    kpi_district_yearly). Closing December (the run on 1 January) gives the final yearly totals."""
    con = duckdb.connect(str(source), read_only=True)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    rows: dict[str, int] = {}
    try:

        def freeze(query: str, name: str, params: list | None = None) -> int:
            """COPY the query to <tmp>/<name>.parquet, return its row count."""
            target = str(tmp / f"{name}.parquet").replace("'", "''")
            return con.execute(f"copy ({query} order by all) to '{target}' (format parquet)", params).fetchone()[0]

        for t in _marts_with_month(con):
            rows[t] = freeze(f'select * from marts."{t}" where period_month = ?', t, [month])
        # the year's totals through this month (A5 年度汇总); the December close is the final tally,
        # handed over by the run on 1 January
        year = month[:4]
        rows["yearly_totals"] = freeze(
            "select ? as period_year, rule_id, catalogue_rule_id, grain, unit_id, count(*) as months_judged, "
            "count(*) filter (where passed) as months_passed, count(*) filter (where not passed) as months_failed "
            "from marts.kpi_rule_results where left(period_month, 4) = ? and period_month <= ? "
            "and threshold is not null group by all",
            "yearly_totals",
            [year, year, month],
        )
        rows["kpi_district_yearly"] = freeze(
            "select * from marts.kpi_district_yearly where period_year = ?", "kpi_district_yearly", [year]
        )
        as_of = con.execute("select max(as_of_date) from intermediate.int_tickets_as_of").fetchone()[0]
    finally:
        con.close()
    info = {
        "month": month,
        "as_of_date": str(as_of),
        "year_complete": month.endswith("-12"),
        "closed_at": datetime.now().isoformat(timespec="seconds"),
        "tables": rows,
    }
    _write_json_atomic(tmp / "assessment.json", info)
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        # keep files other steps put there (reports) out of the frozen tables' way: only our files move
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    if old.exists():
        for p in old.iterdir():
            if not (out_dir / p.name).exists() and not p.name.endswith(".parquet") and p.name != "assessment.json":
                os.replace(p, out_dir / p.name)
        shutil.rmtree(old, ignore_errors=True)
    return info


def month_reports(source: Path, month: str, out_dir: Path) -> list[str]:
    """The monthly assessment reports (Excel + PDF) and the weekly summaries of the month (R1, R2)."""
    from kefu import reports

    return [str(p) for p in reports.build_monthly(source, month, out_dir)]


def day_folders(folder: Path) -> list[date]:
    """The business dates of a landing or archive folder: its subfolders named YYYY-MM-DD."""
    return sorted(date.fromisoformat(p.name) for p in folder.iterdir() if p.is_dir() and len(p.name) == 10)


def docs_signature(published: Path) -> str:
    """What the dbt docs site shows: the dbt project's files and the published warehouse's schema
    (tables, columns, types). The site only changes when this does."""
    import hashlib

    h = hashlib.sha256(build.project_digest().encode())
    con = duckdb.connect(str(published), read_only=True)
    try:
        for row in con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns order by all"
        ).fetchall():
            h.update("|".join(map(str, row)).encode())
    finally:
        con.close()
    return h.hexdigest()


def analyst_docs(home: Home, published: dict) -> dict:
    """The analysts' dbt docs site (published/dbt_docs/index.html, `kefu docs serve`), generated
    against the published copy whenever the dbt project or the warehouse schema changed since the
    site was last written (the site describes models and columns, not the night's rows)."""
    from kefu import analyst

    out = home.published_dir / "dbt_docs"
    index, stamp = out / "index.html", out / "signature.txt"
    if not home.published.exists():
        return {"docs": None, "note": "nothing published yet"}
    sig = docs_signature(home.published)
    if index.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == sig:
        return {"docs": str(index), "note": "up to date (project and schema unchanged)"}
    t0 = time.monotonic()
    analyst.generate_docs(home.published, out)
    stamp.write_text(sig, encoding="utf-8")
    return {"docs": str(index), "seconds": round(time.monotonic() - t0, 1)}

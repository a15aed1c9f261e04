"""`kefu ingest`: load every new export of a landing folder into the DuckDB warehouse.

Per file, in business-date order (reference lists of a day before its events):
fingerprint (sha256, encoding) -> skip if already loaded -> prepare (transcode /
XLSX to CSV, header and mapping) -> ONE transaction: stage with read_csv, type
and check in SQL, append good rows to raw.<entity>_history, upsert raw.<entity>,
bad rows to audit.quarantine, a load_log row -> commit -> archive the file (encrypted, in a
private folder: kefu/vault.py).
A file that cannot be read as a whole is logged as rejected and moved aside.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from ingest import readers, transform, warehouse
from ingest.config import ConfigError, IngestConfig
from ingest.mapping import Mappings
from ingest.mapping import load as load_mappings
from ingest.warehouse import VERSION_COLUMN, q
from kefu import contract
from kefu.build import check_warehouse_path
from kefu.vault import Vault, private_dir, private_file

CRASH_ENV = "KEFU_INGEST_CRASH_AT"  # test hook: "<stage>[:<file-name substring>]"
SKIP_SUFFIXES = (".tmp", ".part", ".crdownload", ".filepart")
SHOWN_CHARS = 4000  # of a line the CSV reader rejects, kept in audit.quarantine.raw_text (the file is archived)
CHECKPOINT_THRESHOLD = "256MB"  # WAL size that triggers a checkpoint during a run (DuckDB default 16MB)


@dataclass
class FileResult:
    file_name: str
    status: str  # loaded | rejected | duplicate | archived (already loaded earlier)
    entity: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""


@dataclass
class Summary:
    results: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def __str__(self) -> str:
        loaded = [r for r in self.results if r.status == "loaded"]
        lines = [
            f"files: {len(self.results)} · loaded {len(loaded)} · rejected {self.count('rejected')} · "
            f"duplicate {self.count('duplicate')} · archived only {self.count('archived')}",
            f"rows: read {sum(r.rows_read for r in loaded):,} · loaded {sum(r.rows_loaded for r in loaded):,} "
            f"· quarantined {sum(r.rows_quarantined for r in loaded):,}",
        ]
        for r in self.results:
            if r.status == "rejected":
                lines.append(f"  rejected: {r.message}")
        return "\n".join(lines)


def _crash_hook(stage: str, name: str) -> None:
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    want, _, needle = spec.partition(":")
    if want == stage and (not needle or needle in name):
        sys.stderr.write(f"{CRASH_ENV}: simulated crash at {stage} of {name}\n")
        sys.stderr.flush()
        os._exit(86)


def discover(landing: Path, mappings: Mappings) -> list[Path]:
    """Every candidate file under `landing`, in load order: date, reference before event, name."""
    order = {name: i for i, name in enumerate(contract.load())}
    found = []
    for p in landing.rglob("*"):
        if not p.is_file() or p.name.startswith((".", "~$")) or p.name.lower().endswith(SKIP_SUFFIXES):
            continue
        rules = mappings.by_name(p)
        d = rules[0].export_date(p) if rules else None
        if d is None:
            from ingest.mapping import _parse_stamp

            d = _parse_stamp(p.parent.name) or date.max
        found.append(((d, order.get(rules[0].entity, 99) if rules else 99, str(p.relative_to(landing))), p))
    return [p for _, p in sorted(found)]


def _move(src: Path, dst_root: Path, rel: Path, vault: Vault | None = None) -> Path:
    """Move an ingested or refused export out of the landing folder into a private folder (0700,
    file 0600, kefu/vault.py); encrypted on the way when a vault is given (the archive, D-97)."""
    dst = dst_root / rel
    private_dir(dst.parent)
    n = 1
    while dst.exists():  # never overwrite: a re-delivered file keeps both copies
        dst = dst_root / rel.parent / f"{rel.name}.{n}"
        n += 1
    if vault is not None:
        vault.encrypt_file(src, dst)
        src.unlink()
    else:
        shutil.move(str(src), str(dst))
        private_file(dst)
    return dst


# load_log.message of a file lacking rule inputs (D-90), the same for single-file and bulk loads
ABSENT_NOTE = "column(s) absent, loaded as empty; the rules reading them are not measurable: "
ABSENT_NOTE_ZH = " / 缺少列（按空值载入，相关指标无法计算）"


class Ingest:
    def __init__(
        self,
        landing: Path,
        warehouse_file: Path,
        cfg: IngestConfig,
        archive: Path | None = None,
        rejected: Path | None = None,
        progress: bool = True,
        vault: Vault | None = None,
        encrypt_archive: bool = True,
    ):
        self.landing = landing.resolve()
        self.archive = (archive or self.landing.parent / "archive").resolve()
        self.rejected = (rejected or self.landing.parent / "rejected").resolve()
        # archived exports are encrypted (D-97); the key, unless given: beside the archive folder,
        # <its parent>/secrets/pii.key, or $KEFU_ARCHIVE_KEY_FILE
        self.vault = (vault or Vault.for_home(self.archive.parent)) if encrypt_archive else None
        if self.landing.is_dir():
            private_dir(self.landing)
        self.cfg = cfg
        self.mappings = load_mappings(cfg.mapping_dirs)
        self.progress = progress
        try:
            check_warehouse_path(warehouse_file)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        warehouse_file.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(warehouse_file))
        # Scratch files (UTF-8 copies, XLSX as CSV, DuckDB spill) live beside the warehouse; a run that
        # was killed leaves them there and the next run clears them.
        self.tmp = warehouse_file.parent / f".{warehouse_file.name}.ingest_tmp"
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        self.con.execute(f"SET memory_limit = '{cfg.memory_limit}'")
        self.con.execute(f"SET temp_directory = '{self.tmp / 'duckdb'}'")
        self.con.execute("SET preserve_insertion_order = true")
        # DuckDB checkpoints when the WAL passes 16 MB by default; each checkpoint rewrites the table's
        # last, growing row group, so a run of daily files paid it again and again (~0.3-1 s every ~7
        # files). A larger threshold plus one CHECKPOINT at the end of the run writes it once; every
        # commit is still durable in the WAL (a killed run replays it on the next open).
        self.con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        self.con.execute("SET enable_progress_bar = false")  # ingest draws its own (tqdm) bar
        if cfg.threads:
            self.con.execute(f"SET threads = {int(cfg.threads)}")
        warehouse.ensure(self.con)

    def close(self) -> None:
        self.con.execute("CHECKPOINT")
        self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- one file ---------------------------------------------------------------------------

    def _log(self, **v) -> None:
        cols = [
            "file_id",
            "file_name",
            "sha256",
            "size_bytes",
            "entity",
            "source",
            "mapping",
            "export_date",
            "encoding",
            "rows_read",
            "rows_loaded",
            "rows_quarantined",
            "started_at",
            "finished_at",
            "status",
            "reason",
            "message",
        ]
        self.con.execute(
            f"INSERT INTO audit.load_log ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
            [v.get(c) for c in cols],
        )

    def _moved(self, file_id: int, dst: Path) -> None:
        self.con.execute("UPDATE audit.load_log SET moved_to = ? WHERE file_id = ?", [str(dst), file_id])

    def _next_id(self) -> int:
        return int(self.con.execute("SELECT nextval('audit.file_id_seq')").fetchone()[0])

    def ingest_file(self, path: Path, tick: Callable[[int], None] | None = None) -> FileResult:
        rel = path.relative_to(self.landing)
        name = rel.as_posix()
        started = datetime.now()
        det = readers.fingerprint(path)
        done = self._screen(path, rel, det, started)
        if done is not None:
            return done
        try:
            prep = readers.prepare(path, det, self.mappings, self.tmp, tick)
        except readers.FileRejected as e:
            return self._reject(path, rel, det, started, e.reason, e.message, None)
        except (Exception, RecursionError) as e:  # no input may stop the night: whatever a reader trips on
            # (a library's own error on a hostile file) rejects this file, with what went wrong, and the
            # run goes on with the next one
            return self._reject(
                path,
                rel,
                det,
                started,
                "unreadable",
                f"{name}: cannot be read ({type(e).__name__}: {str(e)[:500]}) / 文件无法读取",
                None,
            )
        try:
            return self._load(path, rel, prep, started)
        finally:
            prep.cleanup()

    def _screen(self, path: Path, rel: Path, det, started: datetime, move: bool = True) -> FileResult | None:
        """A file whose content was loaded (or rejected) before: move it where it belongs and say so —
        archived (the run that committed it stopped before moving it) or duplicate (the same bytes
        under another name). None: a new file. move=False (bulk) leaves the move to the caller."""
        name = rel.as_posix()
        seen = self.con.execute(
            "SELECT file_id, status, file_name, moved_to FROM audit.load_log WHERE sha256 = ? "
            "AND status IN ('loaded', 'rejected') ORDER BY file_id",
            [det.sha256],
        ).fetchall()
        for fid, status, n, moved in seen:
            if n == name and moved is None:  # committed by a run that stopped before moving the file
                self._moved(fid, _move(path, self.archive if status == "loaded" else self.rejected, rel))
                return FileResult(name, "archived", message=f"{name}: already {status}, moved")
        if any(s == "loaded" for _, s, _, _ in seen):
            first = next(n for _, s, n, _ in seen if s == "loaded")
            return self._duplicate(path, rel, det, started, first, move)
        return None

    def _duplicate(
        self, path: Path, rel: Path, det, started: datetime, first: str, move: bool = True, file_id: int | None = None
    ) -> FileResult:
        name = rel.as_posix()
        msg = f"{name}: same content (sha256) as {first}, already loaded — nothing to do / 重复文件"
        fid = file_id if file_id is not None else self._next_id()
        self._log(
            file_id=fid,
            file_name=name,
            sha256=det.sha256,
            size_bytes=det.size,
            encoding=det.encoding,
            rows_read=0,
            rows_loaded=0,
            rows_quarantined=0,
            started_at=started,
            finished_at=datetime.now(),
            status="duplicate",
            message=msg,
        )
        if move:
            self._moved(fid, _move(path, self.archive, rel))
        return FileResult(name, "duplicate", message=msg)

    def _reject(
        self,
        path: Path,
        rel: Path,
        det,
        started: datetime,
        reason: str,
        message: str,
        prep: readers.Prepared | None,
        file_id: int | None = None,
        move: bool = True,
    ) -> FileResult:
        """Log the file as rejected and move it aside (bulk: with the batch's file_id, moved after commit)."""
        name = rel.as_posix()
        rule = prep.rule if prep else (self.mappings.by_name(path) or [None])[0]
        fid = file_id if file_id is not None else self._next_id()
        self._log(
            file_id=fid,
            file_name=name,
            sha256=det.sha256,
            size_bytes=det.size,
            entity=rule.entity if rule else None,
            source=rule.source if rule else None,
            mapping=rule.mapping if rule else None,
            export_date=rule.export_date(path) if rule else None,
            encoding=det.encoding,
            rows_read=0,
            rows_loaded=0,
            rows_quarantined=0,
            started_at=started,
            finished_at=datetime.now(),
            status="rejected",
            reason=reason,
            message=message,
        )
        _crash_hook("after_reject_log", name)
        if move:
            self._moved(fid, _move(path, self.rejected, rel))
        return FileResult(name, "rejected", rule.entity if rule else None, message=message)

    def _stage(self, prep: readers.Prepared) -> bool:
        """Read the CSV (all text) into temp table stg; True when some lines went to the rejects table `rej`.

        A strict read first: it succeeds exactly when no line would be rejected, and skips the cost of
        keeping rejects (~0.1 s per 300k rows). Only a file it fails on is read again with store_rejects."""
        cols = (
            (["_row"] if prep.has_row_column else [])
            + (["_sheet"] if prep.has_sheet_column else [])
            + [f"c{i}" for i in range(len(prep.header))]
        )
        spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
        read = (
            f"read_csv({transform.lit(str(prep.csv_path))}, header = true, "
            f"skip = {prep.skip}, auto_detect = false, columns = {spec}, delim = {transform.lit(prep.delimiter)}, "
            f"quote = {transform.lit(prep.quote)}, escape = {transform.lit(prep.escape)}, "
            f"max_line_size = {readers.MAX_LINE_SIZE}"
        )
        try:
            self.con.execute(f"CREATE TEMP TABLE stg AS SELECT * FROM {read})")
            return False
        except duckdb.Error:
            self.con.execute("DROP TABLE IF EXISTS temp.stg")
        self.con.execute(
            f"CREATE TEMP TABLE stg AS SELECT * FROM {read}, store_rejects = true, "
            "rejects_table = 'rej', rejects_scan = 'rej_scan')"
        )
        return True

    def _load(self, path: Path, rel: Path, prep: readers.Prepared, started: datetime) -> FileResult:
        name = rel.as_posix()
        rule = prep.rule
        ent = rule.contract_entity
        positions, extra = readers.header_positions(prep)
        notes = list(prep.notes)
        if extra:
            notes.append("ignored extra column(s) not in the contract: " + ", ".join(extra) + " / 已忽略多余列")
        con = self.con
        # Staging is a temp table created before the transaction: its rowid is then the file order
        # (inside a transaction, appended rows carry transaction-local row ids). Temp tables are not
        # part of the warehouse file, so atomicity is unaffected.
        try:
            con.execute("SET preserve_insertion_order = true")  # stg.rowid = line order of the file
            has_rejects = self._stage(prep)
            con.execute("SET preserve_insertion_order = false")  # raw rows carry _row_number: any order
        except duckdb.Error as e:
            for t in ("stg", "rej", "rej_scan"):
                con.execute(f"DROP TABLE IF EXISTS temp.{t}")
            return self._reject(
                path,
                rel,
                readers.enc.Detected(prep.encoding, prep.sha256, prep.size),
                started,
                "unreadable",
                f"{name}: cannot be read as CSV: {e}",
                prep,
            )
        con.execute("BEGIN TRANSACTION")
        try:
            file_id = self._next_id()
            rejects = (
                con.execute(
                    "SELECT line, min(error_type), min(column_name), min(error_message), min(csv_line) FROM rej "
                    "GROUP BY line ORDER BY line"
                ).fetchall()
                if has_rejects
                else []
            )
            reject_positions = [int(line) - prep.first_row - j for j, (line, *_r) in enumerate(rejects)]
            sources, labels = transform.sources_for(rule, prep.header, positions, path.name)
            refs: dict[str, tuple[str, str]] = {}
            for col, (table, rcol) in (transform.checks().get("references") or {}).items():
                if col in sources and table != ent.name:
                    if con.execute(f"SELECT count(*) FROM raw.{q(table)}").fetchone()[0]:
                        refs[col] = (table, rcol)
                    else:
                        notes.append(f"{col} not checked: no {table} loaded yet")
            plan = transform.Plan(
                rule,
                positions,
                len(prep.header),
                prep.has_row_column,
                prep.first_row,
                reject_positions,
                refs,
                self.cfg.pii_key,
                file_id,
                name,
                prep.header,
                sources,
                labels,
                transform.resolve_values(con, rule, sources),
                prep.has_sheet_column,
                transform.first_formats(con, rule, sources),
            )
            # One pass: type, check, hash/mask and append the good rows (no intermediate table).
            # Only a file with failed checks pays a second pass, over its bad rows.
            cols = [c for c, _ in warehouse.stored_columns(ent)]
            n_good = con.execute(
                transform.insert_good_sql(plan, f"raw.{q(ent.name)}", cols),
                {"fid": file_id, "d": rule.export_date(path), "t": datetime.now()},
            ).fetchone()[0]
            n_chk = con.execute("SELECT count(*) FROM stg").fetchone()[0]
            n_bad = n_chk - n_good
            if n_bad:
                con.execute(transform.chk_sql(plan, only_bad=True))
                n_chk_bad = con.execute("SELECT count(*) FROM chk").fetchone()[0]
                if n_chk_bad != n_bad:  # the fast check and the reasons pass must agree row for row
                    raise RuntimeError(
                        f"{name}: {n_bad} row(s) failed the load checks but {n_chk_bad} have "
                        "reasons; nothing of the file was loaded (ingest bug)"
                    )
                con.execute(transform.quarantine_sql(plan), {"file_id": file_id, "file_name": name})
            self._quarantine_rejects(plan, rejects, prep.delimiter)
            self._upsert_current(ent, file_id)
            rows_read = n_chk + len(rejects)
            rows_bad = n_bad + len(rejects)
            absent = self._record_columns(ent, rule, file_id, name, rule.export_date(path), set(sources))
            if absent:
                notes.append(ABSENT_NOTE + ", ".join(absent) + ABSENT_NOTE_ZH)
            self._log(
                file_id=file_id,
                file_name=name,
                sha256=prep.sha256,
                size_bytes=prep.size,
                entity=ent.name,
                source=rule.source,
                mapping=rule.mapping,
                export_date=rule.export_date(path),
                encoding=prep.encoding,
                rows_read=rows_read,
                rows_loaded=n_chk - n_bad,
                rows_quarantined=rows_bad,
                started_at=started,
                finished_at=datetime.now(),
                status="loaded",
                message="; ".join(notes) or None,
            )
            con.execute("DROP TABLE IF EXISTS chk")
            con.execute("DROP TABLE IF EXISTS stg")
            _crash_hook("before_commit", name)
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise
        finally:
            for t in ("chk", "stg", "rej", "rej_scan", "losers"):
                con.execute(f"DROP TABLE IF EXISTS temp.{t}")
        _crash_hook("after_commit", name)
        self._moved(file_id, _move(path, self.archive, rel, self.vault))
        return FileResult(name, "loaded", ent.name, rows_read, n_chk - n_bad, rows_bad, "; ".join(notes))

    def _record_columns(
        self, ent: contract.Entity, rule, file_id: int, name: str, day: date | None, present: set[str]
    ) -> list[str]:
        """One audit.source_columns row per contract column of the file's entity; the absent ones back."""
        rows = [(file_id, ent.name, rule.source, name, day, c.name, c.name in present) for c in ent.columns]
        if rows:  # one statement: executemany prepares and runs one statement per row (~7 ms a file)
            self.con.execute(
                "INSERT INTO audit.source_columns VALUES " + ", ".join("(?, ?, ?, ?, ?, ?, ?)" for _ in rows),
                [v for r in rows for v in r],
            )
        return [c.name for c in ent.columns if c.name not in present]

    def _quarantine_rejects(self, plan: transform.Plan, rejects: list[tuple], delimiter: str = ",") -> None:
        """Lines read_csv could not split into the header's cells."""
        if not rejects:
            return
        from ingest import pii

        pii_pos = {i: pii.kind_of(c) for c, i in plan.positions.items() if plan.entity.column(c).pii}
        rows = []
        import csv as _csv

        for _j, (line, etype, column, emsg, text) in enumerate(rejects):
            text = str(text or "")[:SHOWN_CHARS]  # a line over DuckDB's max_line_size comes whole
            cells = next(_csv.reader([(text.splitlines() or [""])[0]], delimiter=delimiter), [])
            cells = [pii.mask(c, pii_pos[i]) if i in pii_pos else c for i, c in enumerate(cells)]
            shown = pii.mask_free_text(",".join(c or "" for c in cells))
            reason = "truncated_row" if etype == "MISSING COLUMNS" else "malformed_row"
            row = int(line) if not plan.has_row_column else None
            if etype == "LINE SIZE OVER MAXIMUM":
                what = f"the row is longer than {readers.MAX_LINE_SIZE:,} characters and is not read"
            else:
                what = (
                    "the row has fewer cells than the header (cut short?)"
                    if reason == "truncated_row"
                    else f"the CSV reader cannot split the row ({etype}: {str(emsg)[:300]})"
                )
            rows.append(
                (
                    plan.file_id,
                    plan.file_name,
                    row,
                    column,
                    reason,
                    f"{plan.file_name} row {row}: {what}; expected {plan.width} cells like the header",
                    shown,
                )
            )
        self.con.executemany("INSERT INTO audit.quarantine VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def _upsert_current(self, ent: contract.Entity, file_id: int | None, batch: str | None = None) -> None:
        """Keep one version per key in raw.<entity> (the newest); move the others to raw.<entity>_superseded.

        The new rows were appended to raw.<entity>; only keys that already had a version need work, so
        an event file of new keys costs one write (raw.<entity>_history is the view of both tables).
        batch (bulk): a query of the file ids just loaded, instead of the one file_id."""
        key = ent.key
        t, s = q(ent.name), q(ent.name + "_superseded")
        keys = ", ".join(q(k) for k in key)
        on = " AND ".join(f"a.{q(k)} = b.{q(k)}" for k in key)
        new = f"_file_id IN ({batch})" if batch else "_file_id = $f"
        params = {} if batch else {"f": file_id}
        clash = self.con.execute(
            f"SELECT count(*) FROM (SELECT {keys}, _file_id FROM raw.{t} WHERE {new}) a "
            f"JOIN raw.{t} b ON {on} AND b._file_id <> a._file_id",
            params,
        ).fetchone()[0]
        if not clash:
            return
        # Newest version wins: the latest updated_at; a version without one (its export lacked the
        # column) ranks after those with one, and then export order decides: the later business date,
        # the later file, the later row of the file (docs/ingest.md, D-93).
        order = (
            f"{q(VERSION_COLUMN)} DESC NULLS LAST, " if VERSION_COLUMN in ent.column_names else ""
        ) + "coalesce(_export_date, DATE '1900-01-01') DESC, _file_id DESC, _row_number DESC"
        self.con.execute(
            f"CREATE TEMP TABLE losers AS SELECT {keys}, _file_id FROM raw.{t} WHERE ({keys}) IN "
            f"(SELECT ({keys}) FROM raw.{t} WHERE {new}) "
            f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {order}) > 1",
            params,
        )
        on_l = " AND ".join(f"r.{q(k)} = l.{q(k)}" for k in key)
        self.con.execute(
            f"INSERT INTO raw.{s} SELECT r.* FROM raw.{t} r JOIN losers l ON {on_l} AND r._file_id = l._file_id"
        )
        self.con.execute(f"DELETE FROM raw.{t} r USING losers l WHERE {on_l} AND r._file_id = l._file_id")
        self.con.execute("DROP TABLE losers")

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> Summary:
        files = discover(self.landing, self.mappings)
        summary = Summary()
        bar = None
        if self.progress and files:
            from tqdm import tqdm

            bar = tqdm(
                total=sum(p.stat().st_size for p in files),
                unit="B",
                unit_scale=True,
                desc="ingest",
                file=sys.stderr,
                leave=False,
            )
        try:
            for p in files:
                size = p.stat().st_size
                done = 0

                def tick(n: int, size: int = size) -> None:  # bound now: ruff B023
                    nonlocal done
                    if bar is not None and size > (32 << 20):  # big files show progress while transcoding
                        n = min(n, size - done)
                        done += n
                        bar.update(n)

                if bar is not None:
                    bar.set_postfix_str(p.name[-40:])
                summary.results.append(self.ingest_file(p, tick))
                if bar is not None:
                    bar.update(size - done)
        finally:
            if bar is not None:
                bar.close()
        return summary


def ingest(
    landing: Path,
    warehouse_file: Path,
    cfg: IngestConfig,
    archive: Path | None = None,
    rejected: Path | None = None,
    progress: bool = True,
    vault: Vault | None = None,
    encrypt_archive: bool = True,
) -> Summary:
    job = Ingest(landing, warehouse_file, cfg, archive, rejected, progress, vault, encrypt_archive)
    try:
        return job.run()
    finally:
        job.close()

"""Bulk backfill: load many days of exports in one pass per entity and shape (docs/decisions.md D-105).

For loading history — a new installation with months of exports, `kefu rebuild`, a catch-up
after an outage — per-file ingest pays its fixed cost (a read_csv, a planned check query, a
transaction) once per file, thousands of times. Here every file of the batch is screened and
prepared exactly as `kefu ingest` does (fingerprint, already loaded / duplicate, transcode or
XLSX -> CSV, header and mapping; a file that cannot be read is rejected as before), then the
files are grouped by entity, mapping and header shape and each group is staged with ONE
`read_csv([...files], filename = true)` and typed, checked, hashed and appended with ONE pass of
the same SQL the single-file path runs (ingest/transform.py with `Plan.files`: row numbers,
duplicate keys and reference checks stay per file). The whole batch is one transaction:
per-file `audit.load_log` rows, `audit.quarantine` rows, newest-version-wins over every
version of the batch; a kill leaves the warehouse as before the batch, and the rerun completes
it. Files are moved to their archive only after the commit (a run killed in between moves
them on the next run, as for single files).

Each day folder keeps its own landing/archive/rejected (the names in load_log are the names
within the day folder, as the nightly run records them), so a warehouse loaded in bulk equals
one loaded night by night (tests/integration/test_bulk_ingest.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import duckdb

from ingest import readers, transform, warehouse
from ingest.config import IngestConfig
from ingest.loader import ABSENT_NOTE, ABSENT_NOTE_ZH, FileResult, Ingest, Summary, _crash_hook, _move, discover
from ingest.warehouse import q


@dataclass(frozen=True)
class Day:
    """One landing folder (a business date's exports) and where its files go."""

    landing: Path
    archive: Path
    rejected: Path


@dataclass
class _File:
    path: Path
    rel: Path
    day: Day
    started: datetime
    det: object = None
    prep: readers.Prepared | None = None
    result: FileResult | None = None
    file_id: int | None = None
    duplicate_of: str | None = None  # same bytes as a file loaded before or earlier in this batch
    reject: tuple[str, str] | None = None  # (reason, message): the file cannot be loaded


@dataclass
class _Group:
    """Files of one entity, mapping and header shape: staged together."""

    n: int
    files: list[_File]
    stg: str = ""
    rejects: dict[str, list[tuple]] = field(default_factory=dict)  # csv path -> read_csv rejects
    starts: dict[str, tuple[int, int]] = field(default_factory=dict)  # csv path -> (first rowid, rows)

    @property
    def first(self) -> readers.Prepared:
        return self.files[0].prep


class BulkIngest(Ingest):
    """`Ingest` over many landing folders at once; see the module docstring."""

    def __init__(
        self,
        days: list[Day],
        warehouse_file: Path,
        cfg: IngestConfig,
        progress: bool = False,
        vault=None,
        encrypt_archive: bool = True,
    ):
        if not days:
            raise ValueError("bulk ingest: no day folders given")
        super().__init__(
            days[0].landing, warehouse_file, cfg, days[0].archive, days[0].rejected, progress, vault, encrypt_archive
        )
        self.days = [Day(d.landing.resolve(), d.archive.resolve(), d.rejected.resolve()) for d in days]

    def _at(self, day: Day) -> None:
        """Point the single-file machinery (_move, _reject, names) at one day folder."""
        self.landing, self.archive, self.rejected = day.landing, day.archive, day.rejected

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> Summary:
        files: list[_File] = []
        for day in self.days:
            if day.landing.is_dir():
                files += [
                    _File(p, p.relative_to(day.landing), day, datetime.now())
                    for p in discover(day.landing, self.mappings)
                ]
        try:
            batch = self._prepare(files)
            groups = self._group(batch)
            for g in groups:
                self._stage(g)
            if batch:
                self._load_batch(batch, groups)
        finally:
            for f in files:
                if f.prep is not None:
                    f.prep.cleanup()
            for t in [
                r[0]
                for r in self.con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE 'bulk\\_%' ESCAPE '\\'"
                ).fetchall()
            ]:
                self.con.execute(f"DROP TABLE IF EXISTS temp.{q(t)}")
        return Summary([f.result for f in files])

    def _prepare(self, files: list[_File]) -> list[_File]:
        """Fingerprint, screen and prepare every file as `ingest_file` does; the files of the batch
        (to load, or to log as duplicate or rejected inside the batch's transaction, in load order)."""
        batch: list[_File] = []
        first_by_sha: dict[str, str] = {}
        for f in files:
            f.det = readers.fingerprint(f.path)
        logged: dict[str, list[tuple]] = {}  # what audit.load_log knows of these contents (one query)
        for sha, *row in self.con.execute(
            "SELECT sha256, status, file_name, moved_to, file_id FROM audit.load_log WHERE sha256 IN "
            "(SELECT unnest(?)) AND status IN ('loaded', 'rejected', 'duplicate') ORDER BY file_id",
            [sorted({f.det.sha256 for f in files})],
        ).fetchall():
            logged.setdefault(sha, []).append(tuple(row))
        for f in files:
            self._at(f.day)
            name = f.rel.as_posix()
            seen = logged.get(f.det.sha256, [])
            if any(n == name and moved is None and st != "duplicate" for st, n, moved, _ in seen):
                f.result = self._screen(f.path, f.rel, f.det, f.started)  # committed, not yet moved: move it
                continue
            dup = next((fid for st, n, moved, fid in seen if st == "duplicate" and n == name and moved is None), None)
            if dup is not None:  # a batch's duplicate, committed, not yet moved
                self._moved(dup, _move(f.path, self.archive, f.rel, self.vault))
                f.result = FileResult(name, "archived", message=f"{name}: already duplicate, moved")
                continue
            batch.append(f)
            first = next((n for st, n, _, _ in seen if st == "loaded"), None) or first_by_sha.get(f.det.sha256)
            if first is not None:  # the same bytes loaded before or earlier in this batch: a no-op
                f.duplicate_of = first
                continue
            try:
                f.prep = readers.prepare(f.path, f.det, self.mappings, self.tmp)
            except readers.FileRejected as e:
                f.reject = (e.reason, e.message)
                continue
            first_by_sha[f.det.sha256] = name
        return batch

    @staticmethod
    def _group(batch: list[_File]) -> list[_Group]:
        """Groups in load order: by the contract's entity order (reference lists before events), then
        mapping and header shape; files within a group in batch (date, name) order."""
        from kefu import contract

        order = {name: i for i, name in enumerate(contract.load())}
        by: dict[tuple, list[_File]] = {}
        for f in batch:
            if f.prep is None:
                continue
            p = f.prep
            per_file = f.rel.as_posix() if any(d.kind == "file_name" for d in p.rule.derived.values()) else ""
            by.setdefault(
                (
                    order.get(p.rule.entity, 99),
                    p.rule.entity,
                    p.rule.mapping,
                    p.has_row_column,
                    p.has_sheet_column,
                    p.skip,
                    p.delimiter,
                    p.quote,
                    p.escape,
                    tuple(p.header),
                    per_file,
                ),
                [],
            ).append(f)
        return [_Group(i, fs) for i, (_, fs) in enumerate(sorted(by.items(), key=lambda kv: kv[0][:3]))]

    # --- staging (before the transaction: rowids are then file order) -----------------------

    def _read(self, p: readers.Prepared, paths: list[str]) -> str:
        cols = (
            (["_row"] if p.has_row_column else [])
            + (["_sheet"] if p.has_sheet_column else [])
            + [f"c{i}" for i in range(len(p.header))]
        )
        spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
        return (
            f"read_csv([{', '.join(transform.lit(x) for x in paths)}], header = true, skip = {p.skip}, "
            f"auto_detect = false, columns = {spec}, delim = {transform.lit(p.delimiter)}, "
            f"quote = {transform.lit(p.quote)}, escape = {transform.lit(p.escape)}, "
            f"max_line_size = {readers.MAX_LINE_SIZE}, filename = true"
        )

    def _try_stage(self, g: _Group, paths: list[str], table: str, create: bool) -> None:
        """Append the files' rows to `table`: strict first, with store_rejects only when needed."""
        con, read = self.con, self._read(g.first, paths)
        into = f"CREATE TEMP TABLE {table} AS" if create else f"INSERT INTO {table}"
        try:
            con.execute(f"{into} SELECT * FROM {read})")
            return
        except duckdb.Error:
            if create:
                con.execute(f"DROP TABLE IF EXISTS temp.{table}")
        con.execute(
            f"{into} SELECT * FROM {read}, store_rejects = true, rejects_table = 'bulk_rej', "
            "rejects_scan = 'bulk_rej_scan')"
        )
        for path, *rest in con.execute(
            "SELECT s.file_path, r.line, min(r.error_type), min(r.column_name), min(r.error_message), "
            "min(r.csv_line) FROM bulk_rej r JOIN bulk_rej_scan s USING (scan_id, file_id) "
            "GROUP BY ALL ORDER BY 1, 2"
        ).fetchall():
            g.rejects.setdefault(path, []).append(tuple(rest))
        con.execute("DROP TABLE IF EXISTS temp.bulk_rej")
        con.execute("DROP TABLE IF EXISTS temp.bulk_rej_scan")

    def _stage(self, g: _Group) -> None:
        """One read_csv over the group's files into temp table bulk_stg_<n>; when that fails (a file
        DuckDB cannot read as CSV at all), file by file, rejecting the unreadable ones as
        `ingest_file` does."""
        con = self.con
        g.stg = f"bulk_stg_{g.n}"
        con.execute("SET preserve_insertion_order = true")
        try:
            self._try_stage(g, [str(f.prep.csv_path) for f in g.files], g.stg, create=True)
        except duckdb.Error:
            con.execute(f"DROP TABLE IF EXISTS temp.{g.stg}")
            g.rejects.clear()
            created = False
            for f in g.files:
                try:
                    self._try_stage(g, [str(f.prep.csv_path)], g.stg, create=not created)
                    created = True
                except duckdb.Error as e:
                    f.reject = ("unreadable", f"{f.rel.as_posix()}: cannot be read as CSV: {e}")
            g.files = [f for f in g.files if f.reject is None]
        finally:
            con.execute("SET preserve_insertion_order = false")
        if g.files:
            for path, start, n in con.execute(
                f"SELECT filename, min(rowid), count(*) FROM {g.stg} GROUP BY 1"
            ).fetchall():
                g.starts[path] = (int(start), int(n))

    # --- the batch: one transaction ---------------------------------------------------------

    def _load_batch(self, batch: list[_File], groups: list[_Group]) -> None:
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            # ids in load order, as night-by-night loads give them (newest-wins ties): one query
            ids = [
                int(r[0])
                for r in con.execute(
                    "SELECT nextval('audit.file_id_seq') AS i FROM range(?) ORDER BY i", [len(batch)]
                ).fetchall()
            ]
            for f, fid in zip(batch, ids, strict=True):
                f.file_id = fid
                self._at(f.day)
                if f.reject is not None:
                    f.result = self._reject(
                        f.path, f.rel, f.det, f.started, *f.reject, f.prep, file_id=f.file_id, move=False
                    )
                elif f.duplicate_of is not None:
                    f.result = self._duplicate(
                        f.path, f.rel, f.det, f.started, f.duplicate_of, move=False, file_id=f.file_id
                    )
            self._pending_log: list[dict] = []
            for g in groups:
                if g.files:
                    self._load_group(g)
                    _crash_hook("bulk_group", g.first.rule.entity)
            self._log_many(self._pending_log)
            for f in batch:
                _crash_hook("before_commit", f.rel.as_posix())
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise
        moved = []
        try:
            for f in batch:
                _crash_hook("after_commit", f.rel.as_posix())
                self._at(f.day)
                to, vault = (self.rejected, None) if f.reject else (self.archive, self.vault)
                moved.append((f.file_id, str(_move(f.path, to, f.rel, vault))))
        finally:  # one UPDATE for the batch (a kill in between: the next run moves what is left)
            self._moved_many(moved)

    def _log_many(self, rows: list[dict]) -> None:
        """audit.load_log rows of many files in one INSERT."""
        if rows:
            self._insert_values("audit.load_log", list(rows[0]), [list(r.values()) for r in rows])

    def _moved_many(self, moved: list[tuple[int, str]]) -> None:
        if not moved:
            return
        self.con.execute("CREATE TEMP TABLE bulk_moved (file_id BIGINT, moved_to VARCHAR)")
        self._insert_values("bulk_moved", ["file_id", "moved_to"], [list(m) for m in moved])
        self.con.execute(
            "UPDATE audit.load_log l SET moved_to = m.moved_to FROM bulk_moved m WHERE l.file_id = m.file_id"
        )
        self.con.execute("DROP TABLE bulk_moved")

    def _insert_values(self, table: str, cols: list[str], rows: list[list]) -> None:
        """INSERT many rows with one statement: one list parameter per column, unnested side by side
        and typed as the table's columns (a bound parameter per value costs ~20 µs in DuckDB; a
        year's batch logs 4,000 files of 16 values)."""
        if not rows:
            return
        schema, _, name = table.rpartition(".")
        types = dict(
            self.con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                "AND schema_name = coalesce(nullif(?, ''), schema_name)",
                [name, schema],
            ).fetchall()
        )
        self.con.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) SELECT "
            + ", ".join(f"unnest(CAST(? AS {types[c]}[]))" for c in cols),
            [[r[i] for r in rows] for i in range(len(cols))],
        )

    def _record_group_columns(self, ent, rule, files: str, present: set[str]) -> list[str]:
        """`_record_columns` for every file of a group in one statement (the files of a group share
        their header, so their columns); the absent columns back."""
        cols = ", ".join(
            f"({i}, {transform.lit(c.name)}, {str(c.name in present).lower()})" for i, c in enumerate(ent.columns)
        )
        if cols:
            self.con.execute(
                f"INSERT INTO audit.source_columns SELECT f._fid, {transform.lit(ent.name)}, "
                f"{transform.lit(rule.source) if rule.source is not None else 'NULL'}, f._fname, f._fdate, c.name, c.present FROM {files} f, "
                f"(VALUES {cols}) c(i, name, present) ORDER BY f._fid, c.i"
            )
        return [c.name for c in ent.columns if c.name not in present]

    def _load_group(self, g: _Group) -> None:
        con = self.con
        p0 = g.first
        rule = p0.rule
        ent = rule.contract_entity
        positions, extra = readers.header_positions(p0)
        notes: dict[int, list[str]] = {id(f): list(f.prep.notes) for f in g.files}
        if extra:
            for n in notes.values():
                n.append("ignored extra column(s) not in the contract: " + ", ".join(extra) + " / 已忽略多余列")
        # the rows of each file before which an unsplittable line sat (as _load computes them)
        reject_pos: dict[str, list[int]] = {
            path: [int(line) - p0.first_row - j for j, (line, *_r) in enumerate(rows)]
            for path, rows in g.rejects.items()
        }
        files = f"bulk_files_{g.n}"
        con.execute(
            f"CREATE TEMP TABLE {files} (filename VARCHAR, _fid BIGINT, _fname VARCHAR, _fdate DATE, "
            "_fstart BIGINT, _rejects BIGINT[])"
        )
        self._insert_values(
            files,
            ["filename", "_fid", "_fname", "_fdate", "_fstart", "_rejects"],
            [
                (
                    str(f.prep.csv_path),
                    f.file_id,
                    f.rel.as_posix(),
                    rule.export_date(f.path),
                    g.starts.get(str(f.prep.csv_path), (0, 0))[0],
                    reject_pos.get(str(f.prep.csv_path), []),
                )
                for f in g.files
            ],
        )
        # constants and derived columns as the single-file path gives them (a file-name value: one file a group)
        sources, labels = transform.sources_for(rule, p0.header, positions, g.files[0].path.name)
        refs: dict[str, tuple[str, str]] = {}
        for col, (table, rcol) in (transform.checks().get("references") or {}).items():
            if col in sources and table != ent.name:
                first_seen = con.execute(f"SELECT min(_export_date) FROM raw.{q(table + '_history')}").fetchone()[0]
                if first_seen is not None:
                    refs[col] = (table, rcol)
                for f in g.files:  # a file older than every list of `table`: not checked, as alone
                    d = rule.export_date(f.path) or date.max
                    if first_seen is None or d < first_seen:
                        notes[id(f)].append(f"{col} not checked: no {table} loaded yet")
        plan = transform.Plan(
            rule,
            positions,
            len(p0.header),
            p0.has_row_column,
            p0.first_row,
            [],
            refs,
            self.cfg.pii_key,
            0,
            "",
            p0.header,
            sources,
            labels,
            transform.resolve_values(con, rule, sources, g.stg),
            p0.has_sheet_column,
            transform.first_formats(con, rule, sources, g.stg),
            stg=g.stg,
            files=files,
            any_rejects=bool(g.rejects),
        )
        cols = [c for c, _ in warehouse.stored_columns(ent)]
        t = f"raw.{q(ent.name)}"
        batch_ids = f"SELECT _fid FROM {files}"
        con.execute(transform.insert_good_sql(plan, t, cols), {"t": datetime.now()})
        good = dict(
            con.execute(f"SELECT _file_id, count(*) FROM {t} WHERE _file_id IN ({batch_ids}) GROUP BY 1").fetchall()
        )
        total = {f.file_id: g.starts.get(str(f.prep.csv_path), (0, 0))[1] for f in g.files}
        bad = {fid: n - good.get(fid, 0) for fid, n in total.items()}
        if any(bad.values()):
            con.execute(transform.chk_sql(plan, only_bad=True))
            reasons = dict(con.execute("SELECT _fid, count(*) FROM chk GROUP BY 1").fetchall())
            for f in g.files:
                if reasons.get(f.file_id, 0) != bad[f.file_id]:
                    raise RuntimeError(
                        f"{f.rel.as_posix()}: {bad[f.file_id]} row(s) failed the load checks but "
                        f"{reasons.get(f.file_id, 0)} have reasons; nothing of the batch was "
                        "loaded (ingest bug)"
                    )
            con.execute(transform.quarantine_sql(plan))
            con.execute("DROP TABLE chk")
        absent = self._record_group_columns(ent, rule, files, set(sources))
        for f in g.files:
            rejects = g.rejects.get(str(f.prep.csv_path), [])
            self._quarantine_rejects(
                replace(plan, file_id=f.file_id, file_name=f.rel.as_posix(), files=None), rejects, p0.delimiter
            )
            n, b = total[f.file_id], bad[f.file_id]
            if absent:
                notes[id(f)].append(ABSENT_NOTE + ", ".join(absent) + ABSENT_NOTE_ZH)
            msg = "; ".join(notes[id(f)]) or None
            self._pending_log.append(
                dict(
                    file_id=f.file_id,
                    file_name=f.rel.as_posix(),
                    sha256=f.prep.sha256,
                    size_bytes=f.prep.size,
                    entity=ent.name,
                    source=rule.source,
                    mapping=rule.mapping,
                    export_date=rule.export_date(f.path),
                    encoding=f.prep.encoding,
                    rows_read=n + len(rejects),
                    rows_loaded=n - b,
                    rows_quarantined=b + len(rejects),
                    started_at=f.started,
                    finished_at=datetime.now(),
                    status="loaded",
                    message=msg,
                )
            )
            f.result = FileResult(
                f.rel.as_posix(), "loaded", ent.name, n + len(rejects), n - b, b + len(rejects), msg or ""
            )
        self._upsert_current(ent, None, batch=batch_ids)
        con.execute(f"DROP TABLE {files}")
        con.execute(f"DROP TABLE {g.stg}")


def bulk_ingest(
    days: list[Day],
    warehouse_file: Path,
    cfg: IngestConfig,
    progress: bool = False,
    vault=None,
    encrypt_archive: bool = True,
) -> Summary:
    """Load every file of `days` in one batch (see the module docstring)."""
    job = BulkIngest(days, warehouse_file, cfg, progress, vault, encrypt_archive)
    try:
        summary = job.run()
    finally:
        job.close()
    return summary


def bulk_landing(
    landing: Path,
    warehouse_file: Path,
    cfg: IngestConfig,
    archive: Path | None = None,
    rejected: Path | None = None,
    progress: bool = False,
) -> Summary:
    """`kefu ingest --bulk`: the files under `landing` as one batch, named and archived as
    `kefu ingest` names them (relative to `landing`)."""
    landing = landing.resolve()
    return bulk_ingest(
        [Day(landing, archive or landing.parent / "archive", rejected or landing.parent / "rejected")],
        warehouse_file,
        cfg,
        progress,
    )


def day_batch(landing: Path, archive: Path, rejected: Path, days: list[date]) -> list[Day]:
    """The day folders landing/D of `days` (each archived to archive/D, rejected to rejected/D),
    as the nightly run of D ingests them."""
    return [Day(landing / d.isoformat(), archive / d.isoformat(), rejected / d.isoformat()) for d in days]

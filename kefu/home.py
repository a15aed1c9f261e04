"""The folders of one installation (KEFU_HOME) and the published, read-only warehouse.

$KEFU_HOME/
  landing/YYYY-MM-DD/…        the exports of each business date (input)
  archive/ rejected/          ingested (encrypted) / refused export files, 0700 (kefu/vault.py)
  secrets/pii.key             the archive key (0600; docs/security.md)
  warehouse/kefu.duckdb       the working warehouse: only the nightly writer tasks open it
  published/kefu.duckdb       the copy dashboards, reports and analysts read (read-only);
                              replaced atomically (os.replace) after the gates passed
  published/manifest.json     which business date / run the published copy holds (a copy of the
                              manifest inside the file, table audit.publication: that one is the truth)
  published/assessment/YYYY-MM/   the closed month: assessment tables + reports (月度考核)
  logs/YYYY-MM-DD/<run>/      one folder per run of a business date (or month): summary.txt and
                              the run's Great Expectations Data Docs (data_docs/*/index.html)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

DEFAULT_HOME = Path("out/kefu_home")
# The Airflow pool of the one writer slot of the working warehouse (nightly and backfill DAGs, the runner).
POOL = "kefu_warehouse"


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def from_env(cls, root: str | Path | None = None) -> Home:
        return cls(Path(root or os.environ.get("KEFU_HOME") or DEFAULT_HOME).resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def rejected(self) -> Path:
        return self.root / "rejected"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "kefu.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.root / "published"

    @property
    def published(self) -> Path:
        return self.published_dir / "kefu.duckdb"

    @property
    def manifest(self) -> Path:
        return self.published_dir / "manifest.json"

    def assessment_dir(self, month: str) -> Path:
        return self.published_dir / "assessment" / month

    def run_dir(self, key: str, run_id: str) -> Path:
        """logs/<business date or month>/<run id>/: the run's summary and Data Docs."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
        return self.logs / key / safe

    @property
    def logs(self) -> Path:
        return self.root / "logs"


def published_path(path: str | Path | None = None) -> Path:
    """The published warehouse: an explicit path, else $KEFU_PUBLISHED, else $KEFU_HOME/published/kefu.duckdb."""
    if path:
        return Path(path)
    if os.environ.get("KEFU_PUBLISHED"):
        return Path(os.environ["KEFU_PUBLISHED"])
    return Home.from_env().published


def connect_published(path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only, sandboxed connection to the published warehouse (kefu.sandbox: no other file can be
    read or written); never blocks, never blocked by, the nightly run.

    A long-running reader must close it before connecting again after a publish: while any
    connection to a path is open, DuckDB hands a new connect(path) the instance it already has —
    the replaced file (duckdb/duckdb#15912; dashboards/data.py keeps one connection per file identity)."""
    from kefu import sandbox

    return sandbox.connect(published_path(path))


MANIFEST_TABLE = "audit.publication"  # inside the published file: the manifest of that very file


def embedded_manifest(published_file: Path) -> dict | None:
    """The manifest publish wrote into the published file before switching it in (None: an older file
    without one, or no file). It changes with the file in one rename, so it always describes it."""
    p = Path(published_file)
    try:
        if not p.exists() or p.stat().st_size == 0:
            return None
        from kefu import sandbox  # a reader of the published file: through the sandbox like every reader

        con = sandbox.connect(p)
    except (OSError, duckdb.Error):
        return None
    try:
        schema, table = MANIFEST_TABLE.split(".")
        if not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
        ).fetchone()[0]:
            return None
        row = con.execute(f"SELECT manifest FROM {MANIFEST_TABLE}").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    if row is None:
        return None
    m = json.loads(row[0])
    if "bytes" in m:  # the file's own size cannot be written into it: taken from the file
        m["bytes"] = p.stat().st_size
    return m


def read_manifest(published_file: Path) -> dict:
    """Which business date / run the published file holds: its embedded manifest, else (a file published
    before manifests were embedded) published/manifest.json beside it."""
    embedded = embedded_manifest(published_file)
    if embedded is not None:
        return embedded
    m = Path(published_file).with_name("manifest.json")
    return json.loads(m.read_text(encoding="utf-8")) if m.exists() else {}

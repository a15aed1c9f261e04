"""The folders of one installation (KEFU_HOME) and the published, read-only warehouse.

    $KEFU_HOME/
      landing/YYYY-MM-DD/…        the exports of each business date (input)
      archive/ rejected/          ingested (encrypted) / refused export files, 0700 (kefu/vault.py)
      secrets/pii.key             the archive key (0600; docs/security.md)
      warehouse/kefu.duckdb       the working warehouse: only the nightly writer tasks open it
      published/kefu.duckdb       the copy dashboards, reports and analysts read (read-only);
                                  replaced atomically (os.replace) after the gates passed
      published/manifest.json     which business date / run the published copy holds
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


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def from_env(cls, root: str | Path | None = None) -> "Home":
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


def read_manifest(published_file: Path) -> dict:
    m = Path(published_file).with_name("manifest.json")
    return json.loads(m.read_text(encoding="utf-8")) if m.exists() else {}

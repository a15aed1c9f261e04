"""Publishing: readers get a complete copy of the working warehouse or the previous one (D-74),
and the analysts' dbt docs site generated against it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import duckdb

from kefu import build
from kefu.home import MANIFEST_TABLE, Home, embedded_manifest, read_manifest
from kefu.pipeline.common import _state, _write_json_atomic


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

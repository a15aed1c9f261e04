"""Clear-PII exports at rest (kefu/vault.py, decisions D-97): private folders and files, the archive
encrypted (no clear phone or ID number in any archived file), decrypted by `kefu rebuild` only,
key rotation, retention with every deletion logged."""

import hashlib
import json
import os
import re
import stat
from datetime import date
from pathlib import Path

import duckdb
import pytest

from generator import samples
from ingest import config
from ingest.loader import ingest
from kefu import pipeline, vault
from kefu.cli import main
from kefu.home import Home

DAY = date(2026, 3, 5)
PHONE = re.compile(rb"1[3-9][0-9]{9}")
ID_NUMBER = re.compile(rb"[1-9][0-9]{16}[0-9Xx]")


def mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def archived(tmp_path):
    """A day of exports with customers' clear phone and ID numbers, ingested: (home, clear copies)."""
    landing = tmp_path / "landing"
    files = samples.write_day(landing, DAY, {"districts": 3, "technicians": 5, "customers": 40, "tickets": 20})
    clear = {p.name: p.read_bytes() for p in files}
    s = ingest(landing, tmp_path / "warehouse" / "kefu.duckdb", config.load(None, demo_key=True), progress=False)
    assert s.count("loaded") == len(files), str(s)
    return tmp_path, clear


def test_archived_exports_hold_no_clear_phone_or_id_number(archived):
    home, clear = archived
    customers = next(v for k, v in clear.items() if k.startswith("客户资料"))
    assert PHONE.search(customers) and ID_NUMBER.search(customers)  # the export did hold them
    files = [p for p in (home / "archive").rglob("*") if p.is_file()]
    assert sorted(p.name for p in files) == sorted(clear)  # names kept
    for p in files:
        body = p.read_bytes()
        assert vault.is_encrypted(p)
        assert not PHONE.search(body) and not ID_NUMBER.search(body), p
        assert not any(name.encode("utf-8") in body for name in samples.SURNAMES)


def test_archive_folders_are_private_and_the_key_lives_outside_the_warehouse(archived):
    home, _ = archived
    for p in [home / "archive", *(home / "archive").rglob("*"), home / "landing"]:
        assert mode(p) == (0o700 if p.is_dir() else 0o600), p
    key = home / "secrets" / "pii.key"
    assert mode(key) == 0o600 and mode(key.parent) == 0o700
    assert key.parent != (home / "warehouse") and not (home / "warehouse" / "pii.key").exists()


def test_rejected_files_are_private(tmp_path):
    landing = tmp_path / "landing" / DAY.isoformat()
    landing.mkdir(parents=True)
    (landing / "话务详单_20260305.csv").write_bytes(b"\x00\x01 not a csv at all \xff\xfe")
    ingest(tmp_path / "landing", tmp_path / "w.duckdb", config.load(None, demo_key=True), progress=False)
    files = [p for p in (tmp_path / "rejected").rglob("*") if p.is_file()]
    assert files and all(mode(p) == 0o600 for p in files)
    assert all(mode(p) == 0o700 for p in (tmp_path / "rejected").rglob("*") if p.is_dir())


def test_restore_gives_back_the_exact_exports_and_refuses_an_altered_file(archived, tmp_path):
    home, clear = archived
    out = tmp_path / "restored"
    v = vault.Vault.for_home(home)
    assert vault.restore_tree(v, home / "archive", out) == len(clear)
    for name, body in clear.items():
        assert next(out.rglob(name)).read_bytes() == body
    victim = next((home / "archive").rglob("客户资料*"))
    data = bytearray(victim.read_bytes())
    data[len(vault.MAGIC) + 40] ^= 1
    victim.write_bytes(bytes(data))
    with pytest.raises(vault.VaultError, match="does not decrypt"):
        v.decrypt_file(victim, tmp_path / "x.csv")


def test_a_big_file_is_chunked_and_a_dropped_chunk_is_noticed(tmp_path, monkeypatch):
    monkeypatch.setattr(vault, "CHUNK", 1000)
    src = tmp_path / "big.csv"
    src.write_bytes(os.urandom(3500))
    v = vault.Vault(tmp_path / "k" / "pii.key")
    enc = v.encrypt_file(src, tmp_path / "big.enc")
    assert v.decrypt_file(enc, tmp_path / "back.csv").read_bytes() == src.read_bytes()
    tokens = list(v._tokens(enc))
    assert len(tokens) == 4
    import struct

    cut = tmp_path / "cut.enc"
    cut.write_bytes(vault.MAGIC + b"".join(struct.pack(">I", len(t)) + t for t in tokens[:3]))
    with pytest.raises(vault.VaultError, match="cut short"):
        v.decrypt_file(cut, tmp_path / "x")
    swapped = tmp_path / "swapped.enc"
    swapped.write_bytes(
        vault.MAGIC + b"".join(struct.pack(">I", len(t)) + t for t in [tokens[1], tokens[0], *tokens[2:]])
    )
    with pytest.raises(vault.VaultError, match="out of order"):
        v.decrypt_file(swapped, tmp_path / "x")


def test_key_rotation_re_encrypts_every_archived_file(archived, tmp_path, monkeypatch):
    home, clear = archived
    key = home / "secrets" / "pii.key"
    old_key = key.read_text()
    before = {p: sha(p) for p in (home / "archive").rglob("*") if p.is_file()}
    monkeypatch.setenv("KEFU_HOME", str(home))
    assert main(["keys", "rotate"]) == 0
    assert key.read_text() != old_key and len(key.read_text().split()) == 1 and mode(key) == 0o600
    for p, digest in before.items():
        assert sha(p) != digest and mode(p) == 0o600
    vault.restore_tree(vault.Vault(key), home / "archive", tmp_path / "after")
    for name, body in clear.items():
        assert next((tmp_path / "after").rglob(name)).read_bytes() == body
    old = tmp_path / "old.key"
    old.write_text(old_key)
    with pytest.raises(vault.VaultError):  # the old key opens nothing any more
        vault.Vault(old).decrypt_file(next(iter(before)), tmp_path / "x")


def test_retention_deletes_old_archived_days_and_logs_each(tmp_path):
    for folder in ("archive/2026-01-01", "archive/2026-02-03", "archive/2026-02-04", "rejected/2026-01-02"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "话务详单.csv").write_text("x")
    # 2026-03-05 minus 30 days is 2026-02-03: kept; older days go
    deleted = vault.prune_archive(tmp_path, 30, today=DAY)
    assert sorted(Path(d).name for d in deleted) == ["2026-01-01", "2026-01-02"]
    assert sorted(p.name for p in (tmp_path / "archive").iterdir()) == ["2026-02-03", "2026-02-04"]
    log = tmp_path / "logs" / "archive_retention.jsonl"
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert [(x["business_date"], x["files"], x["retention_days"]) for x in lines] == [
        ("2026-01-01", 1, 30),
        ("2026-01-02", 1, 30),
    ]
    assert mode(log) == 0o600
    assert vault.prune_archive(tmp_path, None, today=DAY) == []


@pytest.mark.parametrize("value", [0, -3, "30", 1.5, True])
def test_a_bad_retention_setting_is_refused(tmp_path, value):
    cfg = tmp_path / "ingest.yml"
    cfg.write_text(f"pii_demo_key: true\narchive_retention_days: {json.dumps(value)}\n")
    with pytest.raises(config.ConfigError, match="archive_retention_days"):
        config.load(cfg)


def test_the_nightly_ingest_applies_the_retention(tmp_path):
    home = Home(tmp_path)
    samples.write_day(home.landing, DAY, {"districts": 2, "technicians": 2})
    old = home.archive / "2025-12-01"
    old.mkdir(parents=True)
    (old / "客户资料_20251201.csv").write_text("x")
    cfg = tmp_path / "ingest.yml"
    cfg.write_text("pii_demo_key: true\narchive_retention_days: 60\n")
    step = pipeline.ingest_day(home, DAY, config=cfg)
    assert step["loaded"] == 2 and step["archive_deleted"] == 1 and not old.exists()
    assert all(mode(d) == 0o700 for d in (home.landing, home.archive, home.rejected, home.archive / DAY.isoformat()))
    assert all(vault.is_encrypted(p) for p in (home.archive / DAY.isoformat()).iterdir())


def test_rebuild_reads_the_encrypted_archive(archived, monkeypatch):
    """kefu rebuild ingests a decrypted copy of every archived day (the build and gates stubbed out:
    they run on the warehouse, not on files), and leaves no clear copy behind."""
    home, clear = archived
    root = home
    calls = {}

    def build_day(h, day, target_path=None, data_tests=False):
        calls["rows"] = (
            duckdb.connect(str(h.warehouse), read_only=True).execute("select count(*) from raw.customers").fetchone()[0]
        )
        (h.warehouse.parent / pipeline.STATE_FILE).write_text("{}")
        return {}

    monkeypatch.setattr(pipeline, "build_day", build_day)
    for step in ("contract_gate", "threshold_check", "publish"):
        monkeypatch.setattr(pipeline, step, lambda *a, **k: {})
    with duckdb.connect(str(Home(root).warehouse), read_only=True) as c:
        before = c.execute("select count(*) from raw.customers").fetchone()[0]
    rep = pipeline.rebuild(Home(root), demo_key=True)
    assert rep.steps["ingest"]["files"] == len(clear) and calls["rows"] == before > 0
    assert not list(root.glob(".rebuild.*"))  # the decrypted scratch copy is gone
    assert all(vault.is_encrypted(p) for p in (root / "archive").rglob("*") if p.is_file())

"""Clear-PII exports at rest (decisions D-97): private folders and files, the archive encrypted,
a retention period.

- `private_dir` / `private_file`: the one place that sets permissions — folders 0700, files 0600
  (landing, archive, rejected, the key, the access log).
- `Vault`: the archive key, a Fernet key (`cryptography`) kept outside the warehouse in
  $KEFU_HOME/secrets/pii.key (or the file $KEFU_ARCHIVE_KEY_FILE), generated 0600 on first use.
  The file holds one key per line, the first encrypts, all decrypt (MultiFernet) — which makes
  rotation (`kefu keys rotate`) safe to interrupt: the new key is prepended, every archived file
  re-encrypted, and only then the old key dropped.
- An archived export keeps its name; its bytes are MAGIC, then chunks of at most CHUNK bytes,
  each a Fernet token (length-prefixed) of (chunk index, last-chunk flag, data): memory stays
  bounded for big exports and chunks cannot be dropped, reordered or cut off unnoticed.
- `restore_tree`: the copy of an archived day that `kefu rebuild` ingests, decrypted into its
  private scratch folder (the only reader of the archive).
- `prune_archive`: day folders of the archive and rejected folders older than
  `archive_retention_days` are deleted, each deletion a line of logs/archive_retention.jsonl.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from datetime import UTC, date, datetime
from pathlib import Path

MAGIC = b"KEFU-FERNET-1\n"
CHUNK = 8 << 20
KEY_ENV = "KEFU_ARCHIVE_KEY_FILE"


class VaultError(RuntimeError):
    """The archive key or an encrypted file cannot be used (the message says which and why)."""


def private_dir(path: str | Path) -> Path:
    """Create PATH (and missing parents) readable by the service user only (0700)."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    for p in [path, *missing]:
        os.chmod(p, 0o700)
    return path


def private_file(path: str | Path) -> Path:
    os.chmod(path, 0o600)
    return Path(path)


class Vault:
    def __init__(self, key_file: str | Path):
        self.key_file = Path(key_file)

    @classmethod
    def for_home(cls, root: str | Path) -> Vault:
        return cls(os.environ.get(KEY_ENV) or Path(root) / "secrets" / "pii.key")

    def keys(self, create: bool = True) -> list[bytes]:
        from cryptography.fernet import Fernet

        if not self.key_file.exists():
            if not create:
                raise VaultError(
                    f"archive key {self.key_file} does not exist: the archive cannot be decrypted / 找不到归档密钥"
                )
            private_dir(self.key_file.parent)
            self._write_keys([Fernet.generate_key()])
        keys = [line.strip().encode() for line in self.key_file.read_text().splitlines() if line.strip()]
        if not keys:
            raise VaultError(f"archive key file {self.key_file} holds no key")
        return keys

    def _write_keys(self, keys: list[bytes]) -> None:
        tmp = self.key_file.with_name(self.key_file.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("".join(k.decode() + "\n" for k in keys))
        os.replace(tmp, self.key_file)
        private_file(self.key_file)

    def fernet(self, create: bool = True):
        from cryptography.fernet import Fernet, MultiFernet

        try:
            return MultiFernet([Fernet(k) for k in self.keys(create)])
        except ValueError as exc:
            raise VaultError(f"archive key file {self.key_file}: not a Fernet key ({exc})") from None

    # --- files ---------------------------------------------------------------------------------

    def encrypt_file(self, src: Path, dst: Path) -> Path:
        """Write SRC encrypted to DST (0600; through a temporary name); SRC is left as it is."""
        f = self.fernet()
        tmp = dst.with_name(f".{dst.name}.enc.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(src, "rb") as inp, os.fdopen(fd, "wb") as out:
            out.write(MAGIC)
            index, chunk = 0, inp.read(CHUNK)
            while True:
                following = inp.read(CHUNK)
                token = f.encrypt(struct.pack(">Q?", index, not following) + chunk)
                out.write(struct.pack(">I", len(token)) + token)
                if not following:
                    break
                index, chunk = index + 1, following
        os.replace(tmp, dst)
        return private_file(dst)

    def _tokens(self, path: Path):
        with open(path, "rb") as inp:
            if inp.read(len(MAGIC)) != MAGIC:
                raise VaultError(f"{path}: not an encrypted archive file")
            while head := inp.read(4):
                (n,) = struct.unpack(">I", head)
                token = inp.read(n)
                if len(token) != n:
                    raise VaultError(f"{path}: cut short")
                yield token

    def decrypt_file(self, src: Path, dst: Path) -> Path:
        """Write the clear content of encrypted SRC to DST (0600)."""
        from cryptography.fernet import InvalidToken

        f = self.fernet(create=False)
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        last = False
        with os.fdopen(fd, "wb") as out:
            for i, token in enumerate(self._tokens(src)):
                try:
                    plain = f.decrypt(token)
                except InvalidToken:
                    raise VaultError(
                        f"{src}: chunk {i} does not decrypt with the key in {self.key_file} "
                        "(wrong key, or the file was altered) / 解密失败"
                    ) from None
                index, last = struct.unpack(">Q?", plain[:9])
                if index != i:
                    raise VaultError(f"{src}: chunk {i} out of order")
                out.write(plain[9:])
        if not last:
            raise VaultError(f"{src}: cut short (the last chunk is missing)")
        return private_file(dst)

    def rotate_file(self, path: Path) -> None:
        """Re-encrypt PATH under the first key (MultiFernet.rotate, chunk by chunk, atomic replace)."""
        f = self.fernet(create=False)
        tmp = path.with_name(f".{path.name}.rotate.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC)
            for token in self._tokens(path):
                new = f.rotate(token)
                out.write(struct.pack(">I", len(new)) + new)
        os.replace(tmp, path)


def is_encrypted(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def restore_tree(vault: Vault, src: Path, dst: Path) -> int:
    """Copy the archived folder SRC to DST, decrypting every encrypted file (names kept). Returns files."""
    n = 0
    for p in sorted(src.rglob("*")):
        if not p.is_file() or p.name.startswith("."):
            continue
        target = dst / p.relative_to(src)
        private_dir(target.parent)
        if is_encrypted(p):
            vault.decrypt_file(p, target)
        else:  # archived before encryption (D-97): copied as it is
            shutil.copyfile(p, target)
            private_file(target)
        n += 1
    return n


def rotate(root: Path, vault: Vault | None = None) -> dict:
    """`kefu keys rotate`: a new key first in the key file, every archived file re-encrypted under it
    (files archived before encryption are encrypted now), then the old keys dropped. Interrupted,
    it can simply be run again: until the end, the key file still holds the old keys."""
    from cryptography.fernet import Fernet

    vault = vault or Vault.for_home(root)
    old = vault.keys(create=False)
    new = Fernet.generate_key()
    vault._write_keys([new, *old])
    files = 0
    archive = Path(root) / "archive"
    for p in sorted(archive.rglob("*")) if archive.is_dir() else []:
        if p.is_file() and not p.name.startswith("."):
            if is_encrypted(p):
                vault.rotate_file(p)
            else:
                vault.encrypt_file(p, p)
            files += 1
    attachments = Path(root) / "appeals" / "attachments"  # appeal evidence (kefu/appeals.py), always encrypted
    for p in sorted(attachments.iterdir()) if attachments.is_dir() else []:
        if p.is_file() and not p.name.startswith(".") and is_encrypted(p):
            vault.rotate_file(p)
            files += 1
    vault._write_keys([new])
    return {"key_file": str(vault.key_file), "files": files}


def prune_archive(root: Path, retention_days: int | None, today: date, log: Path | None = None) -> list[str]:
    """Delete day folders (YYYY-MM-DD) of archive/ and rejected/ older than RETENTION_DAYS before
    TODAY; each deletion is a line of logs/archive_retention.jsonl. None: keep everything."""
    if retention_days is None:
        return []
    root = Path(root)
    log = log or root / "logs" / "archive_retention.jsonl"
    deleted = []
    for folder in (root / "archive", root / "rejected"):
        for day_dir in sorted(folder.iterdir()) if folder.is_dir() else []:
            try:
                day = date.fromisoformat(day_dir.name)
            except ValueError:
                continue
            if day_dir.is_dir() and (today - day).days > retention_days:
                files = [p.name for p in day_dir.rglob("*") if p.is_file()]
                shutil.rmtree(day_dir)
                private_dir(log.parent)
                record = {
                    "time": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
                    "event": "archive_deleted",
                    "folder": str(day_dir),
                    "business_date": day.isoformat(),
                    "files": len(files),
                    "retention_days": retention_days,
                }
                fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as f:
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
                deleted.append(str(day_dir))
    return deleted


# --- kefu keys ---------------------------------------------------------------------------------


def _cmd_keys_rotate(args) -> int:
    import sys

    from kefu.home import Home
    from kefu.pipeline import PipelineError, writer_lock

    home = Home.from_env(args.home)
    vault = Vault.for_home(home.root)
    try:
        with writer_lock(home, wait=False):  # no nightly run archives a file meanwhile
            done = rotate(home.root, vault)
    except (VaultError, PipelineError) as exc:
        print(f"kefu keys rotate: {exc}", file=sys.stderr)
        return 2
    print(f"归档密钥已轮换 / archive key rotated: {done['key_file']} · {done['files']} archived files re-encrypted")
    return 0


def add_parser(sub) -> None:
    """Add `kefu keys rotate` to the kefu CLI."""
    k = sub.add_parser(
        "keys",
        help="the archive encryption key (归档加密密钥)",
        description="Manage the key that encrypts archived exports (docs/security.md).",
    )
    ksub = k.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    r = ksub.add_parser(
        "rotate",
        help="new key; re-encrypt every archived export; drop the old key",
        description="Generate a new archive key, re-encrypt every file of archive/ under it "
        "(safe to run again if interrupted), then drop the old key. Takes the writer lock: refused "
        "while a nightly run writes.",
    )
    r.add_argument("--home", default=None, help="installation folder (default: $KEFU_HOME)")
    r.set_defaults(func=_cmd_keys_rotate)

"""Ingest configuration: the PII key, extra mapping folders, DuckDB resource limits, and how long
archived exports are kept (archive_retention_days, kefu/vault.py).

The HMAC key for personal data never lives in code. It comes from the
environment variable KEFU_PII_KEY or the `pii_key` of a YAML config file
(--config). Without one, ingest refuses to run, unless the demo key is asked
for explicitly (--demo-key, or `pii_demo_key: true` in the config file): a
public, well-known key fit only for generated demo data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ingest import pii
from ingest.mapping import MAPPINGS_DIR

ENV_KEY = "KEFU_PII_KEY"


class ConfigError(ValueError):
    """The configuration cannot be used (message says what to do)."""


@dataclass
class IngestConfig:
    pii_key: bytes
    demo_key: bool = False
    mapping_dirs: list[Path] = field(default_factory=lambda: [MAPPINGS_DIR])
    memory_limit: str = "2GB"  # DuckDB spills beyond it: memory does not grow with file size
    threads: int | None = None
    archive_retention_days: int | None = None  # None: archived exports are kept (D-97)


def load(path: Path | None = None, demo_key: bool = False) -> IngestConfig:
    spec: dict = {}
    if path is not None:
        try:
            spec = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"cannot read config file {path}: {e}") from None
    key_text = os.environ.get(ENV_KEY) or spec.get("pii_key")
    use_demo = demo_key or bool(spec.get("pii_demo_key", False))
    if key_text:
        key, use_demo = str(key_text).encode("utf-8"), False
    elif use_demo:
        key = pii.DEMO_KEY
    else:
        raise ConfigError(
            f"no key for personal data: set {ENV_KEY} or `pii_key` in the --config file "
            "(or --demo-key for generated demo data only) / 未配置个人信息加密密钥"
        )
    if len(key) < 16 and not use_demo:
        raise ConfigError(f"the PII key is too short ({len(key)} bytes); use at least 16 random bytes")
    base = Path(path).parent if path else Path.cwd()
    dirs = [MAPPINGS_DIR] + [(base / d).resolve() for d in spec.get("mappings", [])]
    return IngestConfig(
        pii_key=key,
        demo_key=use_demo,
        mapping_dirs=dirs,
        memory_limit=str(spec.get("memory_limit", "2GB")),
        threads=spec.get("threads"),
        archive_retention_days=_retention(path, spec.get("archive_retention_days")),
    )


def _retention(path: Path | None, value) -> int | None:
    """archive_retention_days: days an archived export is kept after its business date (None: kept)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{path}: archive_retention_days must be a whole number of days ≥ 1, got {value!r}")
    return value

"""What the Airflow test files check alike (tests/integration/test_airflow_*.py import it)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_success(results: list[dict], keys: list[str]) -> None:
    assert [r["key"] for r in results] == keys
    for r in results:
        failed = {t: s for t, s in r["tasks"].items() if s != "success"}
        assert r["state"] == "success" and not failed, f"{r['key']}: {failed}\n{r['log_tail']}"

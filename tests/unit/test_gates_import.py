"""The gates import Great Expectations without pyspark and SQLAlchemy, and leave both importable
(docs/decisions.md D-205)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import importlib.util, sys
from expectations import gates
gx = gates._import_gx()
print(gx.__name__, 'pyspark' in sys.modules, 'sqlalchemy' in sys.modules)
for m in gates.NOT_FOR_GX:  # importable again afterwards (when installed)
    if importlib.util.find_spec(m) is not None:
        __import__(m)
        assert sys.modules[m] is not None, m
print('ok')
"""


@pytest.mark.parametrize("preloaded", ["", "import sqlalchemy"])
def test_gx_is_imported_without_its_spark_and_sql_sources(preloaded: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", preloaded + "\n" + CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # a process that had SQLAlchemy keeps it (an Airflow task); pyspark is never loaded by the import
    assert out == ["great_expectations", "False", "True" if preloaded else "False", "ok"]

"""The gates import Great Expectations without pyspark and SQLAlchemy, and leave both importable
(docs/decisions.md D-205); scipy.stats and altair, which GX imports too, are loaded on first use
(D-220)."""

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
# not loaded by the import of GX; the real modules at their first use
print(*[type(sys.modules[m]).__name__ for m in gates.ON_FIRST_USE])
from scipy import stats
print(round(float(stats.entropy([0.5, 0.5], [0.9, 0.1])), 4), type(sys.modules['scipy.stats']).__name__)
import altair
print(isinstance(altair.Chart, type), type(sys.modules['altair']).__name__)
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
    assert out[:3] == ["great_expectations", "False", "True" if preloaded else "False"]
    assert out[3:] == ["_LoadedOnFirstUse", "_LoadedOnFirstUse", "0.5108", "module", "True", "module", "ok"]

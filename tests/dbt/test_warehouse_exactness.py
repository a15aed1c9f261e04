"""kpi_rule_results equals the generator's independent answer key.

Counts must be equal exactly and values within 1e-9, for every measure, month and
unit. Seed 1 (the demo preset, 3 months) is checked in test_warehouse_demo.py,
which shares its build; here three other seeds, the full 3 months each (a quarter end, so C7/C8 are judged).
"""

import pandas as pd
import pytest

from kefu import exactness, rulebook


@pytest.mark.slow
@pytest.mark.parametrize("seed,months", [(2, 3), (3, 3), (4, 3)])
def test_kpi_rule_results_equals_the_answer_key(built_demo, seed, months):
    warehouse, key = built_demo(seed, months)
    diff = exactness.compare(warehouse, key)
    assert diff.empty, exactness.summary(diff) + "\n" + diff.head(20).to_string()
    covered = set(pd.read_csv(key).measure_id)
    assert {m.id for m in rulebook.numeric_measures()} <= covered

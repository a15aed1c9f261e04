"""Compare the warehouse's kpi_rule_results with the generator's answer key.

Counts must be equal exactly and values within 1e-9; a row on one side only is a
difference too. Used by the exactness tests and by developers chasing a mismatch.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

KEY = ["measure_id", "period_month", "grain", "unit_id"]


def compare(
    warehouse: Path,
    key_csv: Path,
    relation: str = "marts.kpi_rule_results",
    measures: list[str] | None = None,
    tolerance: float = 1e-9,
) -> pd.DataFrame:
    """Rows that differ: side = only_key | only_warehouse | numbers_differ."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        got = con.execute(
            f"select measure_id, period_month, grain, unit_id, numerator, denominator, "
            f"cast(numerator as double) / denominator as value from {relation} "
            f"where denominator > 0"
        ).df()
    finally:
        con.close()
    want = pd.read_csv(key_csv, dtype={"unit_id": str, "period_month": str})
    if measures is not None:
        got = got[got.measure_id.isin(measures)]
        want = want[want.measure_id.isin(measures)]
    m = want.merge(got, on=KEY, how="outer", suffixes=("_key", "_wh"), indicator=True)
    m["side"] = m["_merge"].astype(str).map({"left_only": "only_key", "right_only": "only_warehouse", "both": ""})
    both = m["_merge"] == "both"
    differs = both & (
        (m.numerator_key != m.numerator_wh)
        | (m.denominator_key != m.denominator_wh)
        | ((m.value_key - m.value_wh).abs() > tolerance)
    )
    m.loc[differs, "side"] = "numbers_differ"
    return m[m.side != ""].drop(columns="_merge").sort_values(KEY).reset_index(drop=True)


def summary(diff: pd.DataFrame) -> str:
    if diff.empty:
        return "kpi_rule_results equals the answer key"
    by = diff.groupby(["measure_id", "side"]).size().rename("rows").reset_index()
    return "differences:\n" + by.to_string(index=False)

"""The score 考核得分 (docs/decisions.md D-135..D-137) on a small hand-written kpi_rule_results: the
points come from the rulebook's `score:` section (whatever the operator set there), the arithmetic
is done here by hand, and the dbt marts built on the hand-written rows must agree."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from kefu import build, rulebook

MONTH = "2026-03"


def _results_rows(scheme: rulebook.ScoreScheme) -> list[tuple]:
    """D01 fails every district measure; D02 fails T1 only and passes the rest; D03 has a row only for
    T1 (passed), every other measure has nothing to judge; D04 (in the reference list) has no result
    at all; technician X1 fails T1."""
    district = list(scheme.measures("district"))
    rows = []
    for mid in district:
        rows.append((mid, MONTH, "district", "D01", 1, 2, 0.5, 0.9, False))
        rows.append((mid, MONTH, "district", "D02", 2, 2, 1.0, 0.9, mid != "T1"))
    rows.append(("T1", MONTH, "district", "D03", 2, 2, 1.0, 0.9, True))
    rows.append(("T1", MONTH, "technician", "X1", 1, 2, 0.5, 0.9, False))
    rows.append(("T1", MONTH, "company", "ALL", 5, 8, 0.625, 0.9, False))
    return rows


@pytest.fixture(scope="module")
def scored(dbt_scratch) -> Path:
    """A warehouse holding only the hand-written upstream tables, the rulebook seeds and the score marts."""
    warehouse, target = dbt_scratch()  # the worker's one dbt path: parsed once (tests/conftest.py, D-183)
    scheme = rulebook.score_scheme()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.kpi_rule_results (measure_id varchar, period_month varchar, grain varchar, "
            "unit_id varchar, numerator bigint, denominator bigint, value double, threshold double, "
            "passed boolean)"
        )
        con.executemany("insert into marts.kpi_rule_results values (?, ?, ?, ?, ?, ?, ?, ?, ?)", _results_rows(scheme))
        con.execute(
            "create table marts.kpi_rule_measurability (measure_id varchar, grain varchar, "
            "period_month varchar, measurable boolean, reason varchar)"
        )
        con.execute("create table marts.dim_district (district_id varchar, period_month varchar, head_id varchar)")
        con.executemany(
            "insert into marts.dim_district values (?, ?, ?)",
            [("D01", MONTH, "H1"), ("D02", MONTH, "H1"), ("D03", MONTH, None), ("D04", MONTH, None)],
        )
    # the three seeds and the three score marts in one dbt process (dbt orders the seeds first),
    # without the data tests: this file checks the marts' figures itself
    seeds = "rulebook_measures rulebook_score_measures rulebook_score_settings"
    build.build(
        warehouse,
        select=f"{seeds} kpi_score_lines kpi_score_monthly kpi_score_yearly",
        target_path=target,
        exclude="resource_type:test resource_type:unit_test",
    )
    return warehouse


def _scores(warehouse: Path) -> dict[tuple[str, str], dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.execute("select * from marts.kpi_score_monthly").df()
    return {(r["grain"], r["unit_id"]): r for r in frame.to_dict("records")}


def test_the_score_is_base_less_the_capped_rulebook_deductions(scored):
    scheme = rulebook.score_scheme()
    district = scheme.measures("district")
    all_failed = sum(district.values())
    s = _scores(scored)
    m = len(district)

    d01 = s[("district", "D01")]
    assert d01["score"] == pytest.approx(scheme.base - min(scheme.cap, all_failed))
    assert d01["measures_failed"] == m and d01["measurable_label"] == f"{m} of {m} measures measurable"
    assert bool(d01["is_capped"]) == (all_failed > scheme.cap)

    d02 = s[("district", "D02")]
    assert d02["score"] == pytest.approx(scheme.base - min(scheme.cap, scheme.deduction("T1")))
    assert d02["measures_failed"] == 1 and d02["measures_passed"] == m - 1

    # one measure judged (passed), the others have nothing to judge: full marks over 1 of M, said so
    d03 = s[("district", "D03")]
    assert d03["score"] == pytest.approx(scheme.base)
    assert d03["measurable_label"] == f"1 of {m} measures measurable"

    # a district of the reference list without any result: no score, never 100, no rank
    d04 = s[("district", "D04")]
    assert pd.isna(d04["score"]) and pd.isna(d04["score_rank"]) and d04["score_status"] == "not_measurable"
    assert d04["measurable_label"] == f"0 of {m} measures measurable"

    # the head of D01 and D02: the average district's deductions, then the cap
    h1 = s[("district_head", "H1")]
    assert h1["members"] == 2
    assert h1["score"] == pytest.approx(scheme.base - min(scheme.cap, (all_failed + scheme.deduction("T1")) / 2))
    assert ("district_head", None) not in s and len([k for k in s if k[0] == "district_head"]) == 1

    x1 = s[("technician", "X1")]
    assert x1["score"] == pytest.approx(scheme.base - min(scheme.cap, scheme.measures("technician")["T1"]))
    assert ("company", "ALL") not in s


def test_ranks_follow_the_scores_within_grain_and_month(scored):
    s = _scores(scored)
    districts = sorted(
        (r for k, r in s.items() if k[0] == "district" and not pd.isna(r["score"])), key=lambda r: -r["score"]
    )
    assert [r["unit_id"] for r in districts] == ["D03", "D02", "D01"]
    assert [r["score_rank"] for r in districts] == [1, 2, 3]
    assert {r["units_ranked"] for r in districts} == {3}


def test_the_rulebook_score_section_is_checked():
    scheme = rulebook.score_scheme()
    assert 0 <= scheme.cap <= scheme.base and set(scheme.grains) <= set(rulebook.SCORE_GRAINS)
    # every deduction named in the rulebook belongs to a kpi measure, and a head is scored on the district measures
    assert set(scheme.deductions) <= {m.id for m in rulebook.numeric_measures()}
    assert scheme.measures("district_head") == scheme.measures("district")
    assert "R3" not in scheme.measures("district")  # measured without a threshold: never scored

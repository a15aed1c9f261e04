"""The score page 考核得分 (Streamlit AppTest on the demo warehouse): the ranking, a unit's deductions by
measure and its year to date are the score marts' figures, per grain (docs/decisions.md D-135..D-139)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import ui

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


@pytest.fixture(scope="module")
def warehouse(built_demo) -> Path:
    return built_demo(1, 3)[0]


def mart(warehouse: Path, sql: str, params=()) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).df()


def score_page(warehouse: Path, monkeypatch, grain: str | None = None, **filters) -> AppTest:
    monkeypatch.setenv("KEFU_PUBLISHED", str(warehouse))
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.switch_page("views/score.py").run()
    for key, value in filters.items():
        at.selectbox(key=key).set_value(value).run()
    if grain:
        at.radio(key="score_grain").set_value(grain).run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest, *columns: str) -> pd.DataFrame:
    (frame,) = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    return frame


def metric(at: AppTest, label: str) -> str:
    (m,) = [m for m in at.metric if m.label == label]
    return m.value


@pytest.mark.parametrize("grain", ["district", "district_head", "technician"])
def test_the_ranking_is_the_marts_scores_and_ranks_of_the_month(warehouse, monkeypatch, grain):
    at = score_page(warehouse, monkeypatch, grain)
    month = at.selectbox(key="month").value
    shown = table(at, "score_rank", "unit_id", "score").set_index("unit_id")
    expected = mart(
        warehouse,
        """
        select s.unit_id, s.score, s.score_rank, y.score_average_ytd from marts.kpi_score_monthly s
        join marts.kpi_score_yearly y using (grain, unit_id, period_month)
        where s.grain = ? and s.period_month = ?""",
        [grain, month],
    ).set_index("unit_id")
    assert len(expected) > 1 and sorted(shown.index) == sorted(expected.index)
    shown = shown.loc[expected.index]
    assert shown["score"].tolist() == [ui.fmt(v, "ratio") for v in expected["score"]]
    assert shown["score_rank"].tolist() == expected["score_rank"].tolist()
    assert shown["score_average_ytd"].tolist() == [ui.fmt(v, "ratio") for v in expected["score_average_ytd"]]
    # best first
    assert shown.sort_values("score_rank")["score_rank"].is_monotonic_increasing


def test_a_picked_unit_shows_its_score_rank_and_the_points_lost_per_measure(warehouse, monkeypatch):
    worst = mart(
        warehouse,
        """
        select unit_id, period_month, score, score_rank, units_ranked, deductions_uncapped from marts.kpi_score_monthly
        where grain = 'district' and period_month = (select max(period_month) from marts.kpi_score_monthly)
        order by score, unit_id limit 1""",
    ).iloc[0]
    at = score_page(warehouse, monkeypatch)
    at.selectbox(key="score_unit").set_value(worst["unit_id"]).run()
    assert metric(at, "考核得分") == ui.fmt(worst["score"], "ratio")
    assert metric(at, "排名") == f"{worst['score_rank']} / {worst['units_ranked']}"
    per_measure = table(at, "measure_id", "measures_failed", "deduction")
    lines = mart(
        warehouse,
        "select measure_id, sum(deduction) as deduction from marts.kpi_score_lines "
        "where grain = 'district' and unit_id = ? and period_month = ? and status = 'failed' "
        "group by 1",
        [worst["unit_id"], worst["period_month"]],
    ).set_index("measure_id")
    assert sorted(per_measure["measure_id"]) == sorted(lines.index)
    assert per_measure["deduction"].sum() == pytest.approx(worst["deductions_uncapped"])
    year = table(at, "month_score", "score_total_ytd")
    assert year["period_month"].max() == worst["period_month"]
    assert year["month_score"].iloc[-1] == pytest.approx(worst["score"])


def test_the_district_filter_narrows_districts_and_technicians(warehouse, monkeypatch):
    at = score_page(warehouse, monkeypatch, "technician", district="D02")
    month = at.selectbox(key="month").value
    shown = set(table(at, "score_rank", "unit_id")["unit_id"])
    expected = set(
        mart(
            warehouse,
            """
        select s.unit_id from marts.kpi_score_monthly s
        join (select technician_id, arg_max(district_id, valid_from) as district_id from marts.dim_technician group by 1) t
            on t.technician_id = s.unit_id
        where s.grain = 'technician' and s.period_month = ? and t.district_id = 'D02'""",
            [month],
        )["unit_id"]
    )
    assert shown == expected and shown


def test_the_district_filter_keeps_the_head_of_that_district(warehouse, monkeypatch):
    at = score_page(warehouse, monkeypatch, "district_head", district="D03")
    month = at.selectbox(key="month").value
    shown = set(table(at, "score_rank", "unit_id")["unit_id"])
    heads = set(mart(warehouse, "select distinct head_id from marts.dim_district where district_id = 'D03'")["head_id"])
    scored = set(
        mart(
            warehouse,
            "select unit_id from marts.kpi_score_monthly where grain = 'district_head' and period_month = ?",
            [month],
        )["unit_id"]
    )
    assert shown == heads & scored and len(shown) == 1

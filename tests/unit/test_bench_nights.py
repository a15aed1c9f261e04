"""kefu bench --nights: which nights are timed, and their figures beside the targets of issue 18."""

from datetime import date, timedelta

import pytest

from benchmarks.bench_nights import figures, parse_nights

DAYS = [date(2026, 1, 1) + timedelta(days=i) for i in range(60)]  # 2026-01-01 .. 2026-03-01


def test_first_is_the_15th_of_the_first_month_and_last_the_last_day():
    assert parse_nights("first,last", DAYS) == {"first": date(2026, 1, 15), "last": date(2026, 3, 1)}
    assert parse_nights(" 2026-02-10 ", DAYS) == {"2026-02-10": date(2026, 2, 10)}


@pytest.mark.parametrize(
    "spec, says",
    [
        ("middle", "neither first, last nor a date"),
        ("2026-01-01", "after the first"),  # nothing to backfill before it
        ("2026-04-01", "not a day of the exports"),
        (",", "name at least one night"),
    ],
)
def test_a_night_that_cannot_be_timed_is_refused_by_name(spec, says):
    with pytest.raises(ValueError, match=says):
        parse_nights(spec, DAYS)


def test_figures_compare_the_nights_with_the_targets():
    f = figures({"nights": {"first": {"night": {"cpu_seconds": 18.0}}, "last": {"night": {"cpu_seconds": 23.4}}}})
    assert f["last_over_first_cpu"] == pytest.approx(1.3)
    assert f["growth_meets_target"] is False and f["nights_meet_cpu_target"] is False
    f = figures({"nights": {"first": {"night": {"cpu_seconds": 19.0}}}})
    assert f["nights_meet_cpu_target"] is True and "last_over_first_cpu" not in f

"""The PRC working-day calendar: holidays, 调休 and hand-added years."""

from datetime import date, datetime

import pytest

from kefu import workcal


def test_make_up_saturday_is_a_working_day():
    assert date(2026, 2, 14).weekday() == 5
    assert workcal.is_workday(date(2026, 2, 14)) is True


def test_spring_festival_weekdays_are_not_working_days():
    assert workcal.is_workday(date(2026, 2, 17)) is False  # 正月初一, a Tuesday


def test_deadline_of_n_working_days_skips_spring_festival():
    # Friday 2026-02-13 + 1 wd = Saturday 2026-02-14 (调休); + 2 wd jumps the holiday to 2026-02-24.
    assert workcal.end_of_nth_working_day(datetime(2026, 2, 13, 9), 1) == datetime(2026, 2, 15)
    assert workcal.end_of_nth_working_day(datetime(2026, 2, 13, 9), 2) == datetime(2026, 2, 25)


def test_start_date_itself_never_counts():
    assert workcal.nth_working_day_after(date(2026, 3, 2), 1) == date(2026, 3, 3)


def test_unknown_year_raises_an_error_naming_the_overrides_file():
    with pytest.raises(workcal.CalendarYearUnknown, match=r"workday_overrides\.csv"):
        workcal.is_workday(date(2099, 3, 2))


def test_a_year_can_be_added_by_hand(tmp_path):
    f = tmp_path / "overrides.csv"
    f.write_text("date,is_workday,note\n2099-01-01,false,元旦\n2099-01-03,true,调休\n", encoding="utf-8")
    assert workcal.is_workday(date(2099, 1, 1), str(f)) is False  # a Thursday holiday
    assert workcal.is_workday(date(2099, 1, 3), str(f)) is True  # a Saturday made a working day
    assert workcal.is_workday(date(2099, 1, 5), str(f)) is True  # ordinary Monday
    assert workcal.is_workday(date(2099, 1, 4), str(f)) is False  # ordinary Sunday


def test_bad_override_row_names_file_and_row(tmp_path):
    f = tmp_path / "overrides.csv"
    f.write_text("date,is_workday,note\n2099-13-01,false,bad\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"row 2"):
        workcal.is_workday(date(2099, 1, 1), str(f))

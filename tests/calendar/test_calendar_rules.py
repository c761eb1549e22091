from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from gridgov.calendar.rules import (
    DEFAULT_WARNING_FRACTION,
    SHANGHAI,
    CalendarNotCovered,
    LimitUnit,
    NaiveDatetimeError,
    TimeLimit,
    WorkingCalendar,
    WorkingHours,
    is_overdue,
)
from gridgov.errors import InvalidInput

CALENDAR = WorkingCalendar.official()


def beijing(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Beijing wall-clock time as the UTC instant the calendar takes and returns."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def hours(value) -> TimeLimit:
    return TimeLimit(value, LimitUnit.WORKING_HOURS)


def days(value) -> TimeLimit:
    return TimeLimit(value, LimitUnit.WORKING_DAYS)


# --- deadlines on ordinary days -------------------------------------------------------------


def test_friday_afternoon_plus_two_working_hours_is_monday_morning():
    assert CALENDAR.deadline(beijing(2024, 3, 15, 16), hours(2)) == beijing(2024, 3, 18, 10)


def test_morning_limit_crosses_the_lunch_break():
    assert CALENDAR.deadline(beijing(2024, 3, 18, 11), hours(2)) == beijing(2024, 3, 18, 14, 30)


def test_clock_started_in_the_lunch_break_runs_from_half_past_one():
    assert CALENDAR.deadline(beijing(2024, 3, 18, 12, 30), hours(1)) == beijing(2024, 3, 18, 14, 30)


def test_clock_started_at_night_runs_from_next_morning():
    assert CALENDAR.deadline(beijing(2024, 3, 19, 20), hours(1)) == beijing(2024, 3, 20, 10)
    assert CALENDAR.deadline(beijing(2024, 3, 20, 3), hours(1)) == beijing(2024, 3, 20, 10)


def test_deadline_that_fills_the_afternoon_lands_at_five_not_next_morning():
    assert CALENDAR.deadline(beijing(2024, 3, 15, 15), hours(2)) == beijing(2024, 3, 15, 17)


def test_one_working_day_from_three_pm_is_three_pm_next_working_day():
    assert CALENDAR.deadline(beijing(2024, 3, 14, 15), days(1)) == beijing(2024, 3, 15, 15)
    assert CALENDAR.deadline(beijing(2024, 3, 15, 15), days(1)) == beijing(2024, 3, 18, 15)


def test_working_days_started_at_night_end_at_close_of_business():
    assert CALENDAR.deadline(beijing(2024, 3, 14, 20), days(2)) == beijing(2024, 3, 18, 17)


def test_half_a_working_day_is_three_and_a_quarter_working_hours():
    assert CALENDAR.limit_seconds(days("0.5")) == 3 * 3600 + 15 * 60
    assert CALENDAR.deadline(beijing(2024, 3, 18, 9), days("0.5")) == beijing(2024, 3, 18, 13, 45)


def test_zero_limit_is_due_at_the_start_even_at_night():
    assert CALENDAR.deadline(beijing(2024, 3, 19, 20), hours(0)) == beijing(2024, 3, 19, 20)


def test_microseconds_of_the_start_are_kept():
    start = beijing(2024, 3, 18, 9) + timedelta(microseconds=250_000)
    assert CALENDAR.deadline(start, hours(1)) == beijing(2024, 3, 18, 10) + timedelta(
        microseconds=250_000
    )


def test_results_are_utc_whatever_zone_the_input_uses():
    start = datetime(2024, 3, 15, 16, tzinfo=timezone(timedelta(hours=8)))
    due = CALENDAR.deadline(start, hours(2))
    assert due.tzinfo is UTC
    assert due == beijing(2024, 3, 18, 10)


# --- holidays and make-up working days ------------------------------------------------------


def test_2024_national_day_is_skipped():
    assert CALENDAR.deadline(beijing(2024, 9, 30, 16), hours(2)) == beijing(2024, 10, 8, 10)


def test_2024_national_day_make_up_sunday_and_saturday_count():
    assert CALENDAR.deadline(beijing(2024, 9, 27, 16), hours(2)) == beijing(2024, 9, 29, 10)
    assert CALENDAR.deadline(beijing(2024, 10, 11, 16), hours(2)) == beijing(2024, 10, 12, 10)


def test_2024_national_day_week_holds_no_working_time():
    working = CALENDAR.elapsed(
        beijing(2024, 9, 30, 17), beijing(2024, 10, 8, 9), LimitUnit.WORKING_HOURS
    )
    assert working == 0


def test_2025_spring_festival_is_skipped():
    # Jan 26 (Sun) is a make-up day; Jan 28 – Feb 4 is the holiday.
    assert CALENDAR.deadline(beijing(2025, 1, 24, 16), hours(2)) == beijing(2025, 1, 26, 10)
    assert CALENDAR.deadline(beijing(2025, 1, 27, 16), days(1)) == beijing(2025, 2, 5, 16)
    assert CALENDAR.deadline(beijing(2025, 2, 7, 16), hours(2)) == beijing(2025, 2, 8, 10)


# --- natural time ---------------------------------------------------------------------------


def test_natural_hours_ignore_nights_weekends_and_holidays():
    limit = TimeLimit(2, LimitUnit.NATURAL_HOURS)
    assert CALENDAR.deadline(beijing(2024, 9, 30, 23), limit) == beijing(2024, 10, 1, 1)


def test_natural_minutes_for_urgent_nodes():
    limit = TimeLimit(10, LimitUnit.NATURAL_MINUTES)
    assert CALENDAR.deadline(beijing(2024, 10, 1, 3, 55), limit) == beijing(2024, 10, 1, 4, 5)


def test_natural_hours_across_the_year_end_are_plain_elapsed_time():
    # Beijing has had no daylight saving since 1991, so 24 natural hours is one wall-clock day.
    limit = TimeLimit(24, LimitUnit.NATURAL_HOURS)
    assert CALENDAR.deadline(beijing(2024, 12, 31, 12), limit) == beijing(2025, 1, 1, 12)


def test_natural_units_work_in_years_the_calendar_does_not_cover():
    limit = TimeLimit(2, LimitUnit.NATURAL_HOURS)
    assert CALENDAR.deadline(beijing(2030, 5, 1, 8), limit) == beijing(2030, 5, 1, 10)
    assert CALENDAR.elapsed(beijing(2030, 5, 1), beijing(2030, 5, 2), LimitUnit.NATURAL_DAYS) == 1


# --- elapsed, overdue, warnings -------------------------------------------------------------


def test_elapsed_counts_only_working_time():
    elapsed = CALENDAR.elapsed(
        beijing(2024, 3, 15, 16), beijing(2024, 3, 18, 10), LimitUnit.WORKING_MINUTES
    )
    assert elapsed == 120


def test_elapsed_is_negative_when_end_precedes_start():
    later, earlier = beijing(2024, 3, 18, 10), beijing(2024, 3, 18, 9)
    assert CALENDAR.elapsed(later, earlier, LimitUnit.WORKING_HOURS) == -1


def test_overdue_only_after_the_deadline():
    due = beijing(2024, 3, 18, 10)
    assert not is_overdue(due, due)
    assert is_overdue(due, due + timedelta(microseconds=1))


def test_fraction_used_counts_working_time_for_the_warning():
    start = beijing(2024, 3, 18, 9)
    due = CALENDAR.deadline(start, hours(4))
    assert due == beijing(2024, 3, 18, 14, 30)
    unit = LimitUnit.WORKING_HOURS
    assert CALENDAR.fraction_used(start, due, beijing(2024, 3, 18, 12, 45), unit) == 0.75
    assert CALENDAR.fraction_used(start, due, beijing(2024, 3, 18, 14), unit) == 0.875
    assert (
        CALENDAR.fraction_used(start, due, beijing(2024, 3, 18, 14), unit)
        >= DEFAULT_WARNING_FRACTION
    )
    assert CALENDAR.fraction_used(start, due, beijing(2024, 3, 18, 15, 30), unit) == 1.25
    assert CALENDAR.fraction_used(start, due, beijing(2024, 3, 18, 8), unit) == 0


def test_fraction_used_of_a_zero_limit():
    start = beijing(2024, 3, 18, 9)
    unit = LimitUnit.WORKING_HOURS
    assert CALENDAR.fraction_used(start, start, start, unit) == 1.0
    assert CALENDAR.fraction_used(start, start, start - timedelta(seconds=1), unit) == 0.0


# --- working time queries -------------------------------------------------------------------


def test_working_time_includes_period_start_and_excludes_period_end():
    assert CALENDAR.is_working_time(beijing(2024, 3, 18, 9))
    assert not CALENDAR.is_working_time(beijing(2024, 3, 18, 12))
    assert not CALENDAR.is_working_time(beijing(2024, 3, 16, 10))  # Saturday
    assert CALENDAR.is_working_time(beijing(2024, 9, 29, 10))  # make-up Sunday


def test_next_working_moment():
    assert CALENDAR.next_working_moment(beijing(2024, 3, 18, 10)) == beijing(2024, 3, 18, 10)
    assert CALENDAR.next_working_moment(beijing(2024, 3, 18, 12)) == beijing(2024, 3, 18, 13, 30)
    assert CALENDAR.next_working_moment(beijing(2024, 9, 30, 17)) == beijing(2024, 10, 8, 9)
    assert CALENDAR.next_working_moment(beijing(2024, 3, 18, 7)) == beijing(2024, 3, 18, 9)


def test_is_working_day_uses_the_official_arrangement():
    assert CALENDAR.is_working_day(date(2024, 9, 29))
    assert not CALENDAR.is_working_day(date(2024, 10, 7))


# --- refusals -------------------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    naive = datetime(2024, 3, 18, 9)
    with pytest.raises(NaiveDatetimeError):
        CALENDAR.deadline(naive, hours(1))
    with pytest.raises(NaiveDatetimeError):
        CALENDAR.deadline(naive, TimeLimit(1, LimitUnit.NATURAL_HOURS))
    with pytest.raises(NaiveDatetimeError):
        CALENDAR.elapsed(beijing(2024, 3, 18, 9), naive, LimitUnit.WORKING_HOURS)
    with pytest.raises(NaiveDatetimeError):
        is_overdue(naive, beijing(2024, 3, 18, 9))


def test_start_in_an_uncovered_year_is_refused():
    with pytest.raises(CalendarNotCovered) as raised:
        CALENDAR.deadline(beijing(2027, 3, 1, 9), hours(1))
    assert raised.value.year == 2027
    assert "2027" in str(raised.value)


def test_deadline_running_into_an_uncovered_year_is_refused():
    with pytest.raises(CalendarNotCovered) as raised:
        CALENDAR.deadline(beijing(2026, 12, 31, 16), hours(2))
    assert raised.value.year == 2027
    assert CALENDAR.deadline(beijing(2026, 12, 31, 16), hours(1)) == beijing(2026, 12, 31, 17)


def test_year_before_the_library_is_refused():
    with pytest.raises(CalendarNotCovered) as raised:
        CALENDAR.deadline(beijing(2003, 12, 31, 9), hours(1))
    assert raised.value.year == 2003


# --- admin overrides ------------------------------------------------------------------------


def test_override_year_works():
    calendar = WorkingCalendar.official(
        overrides={date(2027, 1, 1): False, date(2027, 1, 2): False, date(2027, 1, 3): False},
        override_years={2027},
    )
    # Thursday 31 Dec 2026 16:00 + 2 h: one hour left in 2026, then New Year's holiday.
    assert calendar.deadline(beijing(2026, 12, 31, 16), hours(2)) == beijing(2027, 1, 4, 10)
    assert calendar.deadline(beijing(2027, 3, 5, 16), hours(2)) == beijing(2027, 3, 8, 10)


def test_override_makes_a_weekend_day_a_working_day():
    calendar = WorkingCalendar.official(overrides={date(2024, 3, 16): True})
    assert calendar.deadline(beijing(2024, 3, 15, 16), hours(2)) == beijing(2024, 3, 16, 10)


def test_gap_year_between_covered_years_is_refused():
    calendar = WorkingCalendar.official(override_years={2028})
    assert calendar.deadline(beijing(2028, 3, 6, 9), hours(1)) == beijing(2028, 3, 6, 10)
    with pytest.raises(CalendarNotCovered) as raised:
        calendar.deadline(beijing(2026, 12, 31, 16), hours(2))
    assert raised.value.year == 2027
    with pytest.raises(CalendarNotCovered) as raised:
        calendar.elapsed(beijing(2026, 6, 1), beijing(2028, 6, 1), LimitUnit.WORKING_HOURS)
    assert raised.value.year == 2027
    with pytest.raises(CalendarNotCovered):
        calendar.next_working_moment(beijing(2026, 12, 31, 18))


# --- working hours --------------------------------------------------------------------------


def test_default_working_day_is_six_and_a_half_hours():
    assert CALENDAR.working_day_seconds == 6 * 3600 + 1800
    assert str(CALENDAR.hours) == "09:00-12:00,13:30-17:00"


def test_custom_working_hours():
    summer = WorkingHours.parse("08:30-12:00, 14:00-18:00")
    calendar = WorkingCalendar.official(hours=summer)
    assert calendar.working_day_seconds == 7 * 3600 + 1800
    assert calendar.deadline(beijing(2024, 7, 1, 11), hours(2)) == beijing(2024, 7, 1, 15)
    assert calendar.deadline(beijing(2024, 7, 1, 8, 30), days(1)) == beijing(2024, 7, 1, 18)


def test_working_hours_parse_round_trips():
    assert WorkingHours.parse(str(WorkingHours())) == WorkingHours()
    assert WorkingHours.parse("09:00-12:00，13:30-17:00").periods[1] == (time(13, 30), time(17))


@pytest.mark.parametrize("text", ["", "9-12", "12:00-09:00", "09:00-12:00,11:00-17:00", "nine"])
def test_bad_working_hours_are_refused_in_chinese(text):
    with pytest.raises(InvalidInput) as raised:
        WorkingHours.parse(text)
    assert "工作时段" in raised.value.detail


# --- time limits ----------------------------------------------------------------------------


def test_time_limit_accepts_numbers_and_strings():
    assert TimeLimit("4", "working_hours") == TimeLimit(4, LimitUnit.WORKING_HOURS)
    assert TimeLimit(0.1, LimitUnit.WORKING_DAYS).value == Decimal("0.1")
    assert str(TimeLimit(Decimal("4.0"), "working_hours")) == "4 工作小时"
    assert str(TimeLimit(30, "natural_minutes")) == "30 分钟"


def test_time_limits_of_one_unit_add_up():
    assert hours(1) + hours("1.5") == hours("2.5")
    with pytest.raises(ValueError):
        hours(1) + days(1)


@pytest.mark.parametrize("value", [-1, "abc", float("nan"), float("inf"), True])
def test_invalid_limit_values_are_refused(value):
    with pytest.raises(InvalidInput):
        TimeLimit(value, LimitUnit.WORKING_HOURS)


def test_unknown_unit_is_refused_in_chinese():
    with pytest.raises(InvalidInput) as raised:
        TimeLimit(1, "fortnights")
    assert "时限单位" in raised.value.detail


def test_limit_seconds_round_half_up_to_whole_seconds():
    assert CALENDAR.limit_seconds(TimeLimit("0.0001", LimitUnit.WORKING_HOURS)) == 0  # 0.36 s
    assert CALENDAR.limit_seconds(TimeLimit("0.5", LimitUnit.NATURAL_MINUTES)) == 30
    assert CALENDAR.limit_seconds(TimeLimit("0.025", LimitUnit.NATURAL_MINUTES)) == 2  # 1.5 s


def test_calendar_is_immutable():
    with pytest.raises(AttributeError):
        CALENDAR._cumulative = ()  # type: ignore[misc]


def test_daylight_saving_change_day_in_another_zone_uses_wall_clock_hours():
    berlin = ZoneInfo("Europe/Berlin")  # clocks go forward at 02:00 on Sunday 31 March 2024
    calendar = WorkingCalendar.official(overrides={date(2024, 3, 31): True}, tz=berlin)
    start = datetime(2024, 3, 29, 16, tzinfo=berlin)
    due = calendar.deadline(start, hours(2))
    assert due == datetime(2024, 3, 31, 10, tzinfo=berlin)
    assert due == datetime(2024, 3, 31, 8, tzinfo=UTC)

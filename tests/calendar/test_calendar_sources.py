from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from gridgov.calendar.sources import CalendarNotCovered, OfficialDayClassifier, library_years
from gridgov.errors import DomainError


def test_pinned_library_covers_2004_to_2026():
    assert chinese_calendar.__version__ == "1.11.0"
    assert library_years() == range(2004, 2027)


@pytest.mark.parametrize("year", [2003, 2027])
def test_library_refuses_years_just_outside_its_coverage(year):
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(year, 6, 1))


def test_official_days_match_the_library_on_every_covered_day():
    classifier = OfficialDayClassifier()
    day, last = date(library_years().start, 1, 1), date(library_years().stop - 1, 12, 31)
    while day <= last:
        assert classifier.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_make_up_days_of_2024_national_day_are_working_days():
    classifier = OfficialDayClassifier()
    assert classifier.is_working_day(date(2024, 9, 29))  # Sunday
    assert classifier.is_working_day(date(2024, 10, 12))  # Saturday
    assert not any(classifier.is_working_day(date(2024, 10, d)) for d in range(1, 8))


def test_uncovered_year_is_refused_with_a_chinese_message_naming_it():
    with pytest.raises(CalendarNotCovered) as raised:
        OfficialDayClassifier().is_working_day(date(2027, 3, 1))
    assert raised.value.year == 2027
    assert "2027 年" in raised.value.detail
    assert isinstance(raised.value, DomainError)


def test_declared_override_year_follows_weekdays_except_overridden_days():
    classifier = OfficialDayClassifier(
        overrides={date(2027, 1, 1): False, date(2027, 1, 9): True}, override_years={2027}
    )
    assert 2027 in classifier.covered_years
    assert not classifier.is_working_day(date(2027, 1, 1))  # Friday, New Year
    assert classifier.is_working_day(date(2027, 1, 9))  # Saturday, make-up day
    assert classifier.is_working_day(date(2027, 1, 4))  # Monday
    assert not classifier.is_working_day(date(2027, 1, 10))  # Sunday


def test_overrides_in_an_undeclared_year_do_not_cover_it():
    classifier = OfficialDayClassifier(overrides={date(2027, 1, 1): False})
    with pytest.raises(CalendarNotCovered):
        classifier.is_working_day(date(2027, 1, 1))


def test_override_corrects_a_library_day():
    classifier = OfficialDayClassifier(overrides={date(2024, 10, 8): False})
    assert not classifier.is_working_day(date(2024, 10, 8))
    assert classifier.is_working_day(date(2024, 10, 9))


def test_from_rows_builds_the_same_classifier():
    classifier = OfficialDayClassifier.from_rows([(date(2027, 2, 6), True)], override_years=[2027])
    assert classifier.is_working_day(date(2027, 2, 6))


def test_override_keys_must_be_plain_dates():
    with pytest.raises(TypeError):
        OfficialDayClassifier(overrides={datetime(2027, 1, 1): False})
    with pytest.raises(TypeError):
        OfficialDayClassifier(overrides={date(2027, 1, 1): 0})


def test_overrides_cannot_be_changed_after_construction():
    classifier = OfficialDayClassifier(overrides={date(2024, 10, 8): False})
    with pytest.raises(TypeError):
        classifier.overrides[date(2024, 10, 9)] = False  # type: ignore[index]

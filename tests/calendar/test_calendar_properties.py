"""Property-based checks of the working-time clock, against a slow day-by-day reference."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from gridgov.calendar.rules import (
    SHANGHAI,
    LimitUnit,
    TimeLimit,
    WorkingCalendar,
    WorkingHours,
)
from gridgov.calendar.sources import OfficialDayClassifier

CALENDAR = WorkingCalendar.official()
WORKING_UNITS = [LimitUnit.WORKING_MINUTES, LimitUnit.WORKING_HOURS, LimitUnit.WORKING_DAYS]
NATURAL_UNITS = [LimitUnit.NATURAL_MINUTES, LimitUnit.NATURAL_HOURS, LimitUnit.NATURAL_DAYS]

checks = settings(deadline=None, database=None, max_examples=200)

# Early enough in 2026 that 80 working days (two composed limits) end inside covered years.
instants = st.datetimes(
    min_value=datetime(2023, 1, 1), max_value=datetime(2026, 6, 30), timezones=st.just(UTC)
)
# Instants on whole minutes hit period boundaries (09:00, 12:00, 13:30, 17:00) often.
minute_instants = st.builds(lambda moment: moment.replace(second=0, microsecond=0), instants)
any_instant = st.one_of(instants, minute_instants)


def amounts(unit: LimitUnit) -> st.SearchStrategy[Decimal]:
    """Values whose length is a whole number of seconds, up to about 40 working days."""
    if unit is LimitUnit.WORKING_MINUTES:
        return st.integers(0, 15_000).map(Decimal)
    if unit is LimitUnit.WORKING_HOURS:
        return st.integers(0, 26_000).map(lambda hundredths: Decimal(hundredths) / 100)
    return st.integers(0, 400).map(lambda tenths: Decimal(tenths) / 10)


@st.composite
def working_limits(draw, unit=None) -> TimeLimit:
    unit = unit or draw(st.sampled_from(WORKING_UNITS))
    return TimeLimit(draw(amounts(unit)), unit)


@st.composite
def limit_pairs(draw) -> tuple[TimeLimit, TimeLimit]:
    unit = draw(st.sampled_from(WORKING_UNITS))
    return draw(working_limits(unit)), draw(working_limits(unit))


@st.composite
def working_hours(draw) -> WorkingHours:
    """One to three periods on a five-minute grid between 06:00 and 22:00."""
    count = draw(st.integers(1, 3))
    marks = sorted(draw(st.sets(st.integers(72, 264), min_size=2 * count, max_size=2 * count)))
    moments = [time(mark * 5 // 60, mark * 5 % 60) for mark in marks]
    return WorkingHours(tuple(zip(moments[::2], moments[1::2], strict=True)))


def reference_deadline(calendar: WorkingCalendar, start: datetime, seconds: int) -> datetime:
    """Walk day by day and period by period: slow, obviously right."""
    if seconds == 0:
        return start
    remaining = timedelta(seconds=seconds)
    cursor = start.astimezone(SHANGHAI).replace(tzinfo=None)
    day = cursor.date()
    while True:
        if calendar.is_working_day(day):
            for period_start, period_end in calendar.hours.periods:
                begin = max(datetime.combine(day, period_start), cursor)
                end = datetime.combine(day, period_end)
                if begin >= end:
                    continue
                if remaining <= end - begin:
                    return (begin + remaining).replace(tzinfo=SHANGHAI).astimezone(UTC)
                remaining -= end - begin
        day += timedelta(days=1)
        cursor = datetime.combine(day, time())


def local_time_of_day(instant: datetime) -> tuple[date, time]:
    local = instant.astimezone(SHANGHAI)
    return local.date(), local.timetz().replace(tzinfo=None)


@checks
@given(any_instant, working_limits())
def test_deadline_matches_the_day_by_day_reference(start, limit):
    expected = reference_deadline(CALENDAR, start, CALENDAR.limit_seconds(limit))
    assert CALENDAR.deadline(start, limit) == expected


@settings(deadline=None, database=None, max_examples=60)
@given(working_hours(), any_instant, st.data())
def test_deadline_matches_the_reference_for_any_working_hours(hours, start, data):
    calendar = WorkingCalendar(OfficialDayClassifier(), hours)
    # Up to 40 of these (possibly very short) working days, so deadlines stay in covered years.
    minutes = data.draw(st.integers(0, 40 * calendar.working_day_seconds // 60))
    unit = data.draw(st.sampled_from(WORKING_UNITS))
    limit = TimeLimit(Decimal(minutes * 60) / calendar.limit_seconds(TimeLimit(1, unit)), unit)
    expected = reference_deadline(calendar, start, calendar.limit_seconds(limit))
    assert calendar.deadline(start, limit) == expected


@checks
@given(any_instant, limit_pairs())
def test_deadlines_compose(start, pair):
    first, second = pair
    assert CALENDAR.deadline(CALENDAR.deadline(start, first), second) == CALENDAR.deadline(
        start, first + second
    )


@checks
@given(any_instant, working_limits())
def test_elapsed_to_the_deadline_is_the_limit(start, limit):
    due = CALENDAR.deadline(start, limit)
    assert CALENDAR.elapsed(start, due, limit.unit) == limit.value


@checks
@given(any_instant, any_instant, working_limits())
def test_deadline_is_monotonic_in_start(one, other, limit):
    earlier, later = sorted([one, other])
    assert CALENDAR.deadline(earlier, limit) <= CALENDAR.deadline(later, limit)


@checks
@given(any_instant, limit_pairs())
def test_deadline_is_monotonic_in_the_limit(start, pair):
    smaller, larger = sorted(pair, key=lambda limit: limit.value)
    assert CALENDAR.deadline(start, smaller) <= CALENDAR.deadline(start, larger)


@checks
@given(any_instant, working_limits())
def test_deadline_lands_in_working_hours_or_exactly_at_a_period_end(start, limit):
    due = CALENDAR.deadline(start, limit)
    if CALENDAR.limit_seconds(limit) == 0:
        assert due == start
        return
    assert due > start
    day, moment = local_time_of_day(due)
    assert CALENDAR.is_working_day(day)
    assert any(begin < moment <= end for begin, end in CALENDAR.hours.periods)


@checks
@given(any_instant)
def test_clock_starts_at_the_next_working_moment(start):
    begins = CALENDAR.next_working_moment(start)
    assert begins >= start
    assert CALENDAR.is_working_time(begins)
    assert CALENDAR.elapsed(start, begins, LimitUnit.WORKING_MINUTES) == 0
    assert CALENDAR.is_working_time(start) == (begins == start)


@checks
@given(any_instant, any_instant, any_instant, st.sampled_from(WORKING_UNITS + NATURAL_UNITS))
def test_elapsed_adds_up_and_reverses(a, b, c, unit):
    # Equal up to the last of Decimal's 28 digits: 1 µs is not a finite fraction of a minute.
    gap = CALENDAR.elapsed(a, b, unit) + CALENDAR.elapsed(b, c, unit) - CALENDAR.elapsed(a, c, unit)
    assert abs(gap) < Decimal("1e-20")
    assert CALENDAR.elapsed(a, b, unit) == -CALENDAR.elapsed(b, a, unit)


@checks
@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(NATURAL_UNITS),
    st.integers(0, 10_000),
)
def test_natural_limits_are_plain_elapsed_time(start, unit, value):
    limit = TimeLimit(value, unit)
    due = CALENDAR.deadline(start, limit)
    assert due - start == timedelta(seconds=CALENDAR.limit_seconds(limit))
    assert CALENDAR.elapsed(start, due, unit) == value


@checks
@given(any_instant, working_limits(), any_instant)
def test_fraction_used_grows_with_now_and_reaches_one_at_the_deadline(start, limit, now):
    due = CALENDAR.deadline(start, limit)
    unit = limit.unit
    if CALENDAR.limit_seconds(limit) == 0:
        return
    assert CALENDAR.fraction_used(start, due, due, unit) == 1.0
    fraction = CALENDAR.fraction_used(start, due, now, unit)
    assert fraction >= 0
    if now <= due:
        assert fraction <= 1.0

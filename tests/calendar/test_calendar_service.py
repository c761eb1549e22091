"""The calendar service on SQLite and PostgreSQL: overrides, override years, audit, cache."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from gridgov.audit.models import AuditEvent
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.calendar import service
from gridgov.calendar.models import CalendarOverride, CalendarOverrideYear
from gridgov.calendar.rules import LimitUnit, TimeLimit, WorkingCalendar
from gridgov.calendar.schemas import DayKind, DaySource
from gridgov.calendar.sources import CalendarNotCovered
from gridgov.db import Database
from gridgov.errors import Conflict, InvalidInput, NotFound
from tests.calendar.calendar_2027 import OVERRIDES_2027, beijing


def hours(value) -> TimeLimit:
    return TimeLimit(value, LimitUnit.WORKING_HOURS)


def days(value) -> TimeLimit:
    return TimeLimit(value, LimitUnit.WORKING_DAYS)


def enter_2027(database: Database, *, declare: bool = True) -> None:
    for day, (working, note) in OVERRIDES_2027.items():
        with database.write() as db:
            service.set_override(db, actor=SYSTEM_ACTOR, day=day, working=working, note=note)
    if declare:
        with database.write() as db:
            service.declare_year(db, actor=SYSTEM_ACTOR, year=2027, note="国务院办公厅通知")


def audit_actions(database: Database) -> list[str]:
    with database.read() as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def count(database: Database, model) -> int:
    with database.read() as db:
        return db.scalar(select(func.count()).select_from(model))


def deadline(database, settings, start, limit):
    with database.read() as db:
        return service.deadline(db, settings=settings, start=start, limit=limit)


# --- coverage -------------------------------------------------------------------------------


def test_an_uncovered_year_refuses_a_deadline_naming_it(database, settings):
    with pytest.raises(CalendarNotCovered) as raised:
        deadline(database, settings, beijing(2026, 12, 31, 16), days(1))
    assert raised.value.year == 2027


def test_overrides_alone_do_not_cover_a_year_until_it_is_declared(database, settings):
    enter_2027(database, declare=False)
    with pytest.raises(CalendarNotCovered):
        deadline(database, settings, beijing(2027, 2, 5, 16), hours(4))


def test_deadlines_across_the_2027_spring_festival_once_the_year_is_declared(database, settings):
    enter_2027(database)
    # Friday 5 Feb 16:00: one hour that day, the festival, then 3 hours on Monday 15 Feb.
    assert deadline(database, settings, beijing(2027, 2, 5, 16), hours(4)) == beijing(2027, 2, 15, 12)
    assert deadline(database, settings, beijing(2027, 2, 5, 16), days(2)) == beijing(2027, 2, 16, 16)
    # The make-up Saturday counts; New Year's Day does not.
    assert deadline(database, settings, beijing(2027, 2, 19, 16), days(1)) == beijing(2027, 2, 20, 16)
    assert deadline(database, settings, beijing(2026, 12, 31, 16), days(1)) == beijing(2027, 1, 4, 16)


def test_the_service_calendar_matches_the_pure_function_with_the_same_overrides(database, settings):
    enter_2027(database)
    pure = WorkingCalendar.official(
        overrides={day: working for day, (working, _) in OVERRIDES_2027.items()},
        override_years={2027},
    )
    with database.read() as db:
        stored = service.working_calendar(db, settings=settings)
    for start in (beijing(2026, 12, 30, 10), beijing(2027, 2, 3, 11, 30), beijing(2027, 2, 19, 20)):
        for limit in (hours(1), hours(4), days(1), days(5), TimeLimit("0.5", "working_days")):
            assert stored.deadline(start, limit) == pure.deadline(start, limit), (start, limit)
    assert stored.elapsed(beijing(2027, 2, 1), beijing(2027, 3, 1), LimitUnit.WORKING_DAYS) == \
        pure.elapsed(beijing(2027, 2, 1), beijing(2027, 3, 1), LimitUnit.WORKING_DAYS)


def test_working_hours_come_from_the_settings(database, settings):
    short = settings.model_copy(update={"working_hours": "08:30-12:00,14:00-17:30"})
    with database.read() as db:
        due = service.deadline(db, settings=short, start=beijing(2026, 3, 2, 11), limit=hours(2))
    assert due == beijing(2026, 3, 2, 15)


# --- the days of a year ---------------------------------------------------------------------


def test_days_of_a_library_year_name_holidays_and_make_up_days(database, settings):
    with database.write() as db:
        service.set_override(db, actor=SYSTEM_ACTOR, day=date(2026, 3, 2), working=False,
                             note="更正")
    with database.read() as db:
        view = service.year_days(db, settings=settings, year=2026)
    by_date = {day.date: day for day in view.days}
    assert len(view.days) == 365 and view.covered_by is DaySource.LIBRARY
    assert by_date[date(2026, 2, 14)].kind is DayKind.MAKEUP and by_date[date(2026, 2, 14)].name == "春节"
    assert by_date[date(2026, 2, 16)].kind is DayKind.HOLIDAY and not by_date[date(2026, 2, 16)].working
    assert by_date[date(2026, 3, 7)].kind is DayKind.WEEKEND
    correction = by_date[date(2026, 3, 2)]
    assert correction.source is DaySource.OVERRIDE and not correction.working and correction.name == "更正"
    assert view.overrides == 1 and view.makeup_days == 6
    assert view.working_days == sum(day.working for day in view.days)


def test_days_of_a_declared_year_follow_weekdays_except_overrides(database, settings):
    enter_2027(database)
    with database.read() as db:
        view = service.year_days(db, settings=settings, year=2027)
    by_date = {day.date: day for day in view.days}
    assert view.covered_by is DaySource.WEEKDAY
    assert by_date[date(2027, 3, 1)].source is DaySource.WEEKDAY and by_date[date(2027, 3, 1)].working
    assert by_date[date(2027, 2, 20)].kind is DayKind.MAKEUP
    assert view.makeup_days == 1 and view.holidays == 10  # New Year + 9 festival days


def test_days_of_an_uncovered_year_are_refused(database, settings):
    with database.read() as db, pytest.raises(CalendarNotCovered):
        service.year_days(db, settings=settings, year=2027)


# --- changes are audited, and ambiguous declarations refused ---------------------------------


def test_every_change_is_audited_in_its_transaction_and_bumps_the_revision(database):
    enter_2027(database)
    with database.write() as db:
        service.set_override(db, actor=SYSTEM_ACTOR, day=date(2027, 1, 1), working=False,
                             note="元旦")  # a changed note
    with database.write() as db:
        service.delete_override(db, actor=SYSTEM_ACTOR, day=date(2027, 2, 20))
    entered = len(OVERRIDES_2027)
    assert audit_actions(database) == (
        ["calendar.override.set"] * entered + ["calendar.year.declare", "calendar.override.set",
                                               "calendar.override.delete"])
    with database.read() as db:
        assert service.current_revision(db) == entered + 3
        event = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event.object_type == "calendar_override" and event.object_id == "2027-02-20"
    assert event.before == {"date": "2027-02-20", "working": True, "note": "2027年春节调休上班"}


def test_an_unchanged_override_writes_nothing(database):
    enter_2027(database)
    before = audit_actions(database)
    with database.write() as db:
        service.set_override(db, actor=SYSTEM_ACTOR, day=date(2027, 1, 1), working=False,
                             note=" 2027年元旦 ")
        service.declare_year(db, actor=SYSTEM_ACTOR, year=2027, note="国务院办公厅通知")
    assert audit_actions(database) == before


def test_declaring_a_year_without_any_weekday_holiday_is_refused(database):
    with database.write() as db:  # a Saturday off changes nothing: still a plain Mon–Fri year
        service.set_override(db, actor=SYSTEM_ACTOR, day=date(2027, 2, 6), working=False)
    with database.write() as db, pytest.raises(Conflict) as raised:
        service.declare_year(db, actor=SYSTEM_ACTOR, year=2027)
    assert raised.value.extra["year"] == 2027
    assert count(database, CalendarOverrideYear) == 0
    assert audit_actions(database) == ["calendar.override.set"]


def test_a_whole_arrangement_is_entered_in_one_transaction_or_not_at_all(database, settings):
    rest = {day: note for day, (working, note) in OVERRIDES_2027.items() if not working}
    working = {day: note for day, (is_working, note) in OVERRIDES_2027.items() if is_working}
    weekends_only = {day: None for day in rest if day.weekday() >= 5}
    with database.write() as db, pytest.raises(Conflict):  # the declaration fails: nothing stays
        service.enter_arrangement(db, actor=SYSTEM_ACTOR, year=2027, rest_days=weekends_only,
                                  working_days=working, declare=True)
    assert count(database, CalendarOverride) == 0 and audit_actions(database) == []
    with database.write() as db:
        service.enter_arrangement(db, actor=SYSTEM_ACTOR, year=2027, rest_days=rest, working_days=working,
                                  declare=True)
    assert audit_actions(database) == ["calendar.override.set"] * len(OVERRIDES_2027) + ["calendar.year.declare"]
    with database.read() as db:
        assert service.current_revision(db) == 2  # the overrides, then the declaration
        calendar = service.working_calendar(db, settings=settings)
    assert not calendar.is_working_day(date(2027, 2, 8)) and calendar.is_working_day(date(2027, 2, 20))


def test_declaring_a_year_the_library_covers_is_refused(database):
    with database.write() as db, pytest.raises(Conflict):
        service.declare_year(db, actor=SYSTEM_ACTOR, year=2026)
    assert count(database, CalendarOverrideYear) == 0


def test_a_declared_year_cannot_lose_its_last_weekday_holiday(database):
    with database.write() as db:
        service.set_override(db, actor=SYSTEM_ACTOR, day=date(2027, 1, 1), working=False)
        service.declare_year(db, actor=SYSTEM_ACTOR, year=2027)
    with database.write() as db, pytest.raises(Conflict):
        service.delete_override(db, actor=SYSTEM_ACTOR, day=date(2027, 1, 1))
    with database.write() as db, pytest.raises(Conflict):
        service.set_override(db, actor=SYSTEM_ACTOR, day=date(2027, 1, 1), working=True)
    with database.read() as db:
        assert db.get(CalendarOverride, date(2027, 1, 1)).working is False
    assert audit_actions(database) == ["calendar.override.set", "calendar.year.declare"]


def test_years_out_of_range_and_missing_overrides_are_refused(database):
    with database.write() as db, pytest.raises(InvalidInput):
        service.set_override(db, actor=SYSTEM_ACTOR, day=date(1999, 1, 1), working=True)
    with database.write() as db, pytest.raises(InvalidInput):
        service.declare_year(db, actor=SYSTEM_ACTOR, year=2100)
    with database.write() as db, pytest.raises(NotFound):
        service.delete_override(db, actor=SYSTEM_ACTOR, day=date(2026, 5, 6))
    assert audit_actions(database) == []


# --- the cache --------------------------------------------------------------------------------


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """Counts calendar builds."""
    made: list[int] = []
    original = WorkingCalendar.official.__func__

    def counting(cls, *args, **kwargs):
        made.append(1)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(WorkingCalendar, "official", classmethod(counting))
    return made


def test_the_calendar_is_built_once_and_reused_while_overrides_are_unchanged(database, settings, builds):
    with database.write() as db:  # a fresh revision: whatever an earlier test cached is stale
        service.set_override(db, actor=SYSTEM_ACTOR, day=date(2026, 3, 2), working=False)
    with database.read() as db:
        first = service.working_calendar(db, settings=settings)
    with database.read() as db:
        second = service.working_calendar(db, settings=settings)
    assert first is second and len(builds) == 1


def test_the_cache_notices_a_change_made_by_another_process(database, settings, builds):
    with database.read() as db:
        service.working_calendar(db, settings=settings)
        with pytest.raises(CalendarNotCovered):
            service.deadline(db, settings=settings, start=beijing(2027, 2, 5, 16), limit=hours(4))
    other = Database(database.url)  # another server process: its own engine and connections
    try:
        enter_2027(other)
    finally:
        other.dispose()
    with database.read() as db:
        due = service.deadline(db, settings=settings, start=beijing(2027, 2, 5, 16), limit=hours(4))
    assert due == beijing(2027, 2, 15, 12)
    built = len(builds)
    with database.read() as db:
        service.working_calendar(db, settings=settings)
    assert len(builds) == built  # and it is not rebuilt again


def test_concurrent_callers_share_one_build(database, settings, builds):
    with database.write() as db:
        service.set_override(db, actor=SYSTEM_ACTOR, day=date(2026, 3, 2), working=False)
    results: list[WorkingCalendar] = []
    barrier = threading.Barrier(8)

    def call() -> None:
        barrier.wait()
        with database.read() as db:
            results.append(service.working_calendar(db, settings=settings))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(result is results[0] for result in results)
    assert len(builds) == 1

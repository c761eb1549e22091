"""The working calendar in the database: admin overrides (audited), the cached calendar, clocks.

Other features call `working_calendar(db, settings=...)` (or `deadline` / `elapsed`) and never
build a WorkingCalendar themselves. The calendar is built once per process and reused until
the overrides change: every override transaction writes a fresh random token into the single
`calendar_revision` row, and each call compares that token (one primary-key lookup) with the
one the cached calendar was built at. Several processes sharing one database therefore see an
override as soon as it is committed, without rebuilding per request.
"""

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import chinese_calendar
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gridgov.audit import service as audit
from gridgov.audit.rules import Actor
from gridgov.calendar.models import CalendarOverride, CalendarOverrideYear, CalendarRevision
from gridgov.calendar.rules import LimitUnit, TimeLimit, WorkingCalendar, WorkingHours
from gridgov.calendar.schemas import DayKind, DayOut, DaySource, YearDaysOut
from gridgov.calendar.sources import CalendarNotCovered, library_years
from gridgov.clock import utcnow
from gridgov.config import Settings
from gridgov.db import database_key
from gridgov.errors import Conflict, InvalidInput, NotFound

# Years an override may name: wide enough for any case, narrow enough to keep the tables small.
MIN_YEAR, MAX_YEAR = 2000, 2099
WEEKDAY_LABELS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
# Key of the PostgreSQL advisory lock that serialises calendar changes (SQLite: BEGIN IMMEDIATE).
_CALENDAR_LOCK_KEY = 0x63616C65  # "cale"
_HOLIDAY_NAMES = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}


# --- the cached calendar ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Cached:
    token: str | None
    calendar: WorkingCalendar


_cache: dict[tuple[str, str, str], _Cached] = {}
_build_lock = threading.Lock()


@lru_cache(maxsize=8)
def working_hours(text: str) -> WorkingHours:
    return WorkingHours.parse(text)


def revision_token(db: Session) -> str | None:
    """The token of the current overrides (None before the first change)."""
    return db.scalar(select(CalendarRevision.token).where(CalendarRevision.id == 1))


def working_calendar(db: Session, *, settings: Settings) -> WorkingCalendar:
    """The official calendar plus the overrides in `db`, in the settings' hours and time zone.

    Thread-safe; costs one tiny query while the overrides are unchanged, one build (~30 ms)
    after a change committed by any process.
    """
    key = (database_key(db), settings.working_hours,
           settings.timezone)
    # The token is read before the overrides: a change committed in between makes the cached
    # calendar newer than its token, which only costs one more build, never a stale calendar.
    token = revision_token(db)
    cached = _cache.get(key)
    if cached is not None and cached.token == token:
        return cached.calendar
    with _build_lock:
        cached = _cache.get(key)
        if cached is not None and cached.token == token:
            return cached.calendar
        overrides = db.execute(select(CalendarOverride.day, CalendarOverride.working)).all()
        years = db.scalars(select(CalendarOverrideYear.year)).all()
        calendar = WorkingCalendar.official(
            overrides={day: working for day, working in overrides}, override_years=years,
            hours=working_hours(settings.working_hours), tz=settings.tz,
        )
        _cache[key] = _Cached(token, calendar)
        return calendar


def deadline(db: Session, *, settings: Settings, start: datetime, limit: TimeLimit) -> datetime:
    """When a clock started at `start` (aware) with `limit` runs out, in UTC."""
    return working_calendar(db, settings=settings).deadline(start, limit)


def elapsed(db: Session, *, settings: Settings, start: datetime, end: datetime,
            unit: LimitUnit) -> Decimal:
    """Time from start to end counted in `unit` (working units skip rest time)."""
    return working_calendar(db, settings=settings).elapsed(start, end, unit)


# --- reading ----------------------------------------------------------------------------------


def list_overrides(db: Session, *, year: int | None = None) -> Sequence[CalendarOverride]:
    query = select(CalendarOverride).order_by(CalendarOverride.day)
    if year is not None:
        query = query.where(CalendarOverride.day >= date(year, 1, 1),
                            CalendarOverride.day <= date(year, 12, 31))
    return db.scalars(query).all()


def list_override_years(db: Session) -> Sequence[CalendarOverrideYear]:
    return db.scalars(select(CalendarOverrideYear).order_by(CalendarOverrideYear.year)).all()


def current_revision(db: Session) -> int:
    """How many changes the overrides have seen (0 before the first)."""
    return db.scalar(select(CalendarRevision.revision).where(CalendarRevision.id == 1)) or 0


def year_days(db: Session, *, settings: Settings, year: int) -> YearDaysOut:
    """Every day of a covered year: working or not, why, and the holiday name."""
    calendar = working_calendar(db, settings=settings)
    if year not in calendar.covered_years:
        raise CalendarNotCovered(year)
    overrides = {row.day: row for row in list_overrides(db, year=year)}
    in_library = year in library_years()
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        working = calendar.is_working_day(day)
        override = overrides.get(day)
        if override is not None:
            source, name = DaySource.OVERRIDE, override.note
        elif in_library:
            source, name = DaySource.LIBRARY, _library_name(day)
        else:
            source, name = DaySource.WEEKDAY, None
        days.append(DayOut(
            date=day, weekday=day.isoweekday(), weekday_label=WEEKDAY_LABELS[day.weekday()],
            working=working, kind=_kind(day, working, name), source=source, name=name,
        ))
        day += timedelta(days=1)
    return YearDaysOut(
        year=year, covered_by=DaySource.LIBRARY if in_library else DaySource.WEEKDAY,
        working_days=sum(d.working for d in days),
        holidays=sum(d.kind is DayKind.HOLIDAY for d in days),
        makeup_days=sum(d.kind is DayKind.MAKEUP for d in days),
        overrides=len(overrides), days=days,
    )


def _library_name(day: date) -> str | None:
    english = chinese_calendar.holidays.get(day) or chinese_calendar.workdays.get(day)
    return _HOLIDAY_NAMES.get(english, english) if english else None


def _kind(day: date, working: bool, name: str | None) -> DayKind:
    weekend = day.weekday() >= 5
    if working:
        return DayKind.MAKEUP if weekend else DayKind.WORKDAY
    return DayKind.HOLIDAY if not weekend or name else DayKind.WEEKEND


# --- changes (admin) --------------------------------------------------------------------------


def override_snapshot(row: CalendarOverride) -> dict:
    return {"date": row.day.isoformat(), "working": row.working, "note": row.note}


def year_snapshot(row: CalendarOverrideYear) -> dict:
    return {"year": row.year, "note": row.note}


def set_override(db: Session, *, actor: Actor, day: date, working: bool,
                 note: str | None = None) -> CalendarOverride:
    """Declare `day` a working day or a rest day (wins over chinese-calendar)."""
    [row] = _set_overrides(db, actor=actor, days=[(day, working, note)])
    db.commit()
    return row


def enter_arrangement(db: Session, *, actor: Actor, year: int, rest_days: Mapping[date, str | None],
                      working_days: Mapping[date, str | None], declare: bool) -> None:
    """A year's official arrangement — its rest days, its make-up working days and, if asked,
    the declaration that the year is complete — in one transaction: entered as a whole or not
    at all, each day still its own audited change."""
    _set_overrides(db, actor=actor, days=[
        *((day, False, note) for day, note in sorted(rest_days.items())),
        *((day, True, note) for day, note in sorted(working_days.items()))])
    if declare:
        _declare(db, actor=actor, year=year, note=None)
    db.commit()


def _set_overrides(db: Session, *, actor: Actor,
                   days: Sequence[tuple[date, bool, str | None]]) -> list[CalendarOverride]:
    for day, _, _ in days:
        _check_year(day.year, field="date")
    _lock_calendar(db)
    rows, changed_years, events = [], set(), []
    for day, working, raw_note in days:
        note = _clean_note(raw_note)
        row = db.get(CalendarOverride, day, populate_existing=True)
        rows.append(row)
        if row is not None and row.working == working and row.note == note:
            continue
        before = override_snapshot(row) if row is not None else None
        if row is None:
            row = rows[-1] = CalendarOverride(day=day)
            db.add(row)
        row.working, row.note, row.updated_at = working, note, utcnow()
        events.append(audit.Entry(actor, "calendar.override.set", "calendar_override", day.isoformat(),
                                  before=before, after=override_snapshot(row)))
        changed_years.add(day.year)
    db.flush()
    for year in sorted(changed_years):
        _check_declared_year_complete(db, year)
    if changed_years:
        _bump_revision(db)
    audit.record_many(db, events)
    return rows


def delete_override(db: Session, *, actor: Actor, day: date) -> None:
    """Remove the override of `day`: it follows chinese-calendar (or Mon–Fri) again."""
    _lock_calendar(db)
    row = db.get(CalendarOverride, day, populate_existing=True)
    if row is None:
        raise NotFound(f"{day.isoformat()} 没有补录的工作日历调整")
    before = override_snapshot(row)
    db.delete(row)
    db.flush()
    _check_declared_year_complete(db, day.year)
    _bump_revision(db)
    audit.record(db, actor=actor, action="calendar.override.delete",
                 object_type="calendar_override", object_id=day.isoformat(), before=before)
    db.commit()


def declare_year(db: Session, *, actor: Actor, year: int,
                 note: str | None = None) -> CalendarOverrideYear:
    """Declare `year` fully entered: its days without an override follow Mon–Fri from now on.

    Refused for a year chinese-calendar covers (nothing to declare) and for a year whose
    overrides contain no rest day on a Monday–Friday: every year has official holidays, so such
    a year is not entered yet and would silently count as a plain Mon–Fri year.
    """
    row = _declare(db, actor=actor, year=year, note=note)
    db.commit()
    return row


def _declare(db: Session, *, actor: Actor, year: int, note: str | None) -> CalendarOverrideYear:
    _check_year(year, field="year")
    if year in library_years():
        raise Conflict(f"{year} 年的节假日安排已由 chinese-calendar 提供，无需声明；"
                       "个别日期的更正请直接补录该日。", year=year)
    note = _clean_note(note)
    _lock_calendar(db)
    row = db.get(CalendarOverrideYear, year, populate_existing=True)
    if row is not None and row.note == note:
        return row
    if row is None:
        if problem := _incomplete_year_problem(db, year):
            raise Conflict(problem, year=year)
        before = None
        row = CalendarOverrideYear(year=year, declared_at=utcnow())
        db.add(row)
    else:
        before = year_snapshot(row)
    row.note = note
    db.flush()
    _bump_revision(db)
    audit.record(db, actor=actor, action="calendar.year.declare", object_type="calendar_year",
                 object_id=year, before=before, after=year_snapshot(row))
    return row


def _check_year(year: int, *, field: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        message = f"年份须在 {MIN_YEAR}–{MAX_YEAR} 之间，收到 {year}"
        raise InvalidInput(message, errors=[{"field": field, "message": message}])


def _clean_note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > 100:
        raise InvalidInput("说明不能超过 100 个字", errors=[{"field": "note", "message": "过长"}])
    return note or None


def _lock_calendar(db: Session) -> None:
    """Serialise calendar changes, so that each reads the state the previous one committed."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CALENDAR_LOCK_KEY})


def _bump_revision(db: Session) -> None:
    row = db.get(CalendarRevision, 1, populate_existing=True)
    if row is None:
        row = CalendarRevision(id=1, revision=0)
        db.add(row)
    row.revision += 1
    row.token = uuid.uuid4().hex
    row.changed_at = utcnow()
    db.flush()


def _incomplete_year_problem(db: Session, year: int) -> str | None:
    if any(not row.working and row.day.weekday() < 5 for row in list_overrides(db, year=year)):
        return None
    return (f"{year} 年尚未补录任何落在周一至周五的休息日（元旦、春节等法定节假日）；"
            f"若此时声明，{year} 年将完全按周一至周五上班计算。请先补录该年的节假日与调休安排。")


def _check_declared_year_complete(db: Session, year: int) -> None:
    """A change must not leave a declared year without its holidays."""
    if year in library_years() or db.get(CalendarOverrideYear, year) is None:
        return
    if problem := _incomplete_year_problem(db, year):
        raise Conflict(f"{year} 年已声明为完整补录，该修改会使其没有任何节假日：{problem}",
                       year=year)

"""Working calendar: days of a year, deadlines and elapsed working time; admin overrides."""

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import AwareDatetime

from gridgov.auth.deps import Authorization, CurrentPrincipal, require
from gridgov.auth.policy import Action
from gridgov.calendar import service
from gridgov.calendar.models import CalendarOverride, CalendarOverrideYear
from gridgov.calendar.rules import LimitUnit, TimeLimit
from gridgov.calendar.schemas import (
    DeadlineOut,
    ElapsedOut,
    LimitOut,
    OverrideIn,
    OverrideOut,
    OverridesOut,
    OverrideYearIn,
    OverrideYearOut,
    YearDaysOut,
)
from gridgov.calendar.sources import library_years
from gridgov.http import SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar 工作日历"])

Year = Annotated[int, Path(ge=service.MIN_YEAR, le=service.MAX_YEAR)]
YearQuery = Annotated[int, Query(ge=service.MIN_YEAR, le=service.MAX_YEAR)]
# A naive datetime fails validation: a 422 problem naming the parameter.
Instant = Annotated[
    AwareDatetime, Query(description="ISO 8601 with an offset, e.g. 2026-02-13T16:00:00+08:00")]
_SIX_PLACES = Decimal("0.000001")


def override_out(row: CalendarOverride) -> OverrideOut:
    return OverrideOut(date=row.day, weekday=row.day.isoweekday(), working=row.working,
                       note=row.note, updated_at=row.updated_at)


def year_out(row: CalendarOverrideYear) -> OverrideYearOut:
    return OverrideYearOut(year=row.year, note=row.note, declared_at=row.declared_at)


@router.get("/days", response_model=YearDaysOut)
def days(
    db: SessionDep, settings: SettingsDep, principal: CurrentPrincipal,
    year: YearQuery,
) -> YearDaysOut:
    """Every day of a year: working or not, kind (工作日/调休上班/节假日/周末) and source
    (library = chinese-calendar, override = admin override, weekday = Mon–Fri rule of a
    declared year). An uncovered year is a 409 `calendar-not-covered` problem."""
    return service.year_days(db, settings=settings, year=year)


@router.get("/deadline", response_model=DeadlineOut)
def deadline(
    db: SessionDep, settings: SettingsDep, principal: CurrentPrincipal, start: Instant,
    value: Annotated[Decimal, Query(description="the limit, e.g. 4 or 0.5")],
    unit: Annotated[LimitUnit, Query()],
) -> DeadlineOut:
    """When a clock started at `start` with a limit of `value` `unit` runs out."""
    limit = TimeLimit(value, unit)
    due = service.deadline(db, settings=settings, start=start, limit=limit)
    return DeadlineOut(
        start=start, limit=LimitOut(value=limit.value, unit=limit.unit, text=str(limit)),
        deadline_utc=due, deadline_local=due.astimezone(settings.tz), timezone=settings.timezone,
    )


@router.get("/elapsed", response_model=ElapsedOut)
def elapsed(
    db: SessionDep, settings: SettingsDep, principal: CurrentPrincipal, start: Instant,
    end: Instant, unit: Annotated[LimitUnit, Query()],
) -> ElapsedOut:
    """Time from `start` to `end` counted in `unit` (working units skip rest time)."""
    calendar = service.working_calendar(db, settings=settings)
    amount = calendar.elapsed(start, end, unit)
    unit_seconds = calendar.limit_seconds(TimeLimit(1, unit))
    return ElapsedOut(start=start, end=end, unit=unit, elapsed=amount.quantize(_SIX_PLACES),
                      seconds=(amount * unit_seconds).quantize(_SIX_PLACES).normalize())


@router.get("/overrides", response_model=OverridesOut)
def list_overrides(
    db: SessionDep,
    year: Annotated[int | None, Query(ge=service.MIN_YEAR, le=service.MAX_YEAR)] = None,
    auth: Authorization = require(Action.CONFIG_MANAGE),
) -> OverridesOut:
    """Admin overrides (optionally of one year), the declared override years and the revision."""
    covered = library_years()
    return OverridesOut(
        revision=service.current_revision(db),
        library_years=[covered.start, covered.stop - 1] if covered else [],
        override_years=[year_out(row) for row in service.list_override_years(db)],
        overrides=[override_out(row) for row in service.list_overrides(db, year=year)],
    )


@router.put("/overrides/{day}", response_model=OverrideOut)
def set_override(day: date, body: OverrideIn, db: SessionDep,
                 auth: Authorization = require(Action.CONFIG_MANAGE)) -> OverrideOut:
    """Declare a day a working day (`working: true`, e.g. 调休上班) or a rest day."""
    row = service.set_override(db, actor=auth.actor, day=day, working=body.working, note=body.note)
    return override_out(row)


@router.delete("/overrides/{day}", status_code=204, response_class=Response)
def delete_override(day: date, db: SessionDep,
                    auth: Authorization = require(Action.CONFIG_MANAGE)) -> Response:
    """Remove a day's override: it follows chinese-calendar (or Mon–Fri) again."""
    service.delete_override(db, actor=auth.actor, day=day)
    return Response(status_code=204)


@router.put("/override-years/{year}", response_model=OverrideYearOut)
def declare_year(year: Year, db: SessionDep, body: Annotated[OverrideYearIn | None, Body()] = None,
                 auth: Authorization = require(Action.CONFIG_MANAGE)) -> OverrideYearOut:
    """Declare a year fully entered by overrides: its other days follow Mon–Fri. Enter the
    year's holidays and make-up days first; a year without any weekday rest day is refused."""
    row = service.declare_year(db, actor=auth.actor, year=year, note=body.note if body else None)
    return year_out(row)

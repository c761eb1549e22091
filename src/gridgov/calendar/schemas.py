from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from gridgov.calendar.rules import LimitUnit


class DaySource(StrEnum):
    """Where a day's working / rest status comes from."""

    LIBRARY = "library"  # the official arrangement (chinese-calendar)
    OVERRIDE = "override"  # an admin override of that day
    WEEKDAY = "weekday"  # Mon–Fri rule of a year the admin declared fully entered


class DayKind(StrEnum):
    WORKDAY = "workday"  # a working Monday–Friday
    MAKEUP = "makeup"  # a working Saturday or Sunday (调休上班)
    HOLIDAY = "holiday"  # a rest day that is a weekday or a named holiday day
    WEEKEND = "weekend"  # an ordinary Saturday or Sunday off

    @property
    def label(self) -> str:
        return {"workday": "工作日", "makeup": "调休上班", "holiday": "节假日",
                "weekend": "周末"}[self.value]


class DayOut(BaseModel):
    date: date
    weekday: int = Field(description="ISO weekday: 1 = Monday … 7 = Sunday")
    weekday_label: str
    working: bool
    kind: DayKind
    source: DaySource
    name: str | None = Field(description="holiday name, or the override's note")


class YearDaysOut(BaseModel):
    year: int
    covered_by: DaySource = Field(description="library: chinese-calendar; weekday: override year")
    working_days: int
    holidays: int
    makeup_days: int
    overrides: int
    days: list[DayOut]


class OverrideIn(BaseModel):
    working: bool
    note: str | None = Field(default=None, max_length=100)


class OverrideOut(BaseModel):
    date: date
    weekday: int
    working: bool
    note: str | None
    updated_at: datetime


class OverrideYearIn(BaseModel):
    note: str | None = Field(default=None, max_length=100)


class OverrideYearOut(BaseModel):
    year: int
    note: str | None
    declared_at: datetime


class OverridesOut(BaseModel):
    revision: int = Field(description="bumped by every change to overrides or override years")
    library_years: list[int] = Field(description="first and last year chinese-calendar covers")
    override_years: list[OverrideYearOut]
    overrides: list[OverrideOut]


class LimitOut(BaseModel):
    value: Decimal
    unit: LimitUnit
    text: str


class DeadlineOut(BaseModel):
    start: datetime
    limit: LimitOut
    deadline_utc: datetime
    deadline_local: datetime
    timezone: str


class ElapsedOut(BaseModel):
    start: datetime
    end: datetime
    unit: LimitUnit
    elapsed: Decimal = Field(
        description="in `unit`, rounded to 6 decimal places; negative if end < start")
    seconds: Decimal = Field(description="working (or natural) seconds between start and end")

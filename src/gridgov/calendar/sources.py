"""Which days are working days: chinese-calendar's official arrangement plus admin overrides."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from types import MappingProxyType
from typing import Protocol

import chinese_calendar

from gridgov.errors import DomainError


class CalendarNotCovered(DomainError):
    """The holiday arrangement of a year is unknown, so working time cannot be counted in it."""

    status = 409
    code = "calendar-not-covered"
    title = "工作日历未覆盖该年份"

    def __init__(self, year: int):
        super().__init__(
            f"{year} 年的法定节假日和调休安排尚未录入，无法按工作时间计算时限；"
            f"请管理员先补录 {year} 年的节假日与调休安排。",
            year=year,
        )
        self.year = year


class DayClassifier(Protocol):
    """Says whether a day is a working day, for the years it covers."""

    @property
    def covered_years(self) -> frozenset[int]: ...

    def is_working_day(self, day: date) -> bool:
        """Raises CalendarNotCovered for a day outside `covered_years`."""
        ...


@cache
def library_years() -> range:
    """Years chinese-calendar has official data for: 2004–2026 in 1.11.0.

    The library raises NotImplementedError outside the span of its `holidays` table; we derive
    the same span from that table, so upgrading the library extends coverage by itself.
    """
    years = {day.year for day in chinese_calendar.holidays}
    return range(min(years), max(years) + 1) if years else range(0)


def _library_says_working(day: date) -> bool:
    # Same rule as chinese_calendar.is_workday, which re-validates the year by scanning its
    # whole table on every call (~25 µs); building a calendar asks about thousands of days.
    if day in chinese_calendar.workdays:
        return True
    return day.weekday() < 5 and day not in chinese_calendar.holidays


@dataclass(frozen=True, eq=False)
class OfficialDayClassifier:
    """Official holidays and make-up working days (调休), corrected and extended by admin overrides.

    - `overrides` maps a day to whether it is a working day; it wins over the library.
    - `override_years` are years the admin declares fully entered: in them, a day without an
      override follows the weekday rule (Mon–Fri work). This is how years the library does not
      know yet are covered. Overrides in a year that is neither in the library nor declared do
      not cover it: a half-entered year must not silently fall back to the weekday rule.
    """

    overrides: Mapping[date, bool] = field(default_factory=dict)
    override_years: frozenset[int] = frozenset()
    covered_years: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        overrides = dict(self.overrides)
        for day, working in overrides.items():
            if type(day) is not date:
                raise TypeError(f"override key must be a date, not {type(day).__name__}: {day!r}")
            if not isinstance(working, bool):
                raise TypeError(f"override for {day} must be a bool, not {working!r}")
        override_years = frozenset(self.override_years)
        object.__setattr__(self, "overrides", MappingProxyType(overrides))
        object.__setattr__(self, "override_years", override_years)
        object.__setattr__(self, "covered_years", frozenset(library_years()) | override_years)

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[date, bool]], override_years: Iterable[int] = ()
    ) -> "OfficialDayClassifier":
        """Build from (day, is_working_day) rows, e.g. an overrides table."""
        return cls(overrides=dict(rows), override_years=frozenset(override_years))

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            raise TypeError("is_working_day takes a date, not a datetime")
        if day.year not in self.covered_years:
            raise CalendarNotCovered(day.year)
        override = self.overrides.get(day)
        if override is not None:
            return override
        if day.year in library_years():
            return _library_says_working(day)
        return day.weekday() < 5

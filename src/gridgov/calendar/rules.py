"""Time-limit clocks over a working calendar: deadlines, elapsed time, overdue and warning checks.

Definitions (the contract other modules rely on):

- Instants in and out are timezone-aware datetimes; results are in UTC. A naive datetime is
  refused. Working time is counted on the local wall clock of the calendar's zone
  (Asia/Shanghai: UTC+8, no daylight saving since 1991).
- Working time W(t) advances one second per second inside working hours of working days and
  stands still otherwise. A clock started at night, at the weekend, on a holiday or during the
  lunch break therefore starts at the next working moment.
- deadline(start, n) is the earliest instant t with W(t) = W(start) + n. It lands inside
  working hours or exactly at the end of a period (12:00, 17:00), never at the following
  period start. deadline(start, 0) == start.
- N working days = N x the working seconds of one working day (6.5 h with the default hours).
  A case dispatched at 15:00 on a working day with 1 working day is due at 15:00 on the next
  working day; dispatched at 20:00 it is due at 17:00 on the next working day.
- A limit resolves to a whole number of seconds (value x unit length, rounded half up), so
  fractional limits such as 0.5 working days are accepted. Instants keep their microseconds.
- Natural units ignore the calendar: elapsed physical time, valid in any year.
- A working-time computation touching a year the calendar does not cover raises
  CalendarNotCovered naming that year; there is no fallback to a weekday rule.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from gridgov.calendar.sources import CalendarNotCovered, DayClassifier, OfficialDayClassifier
from gridgov.errors import InvalidInput

__all__ = [
    "DEFAULT_WARNING_FRACTION",
    "DEFAULT_WORKING_HOURS",
    "SHANGHAI",
    "CalendarNotCovered",
    "LimitUnit",
    "NaiveDatetimeError",
    "TimeLimit",
    "WorkingCalendar",
    "WorkingHours",
    "is_overdue",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_WARNING_FRACTION = 0.8

_MICROS = 1_000_000
_ONE_MICROSECOND = timedelta(microseconds=1)


class NaiveDatetimeError(ValueError):
    """A datetime without time zone reached the calendar: a programming error, not user input."""


class LimitUnit(StrEnum):
    WORKING_MINUTES = "working_minutes"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    NATURAL_MINUTES = "natural_minutes"
    NATURAL_HOURS = "natural_hours"
    NATURAL_DAYS = "natural_days"

    @property
    def counts_working_time(self) -> bool:
        return self in _WORKING_UNITS

    @property
    def label(self) -> str:
        return _UNIT_LABELS[self]


_WORKING_UNITS = frozenset(
    {LimitUnit.WORKING_MINUTES, LimitUnit.WORKING_HOURS, LimitUnit.WORKING_DAYS}
)
_UNIT_LABELS = {
    LimitUnit.WORKING_MINUTES: "工作分钟",
    LimitUnit.WORKING_HOURS: "工作小时",
    LimitUnit.WORKING_DAYS: "工作日",
    LimitUnit.NATURAL_MINUTES: "分钟",
    LimitUnit.NATURAL_HOURS: "小时",
    LimitUnit.NATURAL_DAYS: "自然日",
}
# Working days have no fixed length: it comes from the calendar's working hours.
_FIXED_UNIT_SECONDS = {
    LimitUnit.WORKING_MINUTES: 60,
    LimitUnit.WORKING_HOURS: 3600,
    LimitUnit.NATURAL_MINUTES: 60,
    LimitUnit.NATURAL_HOURS: 3600,
    LimitUnit.NATURAL_DAYS: 86_400,
}


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """A handling or node time limit such as 4 working hours; value is a non-negative Decimal."""

    value: Decimal
    unit: LimitUnit

    def __init__(self, value: Decimal | int | float | str, unit: LimitUnit | str):
        object.__setattr__(self, "value", _limit_value(value))
        object.__setattr__(self, "unit", _limit_unit(unit))

    def __add__(self, other: "TimeLimit") -> "TimeLimit":
        if not isinstance(other, TimeLimit):
            return NotImplemented
        if other.unit is not self.unit:
            raise ValueError(f"cannot add {other.unit} to {self.unit}")
        return TimeLimit(self.value + other.value, self.unit)

    def __str__(self) -> str:
        return f"{self.value.normalize():f} {self.unit.label}"


def _limit_value(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise InvalidInput(f"时限数值无效：{value!r}")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))  # 0.1 means 0.1, not its binary approximation
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInput(f"时限数值无效：{value!r}") from None
    else:
        raise TypeError(f"time limit value must be a number, not {type(value).__name__}")
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"时限必须是非负的有限数值，收到 {value!r}")
    return amount


def _limit_unit(unit: Any) -> LimitUnit:
    try:
        return LimitUnit(unit)
    except ValueError:
        known = "、".join(member.value for member in LimitUnit)
        raise InvalidInput(f"未知的时限单位 {unit!r}，可用单位：{known}") from None


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Daily working periods in local wall-clock time, the same on every working day."""

    periods: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(17)))

    def __post_init__(self) -> None:
        periods = tuple((start, end) for start, end in self.periods)
        if not periods:
            raise InvalidInput("工作时段不能为空")
        previous_end: time | None = None
        for start, end in periods:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise InvalidInput("工作时段按当地时间填写，不能带时区")
            if not start < end:
                raise InvalidInput(f"工作时段 {start:%H:%M}-{end:%H:%M} 的开始时间必须早于结束时间")
            if previous_end is not None and start < previous_end:
                raise InvalidInput("工作时段必须按时间先后排列且互不重叠")
            previous_end = end
        object.__setattr__(self, "periods", periods)

    @classmethod
    def parse(cls, text: str) -> "WorkingHours":
        """Parse the settings format '09:00-12:00,13:30-17:00'."""
        periods = []
        for chunk in text.replace("，", ",").split(","):
            if not chunk.strip():
                continue
            try:
                start_text, end_text = chunk.replace("–", "-").split("-")
                periods.append(
                    (time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip()))
                )
            except ValueError:
                raise InvalidInput(
                    f"无法解析工作时段 {chunk.strip()!r}，格式应为 09:00-12:00,13:30-17:00"
                ) from None
        return cls(tuple(periods))

    @property
    def day_seconds(self) -> int:
        return sum(_seconds_of_day(end) - _seconds_of_day(start) for start, end in self.periods)

    def __str__(self) -> str:
        return ",".join(f"{_clock(start)}-{_clock(end)}" for start, end in self.periods)


DEFAULT_WORKING_HOURS = WorkingHours()


def _seconds_of_day(moment: time) -> int:
    return (moment.hour * 60 + moment.minute) * 60 + moment.second


def _clock(moment: time) -> str:
    return moment.isoformat(timespec="seconds" if moment.second else "minutes")


def _require_aware(instant: datetime) -> None:
    if not isinstance(instant, datetime):
        raise TypeError(f"expected an aware datetime, got {type(instant).__name__}")
    if instant.utcoffset() is None:
        raise NaiveDatetimeError(
            f"naive datetime {instant.isoformat()} refused: pass a timezone-aware (UTC) instant"
        )


def is_overdue(deadline: datetime, now: datetime) -> bool:
    """Finishing exactly at the deadline is on time."""
    _require_aware(deadline)
    _require_aware(now)
    return now > deadline


class WorkingCalendar:
    """Working days x working hours in one time zone; immutable, tables built once.

    Tables span every day from 1 January of the first covered year to 31 December of the
    last: `_cumulative[i]` is the working time (in microseconds) before day i, so working time
    at an instant is one lookup and a deadline is one bisect. Uncovered years between covered
    ones count as non-working in the tables and are refused by `_check_no_gap`.
    """

    __slots__ = (
        "_covered_years",
        "_cumulative",
        "_day_seconds",
        "_first_ordinal",
        "_first_year",
        "_gap_years",
        "_hours",
        "_last_year",
        "_periods",
        "_tz",
        "_utc_midnights",
        "_working",
    )
    _covered_years: frozenset[int]
    _cumulative: tuple[int, ...]  # working microseconds before day i; one more entry than days
    _day_seconds: int
    _first_ordinal: int
    _first_year: int
    _gap_years: tuple[int, ...]  # uncovered years between the first and last covered ones
    _hours: WorkingHours
    _last_year: int
    _periods: tuple[tuple[int, int, int], ...]  # (start, end, worked before) in µs of the day
    _tz: tzinfo
    _utc_midnights: tuple[datetime | None, ...]  # None on a day whose UTC offset changes
    _working: bytes

    def __init__(
        self,
        classifier: DayClassifier,
        hours: WorkingHours = DEFAULT_WORKING_HOURS,
        tz: tzinfo = SHANGHAI,
    ):
        covered = frozenset(classifier.covered_years)
        if not covered:
            raise ValueError("the day classifier covers no year")
        first_year, last_year = min(covered), max(covered)
        first_ordinal = date(first_year, 1, 1).toordinal()
        end_ordinal = date(last_year + 1, 1, 1).toordinal()
        day_micros = hours.day_seconds * _MICROS

        working = bytearray()
        cumulative = [0]
        utc_midnights: list[datetime | None] = []
        midnight = datetime.fromordinal(first_ordinal).replace(tzinfo=tz)
        for ordinal in range(first_ordinal, end_ordinal):
            day = date.fromordinal(ordinal)
            is_working = day.year in covered and classifier.is_working_day(day)
            working.append(is_working)
            cumulative.append(cumulative[-1] + (day_micros if is_working else 0))
            next_midnight = datetime.fromordinal(ordinal + 1).replace(tzinfo=tz)
            # A day whose UTC offset changes (daylight saving) has no single midnight to add to.
            steady = midnight.utcoffset() == next_midnight.utcoffset()
            utc_midnights.append(midnight.astimezone(UTC) if steady else None)
            midnight = next_midnight

        periods = []
        before = 0
        for start, end in hours.periods:
            start_micros = _seconds_of_day(start) * _MICROS
            end_micros = _seconds_of_day(end) * _MICROS
            periods.append((start_micros, end_micros, before))
            before += end_micros - start_micros

        assign = object.__setattr__
        assign(self, "_hours", hours)
        assign(self, "_tz", tz)
        assign(self, "_covered_years", covered)
        assign(self, "_first_year", first_year)
        assign(self, "_last_year", last_year)
        assign(self, "_first_ordinal", first_ordinal)
        assign(self, "_working", bytes(working))
        assign(self, "_cumulative", tuple(cumulative))
        assign(self, "_utc_midnights", tuple(utc_midnights))
        assign(self, "_day_seconds", hours.day_seconds)
        assign(
            self,
            "_gap_years",
            tuple(year for year in range(first_year, last_year + 1) if year not in covered),
        )
        assign(self, "_periods", tuple(periods))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("WorkingCalendar is immutable; build a new one")

    @classmethod
    def official(
        cls,
        overrides: Mapping[date, bool] | None = None,
        override_years: Iterable[int] = (),
        hours: WorkingHours = DEFAULT_WORKING_HOURS,
        tz: tzinfo = SHANGHAI,
    ) -> "WorkingCalendar":
        """chinese-calendar's official arrangement plus admin overrides."""
        classifier = OfficialDayClassifier(
            overrides=overrides or {}, override_years=frozenset(override_years)
        )
        return cls(classifier, hours, tz)

    @property
    def covered_years(self) -> frozenset[int]:
        return self._covered_years

    @property
    def hours(self) -> WorkingHours:
        return self._hours

    @property
    def tz(self) -> tzinfo:
        return self._tz

    @property
    def working_day_seconds(self) -> int:
        return self._day_seconds

    def limit_seconds(self, limit: TimeLimit) -> int:
        """The limit in whole seconds (working seconds for working units)."""
        amount = limit.value * self._unit_seconds(limit.unit)
        return int(amount.to_integral_value(rounding=ROUND_HALF_UP))

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            raise TypeError("is_working_day takes a date, not a datetime")
        index = day.toordinal() - self._first_ordinal
        if day.year in self._gap_years or not 0 <= index < len(self._working):
            raise CalendarNotCovered(day.year)
        return bool(self._working[index])

    def is_working_time(self, instant: datetime) -> bool:
        index, micros_of_day, _ = self._locate(instant)
        if not self._working[index]:
            return False
        return any(start <= micros_of_day < end for start, end, _ in self._periods)

    def next_working_moment(self, instant: datetime) -> datetime:
        """When a clock started at `instant` begins to run (`instant` itself in working time)."""
        index, micros_of_day, year = self._locate(instant)
        if self._working[index]:
            for start, end, _ in self._periods:
                if micros_of_day < end:
                    if micros_of_day >= start:
                        return instant.astimezone(UTC)
                    return self._utc_at(index, start)
        cumulative = self._cumulative
        # Days after `index` up to the next working day all share cumulative[index + 1].
        following = bisect_right(cumulative, cumulative[index + 1]) - 1
        if following >= len(self._working):
            raise CalendarNotCovered(self._last_year + 1)
        moment = self._utc_at(following, self._periods[0][0])
        self._check_no_gap(year, moment.astimezone(self._tz).year)
        return moment

    def deadline(self, start: datetime, limit: TimeLimit) -> datetime:
        if not limit.unit.counts_working_time:
            _require_aware(start)
            return start.astimezone(UTC) + timedelta(seconds=self.limit_seconds(limit))
        begin, start_year = self._working_micros(start)
        amount = self.limit_seconds(limit) * _MICROS
        if amount == 0:
            return start.astimezone(UTC)
        target = begin + amount
        cumulative = self._cumulative
        if target > cumulative[-1]:
            raise CalendarNotCovered(self._last_year + 1)
        index = bisect_left(cumulative, target) - 1  # the working day in which target is reached
        due = self._utc_at(index, self._time_of_day_when(target - cumulative[index]))
        if self._gap_years:
            self._check_no_gap(start_year, date.fromordinal(self._first_ordinal + index).year)
        return due

    def elapsed(self, start: datetime, end: datetime, unit: LimitUnit) -> Decimal:
        """Time from start to end counted in `unit` (negative if end is before start)."""
        micros = self._elapsed_micros(start, end, unit)
        return Decimal(micros) / (self._unit_seconds(unit) * _MICROS)

    def fraction_used(
        self, start: datetime, deadline: datetime, now: datetime, unit: LimitUnit
    ) -> float:
        """Share of the time between start and deadline used by `now` (> 1 once overdue).

        Compare with DEFAULT_WARNING_FRACTION for the 80 % warning. A zero-length limit counts
        as fully used as soon as its deadline is reached.
        """
        _require_aware(now)
        budget = self._elapsed_micros(start, deadline, unit)
        if budget <= 0:
            return 1.0 if now >= deadline else 0.0
        used = max(0, self._elapsed_micros(start, now, unit))
        return used / budget

    def _unit_seconds(self, unit: LimitUnit) -> int:
        if unit is LimitUnit.WORKING_DAYS:
            return self._day_seconds
        return _FIXED_UNIT_SECONDS[unit]

    def _elapsed_micros(self, start: datetime, end: datetime, unit: LimitUnit) -> int:
        if not unit.counts_working_time:
            _require_aware(start)
            _require_aware(end)
            return (end - start) // _ONE_MICROSECOND
        begin, start_year = self._working_micros(start)
        finish, end_year = self._working_micros(end)
        self._check_no_gap(min(start_year, end_year), max(start_year, end_year))
        return finish - begin

    def _locate(self, instant: datetime) -> tuple[int, int, int]:
        """(day index in the tables, microseconds since local midnight, local year)."""
        _require_aware(instant)
        local = instant.astimezone(self._tz)
        index = local.toordinal() - self._first_ordinal
        if not 0 <= index < len(self._working) or local.year in self._gap_years:
            raise CalendarNotCovered(local.year)
        micros_of_day = (
            (local.hour * 60 + local.minute) * 60 + local.second
        ) * _MICROS + local.microsecond
        return index, micros_of_day, local.year

    def _working_micros(self, instant: datetime) -> tuple[int, int]:
        """Working microseconds from the start of the tables to `instant`, and its local year."""
        index, micros_of_day, year = self._locate(instant)
        total = self._cumulative[index]
        if self._working[index]:
            total += self._worked_by(micros_of_day)
        return total, year

    def _worked_by(self, micros_of_day: int) -> int:
        """Working microseconds of a working day elapsed at this local time of day."""
        for start, end, before in self._periods:
            if micros_of_day <= start:
                return before
            if micros_of_day < end:
                return before + micros_of_day - start
        return self._day_seconds * _MICROS

    def _time_of_day_when(self, worked: int) -> int:
        """Earliest local time of day by which `worked` (0 < worked <= one day) is done."""
        for start, end, before in self._periods:
            if worked <= before + end - start:
                return start + worked - before
        raise AssertionError(f"{worked} exceeds one working day")

    def _utc_at(self, index: int, micros_of_day: int) -> datetime:
        utc_midnight = self._utc_midnights[index]
        if utc_midnight is not None:
            return utc_midnight + timedelta(microseconds=micros_of_day)
        local = datetime.fromordinal(self._first_ordinal + index) + timedelta(
            microseconds=micros_of_day
        )
        return local.replace(tzinfo=self._tz).astimezone(UTC)

    def _check_no_gap(self, from_year: int, to_year: int) -> None:
        gaps = self._gap_years
        if gaps:
            position = bisect_right(gaps, from_year)
            if position < len(gaps) and gaps[position] <= to_year:
                raise CalendarNotCovered(gaps[position])

"""A plausible 2027 arrangement as an admin would enter it before chinese-calendar knows 2027.

2027-01-01 (Friday) New Year; Spring Festival (2027-02-06 is 初一, a Saturday) off from
Saturday 6 to Sunday 14 February, with Saturday 20 February a make-up working day.
"""

from datetime import UTC, date, datetime

from gridgov.calendar.rules import SHANGHAI

OVERRIDES_2027: dict[date, tuple[bool, str]] = {
    date(2027, 1, 1): (False, "2027年元旦"),
    **{date(2027, 2, day): (False, "2027年春节") for day in range(6, 15)},
    date(2027, 2, 20): (True, "2027年春节调休上班"),
}


def beijing(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)

"""The few expressions SQLite and PostgreSQL spell differently: local-time buckets, durations."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement

from gridgov.analytics.rules import Granularity


def bucket(column: ColumnElement, granularity: Granularity, *, dialect: str, tz: ZoneInfo,
           at: datetime) -> ColumnElement[str]:
    """The local-time bucket label of a UTC instant: 'YYYY-MM-DD' (day; week: its Monday) or 'YYYY-MM'."""
    if dialect == "postgresql":
        local = func.timezone(tz.key, column)
        if granularity is Granularity.MONTH:
            return func.to_char(local, "YYYY-MM")
        if granularity is Granularity.WEEK:
            return func.to_char(func.date_trunc("week", local), "YYYY-MM-DD")
        return func.to_char(local, "YYYY-MM-DD")
    # SQLite stores naive UTC; shift by the zone's offset (fixed for Asia/Shanghai).
    offset = f"{int(at.astimezone(tz).utcoffset().total_seconds() // 60):+d} minutes"
    if granularity is Granularity.MONTH:
        return func.strftime("%Y-%m", column, offset)
    if granularity is Granularity.WEEK:
        return func.date(column, offset, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-%d", column, offset)


def hours_between(start: ColumnElement, end: ColumnElement, *, dialect: str) -> ColumnElement[float]:
    if dialect == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0



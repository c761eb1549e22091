"""Admin overrides of the working calendar, and the revision that tells processes to rebuild it."""

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.clock import utcnow
from gridgov.db import Base


class CalendarOverride(Base):
    """One day declared a working day or a rest day; wins over chinese-calendar."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarOverrideYear(Base):
    """A year the admin declares fully entered: its days without an override follow Mon–Fri."""

    __tablename__ = "calendar_override_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    note: Mapped[str | None] = mapped_column(String(100))
    declared_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarRevision(Base):
    """A single row rewritten in every override transaction.

    `token` is a fresh random value on each change, so a process compares one short string to
    know whether its cached calendar is current — even after the tables were emptied or
    restored, where a bare counter could come back to a value it had seen before.
    """

    __tablename__ = "calendar_revision"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    revision: Mapped[int] = mapped_column(default=1)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Replies to reporters, callbacks (回访), the sampling share in force, and public ratings."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.clock import utcnow
from gridgov.db import Base


class CaseReply(Base):
    """One reply to one reporter (一对一反馈): what was said, how, by whom, when."""

    __tablename__ = "case_replies"
    __table_args__ = (Index("ix_case_replies_reporter_replied", "reporter_id", "replied_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("case_reporters.id"))
    text: Mapped[str] = mapped_column(Text)
    way: Mapped[str] = mapped_column(String(16))  # phone | sms | in_person | platform
    replied_at: Mapped[datetime]  # when the reply was given (≤ when it was recorded)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replied_by_name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))


class CallbackSampling(Base):
    """The share of non-hotline closed cases called back, from a moment on (history kept)."""

    __tablename__ = "callback_sampling"

    id: Mapped[int] = mapped_column(primary_key=True)
    share_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    effective_from: Mapped[datetime]
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
    set_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)


class CaseCallback(Base):
    """One call of the third-party caller (回访) to one reporter of a closed case."""

    __tablename__ = "case_callbacks"
    __table_args__ = (
        Index("ix_case_callbacks_called_at", "called_at"),
        Index("ix_case_callbacks_reporter", "reporter_id", "called_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("case_reporters.id"))
    sampled_as: Mapped[str] = mapped_column(String(16))  # hotline | sample | extra
    called_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    caller_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    caller_name: Mapped[str] = mapped_column(String(100))
    reached: Mapped[bool] = mapped_column(Boolean)
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[str | None] = mapped_column(String(16))  # satisfied | basic | unsatisfied
    remarks: Mapped[str | None] = mapped_column(Text)
    # The district's decision on an unsatisfied callback: reopen (返工) or keep closed.
    decision: Mapped[str | None] = mapped_column(String(8))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decision_reason: Mapped[str | None] = mapped_column(Text)


class PublicRating(Base):
    """A reporter's own rating from the tracking page: once per tracking code, after closure."""

    __tablename__ = "case_public_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The case whose tracking code was used (for a merged report: the original case) …
    tracked_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    # … and the case that was closed (the one it was merged into, or itself).
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    rating: Mapped[str] = mapped_column(String(16))  # satisfied | basic | unsatisfied
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(index=True)

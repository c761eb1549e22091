from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridgov.cases.rules import CaseStatus, Grade, Node
from gridgov.clock import utcnow
from gridgov.db import Base


class Channel(Base):
    """A reporting channel (监管渠道): 12345 hotline, Weibo, 随手拍, supervisor patrol …"""

    __tablename__ = "channels"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    # Reports from this channel carry the channel's own reference (工单号); intake is
    # idempotent on (channel, reference).
    requires_reference: Mapped[bool] = mapped_column(Boolean, default=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # filed by citizens themselves
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CaseNumberSequence(Base):
    """The last case number handed out per year; rows are locked while numbering."""

    __tablename__ = "case_number_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("channel_code", "channel_ref", name="uq_cases_channel_ref"),
        Index("ix_cases_holder_status", "holder_unit_id", "status"),
        Index("ix_cases_street_status", "street_id", "status"),
        Index("ix_cases_status_reported", "status", "reported_at"),
        Index("ix_cases_lat_lng", "lat", "lng"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    channel_code: Mapped[str] = mapped_column(ForeignKey("channels.code"))  # led by uq_cases_channel_ref
    channel_ref: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    lng: Mapped[float]
    lat: Mapped[float]  # GCJ-02, as every geometry of the platform
    unit_grid_code: Mapped[str] = mapped_column(String(15), index=True)
    basic_grid_code: Mapped[str] = mapped_column(String(14))
    grid_version: Mapped[int]
    community_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    type_code: Mapped[str | None] = mapped_column(String(16), index=True)
    type_version_id: Mapped[int | None]
    domain: Mapped[str | None] = mapped_column(String(32))
    grade: Mapped[Grade | None] = mapped_column(String(2))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # The type's handling limit in force when the case was dispatched (later catalog changes
    # do not move the deadlines of cases already dispatched).
    handling_limit_value: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    handling_limit_unit: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[CaseStatus] = mapped_column(String(16))
    suspended_from: Mapped[CaseStatus | None] = mapped_column(String(16))
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    holder_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    responsible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    closed_at: Mapped[datetime | None]
    close_kind: Mapped[str | None] = mapped_column(String(16))
    dispatch_count: Mapped[int] = mapped_column(default=0)
    return_count: Mapped[int] = mapped_column(default=0)
    rework_count: Mapped[int] = mapped_column(default=0)
    # One transition = one new version. A transition names the version its actor saw and is
    # checked against the row it locks (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write
    # transactions run one at a time), so that the loser of a race is refused, never merged.
    version: Mapped[int] = mapped_column(default=1)

    reporters: Mapped[list["CaseReporter"]] = relationship(
        back_populates="case", order_by="CaseReporter.id", lazy="selectin",
        foreign_keys="CaseReporter.case_id")
    clocks: Mapped[list["CaseClock"]] = relationship(
        back_populates="case", order_by="CaseClock.id", lazy="selectin")
    # Loaded when asked for (the lifecycle service loads it with a batch of cases).
    assignments: Mapped[list["CaseAssignment"]] = relationship(order_by="CaseAssignment.id")


class CaseReporter(Base):
    """Someone who reported the case; merged cases keep every reporter, each owed a reply."""

    __tablename__ = "case_reporters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    original_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    channel_code: Mapped[str] = mapped_column(String(32))
    channel_ref: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reported_at: Mapped[datetime]

    case: Mapped[Case] = relationship(back_populates="reporters", foreign_keys=[case_id])


class CaseAssignment(Base):
    """Every unit a case was sent to (派遣, 二次派发): who saw it, who held it, for how long."""

    __tablename__ = "case_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    from_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    depth: Mapped[int]  # 1 for a dispatch by the district or street, 2+ for secondary dispatch
    assigned_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))


class CaseClock(Base):
    """One node's clock (立案派遣, 签收, 处置, 核查) with its own deadline."""

    __tablename__ = "case_clocks"
    __table_args__ = (
        # Covers "overdue now" (deadline, then the unit and node it counts by, and the case it
        # filters by) so that the query never reads the table itself.
        Index("ix_case_clocks_running_deadline", "deadline_at", "unit_id", "node", "case_id",
              postgresql_where=text("finished_at IS NULL AND paused_at IS NULL"),
              sqlite_where=text("finished_at IS NULL AND paused_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    node: Mapped[Node] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    limit_value: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    limit_unit: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    overdue: Mapped[bool | None]  # set when finished: finished after its deadline
    paused_at: Mapped[datetime | None]
    # While paused: the limit still to run, in the clock's own unit (negative once overdue).
    remaining: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    extended: Mapped[bool] = mapped_column(Boolean, default=False)

    case: Mapped[Case] = relationship(back_populates="clocks")


class CaseEvent(Base):
    """The structured timeline of a case: one row per transition, written with its audit event."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_transition_at", "transition", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    transition: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[CaseStatus | None] = mapped_column(String(16))
    to_status: Mapped[CaseStatus] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    target_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(index=True)


class ExtensionRequest(Base):
    """A holder's request for more time (延期), decided by the district."""

    __tablename__ = "case_extension_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    requested_by_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    extra_value: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    extra_unit: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime]
    decision: Mapped[str | None] = mapped_column(String(10))  # approved | refused
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)


class Attachment(Base):
    """A photo or document of a case, stored by content hash outside the database."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))
    kind: Mapped[str] = mapped_column(String(16))  # report | before | after | material | verification
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    original_name: Mapped[str | None] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

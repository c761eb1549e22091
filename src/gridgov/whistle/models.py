"""The whistle in the database: situations, whistles, summons, clocks, events, attachments."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridgov.calendar.rules import LimitUnit, TimeLimit
from gridgov.clock import utcnow
from gridgov.db import Base
from gridgov.whistle.rules import Area, Node, SummonsStatus, Urgency, WhistleStatus


class WhistleSituation(Base):
    """A situation in which a street may whistle (情形和标准), kept by admins.

    Never deleted: a retired situation (`active` false) stays readable on the whistles that
    used it, and each whistle keeps a copy of the code, name, area and limit it started under."""

    __tablename__ = "whistle_situations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    area: Mapped[Area] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    start_standard: Mapped[str] = mapped_column(Text)  # 启动标准
    department_codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # usually summoned
    # Decimal as canonical text ("30", "0.5"): exact on every backend.
    limit_value: Mapped[str] = mapped_column(String(20))
    limit_unit: Mapped[str] = mapped_column(String(20))
    legal_basis: Mapped[str] = mapped_column(Text)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)  # demo configuration, not official
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_at: Mapped[datetime | None]
    retire_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def time_limit(self) -> TimeLimit:
        return TimeLimit(Decimal(self.limit_value), LimitUnit(self.limit_unit))


class WhistleNumberSequence(Base):
    """The last whistle number handed out per year."""

    __tablename__ = "whistle_number_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Whistle(Base):
    __tablename__ = "whistles"
    __table_args__ = (
        Index("ix_whistles_street_started", "street_id", "started_at"),
        Index("ix_whistles_status_started", "status", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # CS + year + 6 digits
    status: Mapped[WhistleStatus] = mapped_column(String(16))
    street_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    started_by_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    started_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    situation_id: Mapped[int] = mapped_column(ForeignKey("whistle_situations.id"), index=True)
    # The situation as it was when the whistle started.
    situation_code: Mapped[str] = mapped_column(String(16))
    situation_name: Mapped[str] = mapped_column(String(100))
    area: Mapped[Area] = mapped_column(String(16))
    limit_value: Mapped[str] = mapped_column(String(20))
    limit_unit: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[Urgency] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    lng: Mapped[float]
    lat: Mapped[float]  # GCJ-02
    unit_grid_code: Mapped[str] = mapped_column(String(15))
    assemble_at: Mapped[datetime | None]  # 集结时间
    started_at: Mapped[datetime] = mapped_column(index=True)  # = filed (备案) with the district
    summoned_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    outcome_at: Mapped[datetime | None]
    reply_text: Mapped[str | None] = mapped_column(Text)
    reply_way: Mapped[str | None] = mapped_column(String(16))
    replied_at: Mapped[datetime | None]
    close_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None]
    # Set by every whistle-level step, so that each one bumps `version` (optimistic locking).
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    summons: Mapped[list["WhistleSummons"]] = relationship(
        back_populates="whistle", order_by="WhistleSummons.id", lazy="selectin")
    clocks: Mapped[list["WhistleClock"]] = relationship(order_by="WhistleClock.id", lazy="selectin")

    @property
    def time_limit(self) -> TimeLimit:
        return TimeLimit(Decimal(self.limit_value), LimitUnit(self.limit_unit))


class WhistleSummons(Base):
    """One department summoned by one whistle, with its report-in, its result and its
    assessment (一哨一考): responsiveness from the report-in time, the street's four ratings."""

    __tablename__ = "whistle_summons"
    __table_args__ = (
        UniqueConstraint("whistle_id", "unit_id"),
        Index("ix_whistle_summons_unit_whistle", "unit_id", "whistle_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    whistle_id: Mapped[int] = mapped_column(ForeignKey("whistles.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    task: Mapped[str] = mapped_column(Text)  # what the street asks of this department
    added_by: Mapped[str] = mapped_column(String(20))  # start | add_departments (追哨)
    status: Mapped[SummonsStatus] = mapped_column(String(16))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    report_in_due_at: Mapped[datetime | None]
    cutoff_at: Mapped[datetime | None]  # responsiveness is 0 from here on
    reported_in_at: Mapped[datetime | None]
    reported_by_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    reported_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    arrived_at: Mapped[datetime | None]  # as stated by the department (not used for scoring)
    arrival_place: Mapped[str | None] = mapped_column(String(300))
    leader: Mapped[str | None] = mapped_column(String(100))
    headcount: Mapped[int | None]
    forces: Mapped[str | None] = mapped_column(Text)  # vehicles, equipment …
    done_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(Text)
    assessment: Mapped[str | None] = mapped_column(String(10))  # on_time | late | missed | withdrawn
    lateness: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))  # in the limit's unit
    responsiveness: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    rating_efficiency: Mapped[int | None]
    rating_cooperation: Mapped[int | None]
    rating_professionalism: Mapped[int | None]
    rating_responsibility: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    assessed_at: Mapped[datetime | None]  # final: the whistle closed or was cancelled
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    whistle: Mapped[Whistle] = relationship(back_populates="summons")


class WhistleClock(Base):
    """One step's clock (派发, 报到 per summons, 结果上报, 核查结案) with its own deadline."""

    __tablename__ = "whistle_clocks"
    __table_args__ = (
        Index("ix_whistle_clocks_running_deadline", "deadline_at",
              postgresql_where=text("finished_at IS NULL"), sqlite_where=text("finished_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    whistle_id: Mapped[int] = mapped_column(ForeignKey("whistles.id"), index=True)
    summons_id: Mapped[int | None] = mapped_column(ForeignKey("whistle_summons.id"))
    node: Mapped[Node] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))  # who must act; None: district
    limit_value: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    limit_unit: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    overdue: Mapped[bool | None]


class WhistleEvent(Base):
    """The structured trail of a whistle (吹哨全留痕): one row per step, with its audit event."""

    __tablename__ = "whistle_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    whistle_id: Mapped[int] = mapped_column(ForeignKey("whistles.id"), index=True)
    summons_id: Mapped[int | None] = mapped_column(ForeignKey("whistle_summons.id"))
    transition: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[WhistleStatus | None] = mapped_column(String(16))
    to_status: Mapped[WhistleStatus] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    target_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(index=True)


class WhistleAttachment(Base):
    """A photo or document of a whistle or of one summons, stored by content hash outside the
    database (the same store as case attachments)."""

    __tablename__ = "whistle_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    whistle_id: Mapped[int] = mapped_column(ForeignKey("whistles.id"), index=True)
    summons_id: Mapped[int | None] = mapped_column(ForeignKey("whistle_summons.id"))
    kind: Mapped[str] = mapped_column(String(16))  # material | before | after | report | verification
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    original_name: Mapped[str | None] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_by_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

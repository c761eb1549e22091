from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.db import Base


class AuditEvent(Base):
    """One append-only, hash-chained record of something that happened (全留痕).

    `seq` is assigned under the chain lock, contiguous from 1, so a gap shows a deletion.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(30))
    unit_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def hashed_fields(self) -> dict[str, Any]:
        return {column.key: getattr(self, column.key) for column in self.__table__.columns}

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridgov.clock import utcnow
from gridgov.db import Base
from gridgov.org.rules import UnitKind, Validity


class Unit(Base):
    """An organisation unit: district centre, street, community, department, section, body …"""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(60))
    kind: Mapped[UnitKind] = mapped_column(String(20), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Ancestor ids including itself ('/1/5/23/'): subtree queries are one indexed LIKE.
    path: Mapped[str] = mapped_column(String(255), index=True, default="")
    # The street a field unit or outside body serves (e.g. 东华门城管执法队 → 东华门街道).
    serves_street_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped["Unit | None"] = relationship(remote_side=[id], foreign_keys=[parent_id])
    serves_street: Mapped["Unit | None"] = relationship(remote_side=[id], foreign_keys=[serves_street_id])

    @property
    def validity(self) -> Validity:
        return Validity(self.valid_from, self.valid_to)

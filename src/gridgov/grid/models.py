"""Stored grids (every version of every cell), grid versions, components, revisions.

Geometry is WKB in a plain binary column, GCJ-02 lng/lat: the same schema on SQLite and
PostgreSQL, no spatial extension. Spatial work happens in memory (shapely), on the cached
index that `service` builds from the active rows.
"""

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridgov.clock import utcnow
from gridgov.db import Base
from gridgov.org.models import Unit


class GridVersion(Base):
    """One import of one level. Its id is the grid version: numbers run across all levels,
    so version N is the whole grid as it stood after the N-th import."""

    __tablename__ = "grid_versions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    level: Mapped[str] = mapped_column(String(12), index=True)
    effective_at: Mapped[datetime]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    source_name: Mapped[str | None] = mapped_column(String(200))
    source_crs: Mapped[str] = mapped_column(String(8))
    cells: Mapped[int]  # active cells of the level after this import
    added: Mapped[int]
    changed: Mapped[int]
    unchanged: Mapped[int]
    retired: Mapped[int]
    actor_name: Mapped[str] = mapped_column(String(100))


class GridCellRecord(Base):
    """One grid cell as one version range. A changed cell closes its row and opens a new one
    under the same code; a retired cell closes its row for good (its code is never reused).

    A row is valid at version v when version_from <= v and (version_to is null or v < version_to).
    """

    __tablename__ = "grid_cells"
    __table_args__ = (
        UniqueConstraint("code", "version_from"),
        # At most one active row per code (a partial index on both backends).
        Index("uq_grid_cells_active_code", "code", unique=True,
              sqlite_where=text("version_to IS NULL"),
              postgresql_where=text("version_to IS NULL")),
        Index("ix_grid_cells_level_active", "level", "version_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(12))
    code: Mapped[str] = mapped_column(String(15), index=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str] = mapped_column(String(15), index=True)
    basic_code: Mapped[str | None] = mapped_column(String(14))
    geometry: Mapped[bytes] = mapped_column(LargeBinary)  # WKB Polygon, GCJ-02 lng/lat
    area_m2: Mapped[float] = mapped_column(Double)
    # A point inside the polygon (shapely's point_on_surface): where a case placed by grid
    # code is put on the map.
    point_lng: Mapped[float] = mapped_column(Double)
    point_lat: Mapped[float] = mapped_column(Double)
    version_from: Mapped[int] = mapped_column(ForeignKey("grid_versions.id"))
    version_to: Mapped[int | None] = mapped_column(ForeignKey("grid_versions.id"))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]


class GridRevision(Base):
    """Rewritten in every transaction that changes the grid ("grid") or the component register
    ("components"). `token` is fresh and random each time: a process compares one short
    string to know whether its cached index is current, even after tables were emptied or
    restored, where a bare counter could return to a value it had seen before."""

    __tablename__ = "grid_revisions"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Component(Base):
    """A located object (部件): 16-digit code = county (6) + major (2) + minor (2) + sequence (6)."""

    __tablename__ = "components"
    __table_args__ = (
        CheckConstraint("length(code) = 16", name="code_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    minor_class: Mapped[str] = mapped_column(String(4), index=True)  # e.g. 0101 上水井盖
    name: Mapped[str] = mapped_column(String(100))
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    lng: Mapped[float] = mapped_column(Double)  # GCJ-02
    lat: Mapped[float] = mapped_column(Double)
    # The unit grid it lies in, and the grid version that was located at; null when it lies
    # in no active unit grid any more (after a grid re-import).
    unit_grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    basic_code: Mapped[str | None] = mapped_column(String(14), index=True)
    grid_version: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[Unit | None] = relationship(foreign_keys=[owner_unit_id])

    @property
    def major_class(self) -> str:
        return self.minor_class[:2]

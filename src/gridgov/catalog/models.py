"""The catalog in the database: domains, classes, versioned matter types, duty rules, areas.

A matter type (事项) is an identity (`MatterType`, its code) and a chain of versions
(`MatterTypeVersion`). A version is in force from `valid_from` (inclusive) to `valid_to`
(exclusive; None = still in force). A change ends the current version and starts a new one
at the same instant, so a case keeps the id of the version it was dispatched under and its
standard never changes under it. A type with no version in force is retired (停用).
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridgov.calendar.rules import LimitUnit, TimeLimit
from gridgov.clock import utcnow
from gridgov.db import Base


class CatalogDomain(Base):
    """A supervision domain (监管领域); the four codes are fixed by `catalog.rules`."""

    __tablename__ = "catalog_domains"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    # Type-code prefixes of the domain, e.g. "C,E" for urban management.
    type_code_prefixes: Mapped[str] = mapped_column(String(20), default="")


class CatalogClass(Base):
    """A major class (大类, 2 digits) or minor class (小类, 4 digits) of a domain and category."""

    __tablename__ = "catalog_classes"
    __table_args__ = (UniqueConstraint("domain", "category", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(ForeignKey("catalog_domains.code"))
    category: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    major_code: Mapped[str | None] = mapped_column(String(8))  # None for a major class
    source: Mapped[str] = mapped_column(String(60), default="")  # e.g. CJ/T 214-2007

    @property
    def is_major(self) -> bool:
        return self.major_code is None


class MatterType(Base):
    """The identity of a matter type: its code. Everything else lives in its versions."""

    __tablename__ = "catalog_matter_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list["MatterTypeVersion"]] = relationship(
        back_populates="matter_type", order_by="MatterTypeVersion.valid_from")


class MatterTypeVersion(Base):
    """One version of a matter type's standard; `id` is what a case records."""

    __tablename__ = "catalog_type_versions"
    __table_args__ = (
        UniqueConstraint("type_id", "version"),
        # At most one version in force per type, even if two writers race.
        Index("uq_catalog_type_versions_one_current", "type_id", unique=True,
              sqlite_where=text("valid_to IS NULL"), postgresql_where=text("valid_to IS NULL")),
        Index("ix_catalog_type_versions_code_valid_from", "code", "valid_from"),
        Index("ix_catalog_type_versions_current", "valid_to", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("catalog_matter_types.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))  # copy of the type's code, for lookups
    version: Mapped[int] = mapped_column(default=1)  # 1, 2, 3 … within the type
    name: Mapped[str] = mapped_column(String(100))
    domain: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str] = mapped_column(String(20))
    major_class: Mapped[str] = mapped_column(String(8))
    minor_class: Mapped[str] = mapped_column(String(8))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Lower-cased "code|name|keyword|…": type-ahead is one LIKE over one column.
    search_text: Mapped[str] = mapped_column(Text, default="")
    filing_condition: Mapped[str] = mapped_column(Text)
    closing_condition: Mapped[str] = mapped_column(Text)
    # Decimal as canonical text ("4", "0.5"): exact on every backend.
    limit_value: Mapped[str] = mapped_column(String(20))
    limit_unit: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10))
    default_grade: Mapped[str] = mapped_column(String(4), index=True)
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    change_note: Mapped[str | None] = mapped_column(String(200))

    matter_type: Mapped[MatterType] = relationship(back_populates="versions")

    @property
    def urgent(self) -> bool:
        return self.urgency == "urgent"

    @property
    def time_limit(self) -> TimeLimit:
        return TimeLimit(Decimal(self.limit_value), LimitUnit(self.limit_unit))

    @property
    def in_force(self) -> bool:
        return self.valid_to is None

    def in_force_at(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)


class DutyArea(Base):
    """A named area a duty rule may be limited to (e.g. 王府井步行街), in one street."""

    __tablename__ = "catalog_duty_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    street_code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(200), default="")


class DutyRuleRow(Base):
    """One row of the duty matrix (职责清单); see `catalog.rules.DutyRule` for its meaning."""

    __tablename__ = "catalog_duty_rules"
    __table_args__ = (Index("ix_catalog_duty_rules_type_active", "type_code", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(32), unique=True)  # R0001 …
    type_code: Mapped[str] = mapped_column(String(16))
    street_code: Mapped[str | None] = mapped_column(String(32))
    owner_code: Mapped[str | None] = mapped_column(String(32))
    area: Mapped[str | None] = mapped_column(String(100))
    unit_code: Mapped[str] = mapped_column(String(32), index=True)
    per_street_field_unit: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

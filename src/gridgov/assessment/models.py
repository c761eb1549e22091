"""Weight sets, computed versions of a month (drafts, published, superseded) and their figures.

The indexes at the bottom serve the assessment's month aggregates on the case tables
(closure by month, handling clocks by deadline and by finish, first-level assignments by
time); they are declared here, with the feature that needs them, and created by its migration.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.cases.models import Case, CaseAssignment, CaseClock
from gridgov.clock import utcnow
from gridgov.db import Base


class AssessmentWeightSet(Base):
    """Weights (percent per indicator, summing to 100) for one kind of unit from one month on."""

    __tablename__ = "assessment_weight_sets"
    __table_args__ = (Index("ix_assessment_weight_sets_kind_from", "unit_kind", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_kind: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM'
    weights: Mapped[dict[str, Any]] = mapped_column(JSON)  # {indicator: "15.00"}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class AssessmentRun(Base):
    """One computed version of a month's assessment. A published version is never changed;
    a recalculation is a new version, and publishing it supersedes the previous one."""

    __tablename__ = "assessment_runs"
    __table_args__ = (UniqueConstraint("month", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # draft | published | superseded
    computed_at: Mapped[datetime]
    computed_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    whistle_included: Mapped[bool] = mapped_column(Boolean, default=False)
    weights: Mapped[dict[str, Any]] = mapped_column(JSON)  # {kind: {indicator: "15.00"}} as applied
    published_at: Mapped[datetime | None]
    published_by: Mapped[str | None] = mapped_column(String(100))


class AssessmentScore(Base):
    """A unit's composite score and rank (within its kind) in one version."""

    __tablename__ = "assessment_scores"
    __table_args__ = (UniqueConstraint("run_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assessment_runs.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    unit_code: Mapped[str] = mapped_column(String(32))
    unit_name: Mapped[str] = mapped_column(String(200))
    unit_kind: Mapped[str] = mapped_column(String(20))
    composite: Mapped[Decimal | None] = mapped_column(Numeric(7, 3))
    rank: Mapped[int | None]


class AssessmentFigure(Base):
    """One indicator of one unit in one version: its sets' sizes, value and score."""

    __tablename__ = "assessment_figures"
    __table_args__ = (Index("ix_assessment_figures_run_unit", "run_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assessment_runs.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    indicator: Mapped[str] = mapped_column(String(40))
    numerator: Mapped[int | None]
    denominator: Mapped[int | None]
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 6))
    score: Mapped[Decimal | None] = mapped_column(Numeric(7, 3))


# Indexes on the case tables for the month aggregates (see the module docstring).
Index("ix_cases_closed_at", Case.closed_at)
Index("ix_case_clocks_node_deadline", CaseClock.node, CaseClock.deadline_at)
Index("ix_case_clocks_node_finished", CaseClock.node, CaseClock.finished_at)
Index("ix_case_assignments_assigned_at", CaseAssignment.assigned_at)

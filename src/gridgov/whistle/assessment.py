"""一哨一考: each whistle's record per summoned department, figures per department and per
street over a period, the whistles behind every figure, and the combined scores.

A whistle belongs to the period in which it was started (吹哨时间, `started_at` in
[start, end)). Figures are live: a summons is assessed as soon as it reports in (on time or
late, with its responsiveness), or once it is missed — when its whistle ended without its
report-in after its deadline, or, while the whistle is still open, once its cut-off (3× the
limit) has passed, when its responsiveness can only be 0. Every figure is one condition in
`_conditions`: the same condition counts it and lists the whistles behind it (`drill_down`).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from gridgov import clock
from gridgov.errors import InvalidInput, NotFound
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.whistle.models import Whistle, WhistleSummons
from gridgov.whistle.rules import (
    OPEN_WHISTLE_STATES, RATING_POINTS, Assessment, SummonsStatus, WhistleStatus, department_score,
    street_score,
)

DEPARTMENT, STREET = "department", "street"
FIGURES = ("whistles", "summons", "assessed", "on_time", "late", "missed", "rated", "open", "overdue",
           "closed", "cancelled")
_ONE, _TWO = Decimal("0.1"), Decimal("0.01")


def _conditions(now: datetime) -> dict[str, ColumnElement[bool]]:
    s, w = WhistleSummons, Whistle
    missed = or_(s.assessment == Assessment.MISSED,
                 and_(s.assessment.is_(None), s.status == SummonsStatus.SENT, s.cutoff_at <= now))
    on_time, late = s.assessment == Assessment.ON_TIME, s.assessment == Assessment.LATE
    whistle_open = w.status.in_(OPEN_WHISTLE_STATES)
    return {
        "whistles": true(),
        "summons": s.sent_at.is_not(None),
        "assessed": or_(on_time, late, missed),
        "on_time": on_time,
        "late": late,
        "missed": missed,
        "rated": s.rated_at.is_not(None),
        # sent and not done yet, in a whistle still open
        "open": and_(whistle_open, s.status.in_((SummonsStatus.SENT, SummonsStatus.REPORTED_IN))),
        # not reported in, past its deadline, in a whistle still open
        "overdue": and_(whistle_open, s.status == SummonsStatus.SENT, s.report_in_due_at < now),
        "closed": w.status == WhistleStatus.CLOSED,
        "cancelled": w.status == WhistleStatus.CANCELLED,
    }


def _score_value(conditions: dict[str, ColumnElement[bool]]) -> Any:
    """A summons' responsiveness when assessed: its score, 0 when missed, else NULL."""
    s = WhistleSummons
    return case((s.assessment.in_((Assessment.ON_TIME, Assessment.LATE)), s.responsiveness),
                (conditions["missed"], 0))


@dataclass(frozen=True)
class WhistleScore:
    """How one department (or street) did in the whistles of a period."""

    unit_id: int
    unit_code: str
    unit_name: str
    role: str  # department | street
    whistles: int
    summons: int
    assessed: int
    on_time: int
    late: int
    missed: int
    on_time_rate: float | None  # on_time / assessed, 0–1
    responsiveness: float | None  # average 报到响应度 of the assessed summons, 0–100
    ratings: dict[str, float | None]  # average of each of the four points, 1–5
    rating_average: float | None  # average of the four averages
    rated: int
    open: int
    overdue: int
    closed: int
    cancelled: int
    score: float | None  # the combined judgement (rules.department_score / rules.street_score)


def _decimal(value: Any, quantum: Decimal) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _rows(db: Session, *, role: str, start: datetime, end: datetime, now: datetime,
          unit_id: int | None = None) -> list[Any]:
    s, w = WhistleSummons, Whistle
    c = _conditions(now)
    group = s.unit_id if role == DEPARTMENT else w.street_id
    columns = [
        group.label("unit_id"),
        func.count(distinct(case((c["summons"], w.id)) if role == DEPARTMENT else w.id)).label("whistles"),
        func.count(distinct(case((c["closed"], w.id)))).label("closed"),
        func.count(distinct(case((c["cancelled"], w.id)))).label("cancelled"),
        *[_count(c[name]).label(name) for name in ("summons", "assessed", "on_time", "late", "missed", "rated",
                                                   "open", "overdue")],
        func.avg(_score_value(c)).label("responsiveness"),
        *[func.avg(getattr(s, f"rating_{point}")).label(point) for point in RATING_POINTS],
    ]
    query = (select(*columns).select_from(s).join(w, w.id == s.whistle_id)
             .where(w.started_at >= start, w.started_at < end).group_by(group))
    if role == DEPARTMENT:
        query = query.where(c["summons"])
    if unit_id is not None:
        query = query.where(group == unit_id)
    return list(db.execute(query))


def _check_period(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("时段的起止时间必须带时区")
    if end <= start:
        raise InvalidInput("时段的结束时间必须晚于开始时间", errors=[{"field": "end", "message": "早于开始"}])


def unit_figures(db: Session, *, role: str, start: datetime, end: datetime,
                 now: datetime | None = None) -> list[WhistleScore]:
    """Every department (role "department": each summoned unit) or street (role "street") with
    whistles started in [start, end), by unit code."""
    _check_period(start, end)
    now = now or clock.utcnow()
    rows = _rows(db, role=role, start=start, end=end, now=now)
    ids = [row.unit_id for row in rows]
    units = {u.id: u for u in db.scalars(select(Unit).where(Unit.id.in_(ids)))} if ids else {}
    scores = [_score(row, units[row.unit_id], role) for row in rows]
    return sorted(scores, key=lambda f: f.unit_code)


def _score(row: Any, unit: Unit, role: str) -> WhistleScore:
    responsiveness = _decimal(row.responsiveness, _ONE)
    ratings = {point: _decimal(getattr(row, point), _TWO) for point in RATING_POINTS}
    present = [v for v in ratings.values() if v is not None]
    rating_average = (sum(present) / len(present)).quantize(_TWO, rounding=ROUND_HALF_UP) if present else None
    whistles, closed = int(row.whistles), int(row.closed)
    score = (department_score(responsiveness, rating_average) if role == DEPARTMENT
             else street_score(closed=closed, whistles=whistles))
    assessed = int(row.assessed)
    return WhistleScore(
        unit_id=unit.id, unit_code=unit.code, unit_name=unit.short_name or unit.name, role=role,
        whistles=whistles, summons=int(row.summons), assessed=assessed, on_time=int(row.on_time),
        late=int(row.late), missed=int(row.missed),
        on_time_rate=round(int(row.on_time) / assessed, 4) if assessed else None,
        responsiveness=_float(responsiveness), ratings={k: _float(v) for k, v in ratings.items()},
        rating_average=_float(rating_average), rated=int(row.rated), open=int(row.open),
        overdue=int(row.overdue), closed=closed, cancelled=int(row.cancelled), score=_float(score))


def whistle_scores(db: Session, *, start: datetime, end: datetime,
                   now: datetime | None = None) -> dict[int, WhistleScore]:
    """The district's combined judgement of how departments and streets performed in the
    whistles started in [start, end), keyed by unit id (departments: `role` "department",
    score = 0.6 × average responsiveness + 0.4 × the ratings' average on 0–100; streets:
    `role` "street", score = closed / started × 100). For the monthly assessment."""
    now = now or clock.utcnow()
    scores = {f.unit_id: f for f in unit_figures(db, role=DEPARTMENT, start=start, end=end, now=now)}
    scores.update({f.unit_id: f for f in unit_figures(db, role=STREET, start=start, end=end, now=now)})
    return scores


def drill_down(db: Session, *, unit_code: str, figure: str, start: datetime, end: datetime,
               now: datetime | None = None) -> list[tuple[int, str]]:
    """The whistles (id, number) behind one figure of one department or street, by id."""
    _check_period(start, end)
    if figure not in FIGURES:
        raise InvalidInput(f"未知的指标：{figure}（可选：{'、'.join(FIGURES)}）",
                           errors=[{"field": "figure", "message": "未知指标"}])
    unit = db.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise NotFound(f"单位 {unit_code} 不存在")
    now = now or clock.utcnow()
    c = _conditions(now)
    s, w = WhistleSummons, Whistle
    query = (select(w.id, w.number).distinct().select_from(w).join(s, s.whistle_id == w.id)
             .where(w.started_at >= start, w.started_at < end, c[figure]))
    if UnitKind(unit.kind) is UnitKind.STREET:
        query = query.where(w.street_id == unit.id)
    else:
        query = query.where(s.unit_id == unit.id, c["summons"])
    return [(row.id, row.number) for row in db.execute(query.order_by(w.id))]


@dataclass(frozen=True)
class AssessmentRecord:
    summons: WhistleSummons
    assessment: Assessment | None  # live: a summons past its cut-off counts as missed
    responsiveness: Decimal | None
    rating_average: Decimal | None
    final: bool


def whistle_assessment(whistle: Whistle, *, now: datetime | None = None) -> list[AssessmentRecord]:
    """一哨一考 of one whistle: a record for every summoned department, final once the whistle
    is closed or cancelled."""
    now = now or clock.utcnow()
    records = []
    for summons in whistle.summons:
        assessment = Assessment(summons.assessment) if summons.assessment else None
        responsiveness = summons.responsiveness
        if assessment is None and summons.status == SummonsStatus.SENT and summons.cutoff_at <= now:
            assessment, responsiveness = Assessment.MISSED, Decimal("0.0")
        marks = [getattr(summons, f"rating_{p}") for p in RATING_POINTS]
        rating_average = (Decimal(sum(marks)) / len(marks)).quantize(_TWO, rounding=ROUND_HALF_UP) \
            if all(m is not None for m in marks) else None
        records.append(AssessmentRecord(summons, assessment, responsiveness, rating_average,
                                        summons.assessed_at is not None))
    return records

"""Trends, recurring places, slow and pushed-around types, suggestions for a type.

Every query counts only the cases the principal may see (`cases.queries.visible`) and is one
GROUP BY over the case tables; Python only shapes the few rows that come back.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from gridgov import clock
from gridgov.analytics import sql
from gridgov.analytics.rules import (
    Dimension, Granularity, bucket_a_year_later, buckets, change, check_range, one_year_before, suggested_limit,
)
from gridgov.auth.policy import Principal
from gridgov.calendar import service as calendar_service
from gridgov.calendar.rules import LimitUnit, TimeLimit
from gridgov.cases import queries
from gridgov.cases.models import Case, CaseAssignment, CaseClock, CaseEvent, Channel
from gridgov.catalog import service as catalog
from gridgov.catalog.models import MatterTypeVersion
from gridgov.catalog.rules import DOMAIN_NAMES
from gridgov.config import Settings
from gridgov.errors import NotFound
from gridgov.org.models import Unit


def local_range(start: date, end: date, settings: Settings) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in local time."""
    return (datetime.combine(start, time(), tzinfo=settings.tz),
            datetime.combine(end + timedelta(days=1), time(), tzinfo=settings.tz))


def today(settings: Settings) -> date:
    return clock.utcnow().astimezone(settings.tz).date()


_DIMENSION_COLUMNS = {
    Dimension.DOMAIN: Case.domain, Dimension.TYPE: Case.type_code, Dimension.CHANNEL: Case.channel_code,
    Dimension.STREET: Case.street_id, Dimension.COMMUNITY: Case.community_id, Dimension.GRID: Case.unit_grid_code,
}


def _labels(db: Session, dimension: Dimension, keys: list) -> dict:
    keys = [k for k in keys if k is not None]
    if not keys:
        return {}
    if dimension in (Dimension.STREET, Dimension.COMMUNITY):
        return {i: (code, name) for i, code, name in db.execute(
            select(Unit.id, Unit.code, Unit.name)
            .where(Unit.id.in_(keys)))}
    if dimension is Dimension.TYPE:
        return {code: (code, name) for code, name in db.execute(
            select(MatterTypeVersion.code, MatterTypeVersion.name).where(
                MatterTypeVersion.code.in_(keys), MatterTypeVersion.valid_to.is_(None)))}
    if dimension is Dimension.CHANNEL:
        return {code: (code, name) for code, name in db.execute(
            select(Channel.code, Channel.name).where(Channel.code.in_(keys)))}
    if dimension is Dimension.DOMAIN:
        return {k: (k, DOMAIN_NAMES.get(k, k)) for k in keys}
    return {k: (k, k) for k in keys}


@dataclass(frozen=True)
class TrendPoint:
    bucket: str
    count: int
    last_year: int
    yoy: float | None


@dataclass(frozen=True)
class DimensionTrend:
    key: str | None
    label: str | None
    count: int
    last_year: int
    yoy: float | None
    series: list[int]


@dataclass(frozen=True)
class Trends:
    granularity: Granularity
    start: date
    end: date
    total: int
    last_year_total: int
    yoy: float | None
    series: list[TrendPoint]
    dimension: Dimension | None
    by_dimension: list[DimensionTrend]


def _conditions(principal: Principal, filters: dict | None) -> list[ColumnElement[bool]]:
    conditions = [queries.visible(principal)]
    for column, value in ((Case.street_id, (filters or {}).get("street_id")),
                          (Case.domain, (filters or {}).get("domain")),
                          (Case.type_code, (filters or {}).get("type_code")),
                          (Case.channel_code, (filters or {}).get("channel"))):
        if value is not None:
            conditions.append(column == value)
    return conditions


def _ranked(db: Session, conditions: list[ColumnElement[bool]], column: ColumnElement, now: tuple[datetime, datetime],
            before: tuple[datetime, datetime], top: int) -> list[tuple[Any, int, int]]:
    """(value, cases in `now`, cases in `before`) of the `top` values of `column` in `now`."""
    ranked = db.execute(select(column, func.count()).where(
        *conditions, Case.reported_at >= now[0], Case.reported_at < now[1])
        .group_by(column).order_by(func.count().desc(), column).limit(top)).all()
    if not ranked:
        return []
    last = dict(db.execute(select(column, func.count()).where(
        *conditions, Case.reported_at >= before[0], Case.reported_at < before[1])
        .group_by(column)).all())
    return [(key, n, last.get(key, 0)) for key, n in ranked]


def _labelled(key: Any, names: dict) -> tuple[str | None, str | None]:
    code, name = names.get(key, (key, key))
    return None if code is None else str(code), None if name is None else str(name)


@dataclass(frozen=True)
class DimensionCount:
    key: str | None
    label: str | None
    count: int
    last_year: int
    yoy: float | None


def top_values(db: Session, *, settings: Settings, principal: Principal, start: date, end: date,
               dimension: Dimension, top: int = 10, filters: dict | None = None) -> list[DimensionCount]:
    """The `top` values of a dimension by cases reported in the period, each with the same period
    a year before (two grouped queries, no time buckets: cheap over a whole year)."""
    check_range(start, end, today=today(settings))
    ranked = _ranked(db, _conditions(principal, filters), _DIMENSION_COLUMNS[dimension],
                     local_range(start, end, settings),
                     local_range(one_year_before(start), one_year_before(end), settings), top)
    names = _labels(db, dimension, [key for key, _, _ in ranked])
    return [DimensionCount(*_labelled(key, names), n, last, change(n, last)) for key, n, last in ranked]


def trends(db: Session, *, settings: Settings, principal: Principal, start: date, end: date,
           granularity: Granularity, dimension: Dimension | None = None, top: int = 10,
           filters: dict | None = None) -> Trends:
    """Cases reported per bucket, with the same bucket a year before; by a dimension, the `top`
    values with their own series."""
    check_range(start, end, today=today(settings))
    dialect = db.get_bind().dialect.name
    now = clock.utcnow()
    begin, finish = local_range(start, end, settings)
    before_begin, before_finish = local_range(one_year_before(start), one_year_before(end), settings)
    label = sql.bucket(Case.reported_at, granularity, dialect=dialect, tz=settings.tz, at=now).label("bucket")
    conditions = _conditions(principal, filters)

    def counts(lo: datetime, hi: datetime, *extra: ColumnElement) -> list:
        query = select(label, *extra, func.count()).where(
            *conditions, Case.reported_at >= lo, Case.reported_at < hi).group_by(label, *extra)
        return db.execute(query).all()

    labels = buckets(start, end, granularity)
    current = dict(counts(begin, finish))
    previous = {bucket_a_year_later(b, granularity): n for b, n in counts(before_begin, before_finish)}
    series = [TrendPoint(b, current.get(b, 0), previous.get(b, 0), change(current.get(b, 0), previous.get(b, 0)))
              for b in labels]
    total, last_total = sum(current.values()), sum(previous.values())
    by_dimension: list[DimensionTrend] = []
    if dimension is not None:
        column = _DIMENSION_COLUMNS[dimension]
        ranked = _ranked(db, conditions, column, (begin, finish), (before_begin, before_finish), top)
        keys = [k for k, _, _ in ranked]
        if keys:
            present = [k for k in keys if k is not None]
            chosen = or_(column.in_(present), column.is_(None)) if None in keys else column.in_(present)
            now_rows = db.execute(select(label, column, func.count()).where(
                *conditions, chosen, Case.reported_at >= begin, Case.reported_at < finish)
                .group_by(label, column)).all()
            per: dict = defaultdict(dict)
            for b, k, n in now_rows:
                per[k][b] = n
            names = _labels(db, dimension, keys)
            for key, n, last in ranked:
                by_dimension.append(DimensionTrend(
                    *_labelled(key, names), n, last, change(n, last), [per[key].get(b, 0) for b in labels]))
    return Trends(granularity, start, end, total, last_total, change(total, last_total), series, dimension,
                  by_dimension)


@dataclass(frozen=True)
class Recurrence:
    unit_grid_code: str
    type_code: str
    type_name: str | None
    count: int
    open: int
    first_reported: datetime
    last_reported: datetime


def recurring(db: Session, *, settings: Settings, principal: Principal, start: date, end: date,
              min_count: int = 3, limit: int = 100) -> list[Recurrence]:
    """The same type in the same unit grid again and again (反复发生): at least `min_count` cases."""
    check_range(start, end, today=today(settings))
    begin, finish = local_range(start, end, settings)
    still_open = func.sum(sql_flag(Case.closed_at.is_(None)))
    rows = db.execute(
        select(Case.unit_grid_code, Case.type_code, func.count(), still_open, func.min(Case.reported_at),
               func.max(Case.reported_at))
        .where(queries.visible(principal), Case.reported_at >= begin, Case.reported_at < finish,
               Case.type_code.is_not(None), Case.status.not_in(("merged", "rejected")))
        .group_by(Case.unit_grid_code, Case.type_code).having(func.count() >= min_count)
        .order_by(func.count().desc(), Case.unit_grid_code, Case.type_code).limit(limit)).all()
    names = _labels(db, Dimension.TYPE, [r[1] for r in rows])
    return [Recurrence(grid, type_code, names.get(type_code, (None, None))[1], n, int(o or 0), first, last)
            for grid, type_code, n, o, first, last in rows]


def sql_flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _handled_clocks(begin: datetime, finish: datetime):
    """Handling clocks finished by a handling report (处置反馈) in [begin, finish)."""
    return and_(CaseClock.node == "handling", CaseClock.finished_at >= begin, CaseClock.finished_at < finish,
                exists().where(CaseEvent.case_id == CaseClock.case_id, CaseEvent.transition == "report_result",
                               CaseEvent.occurred_at == CaseClock.finished_at))


@dataclass(frozen=True)
class TypeFigure:
    type_code: str
    type_name: str | None
    cases: int
    value: float  # average hours (slowest) or returns (most returned)
    rate: float | None  # overdue share (slowest) or return rate (most returned)


def slowest_types(db: Session, *, settings: Settings, principal: Principal, start: date, end: date,
                  min_cases: int = 5, limit: int = 20) -> list[TypeFigure]:
    """Types by average natural hours from dispatch to handling report, with their late share."""
    check_range(start, end, today=today(settings))
    begin, finish = local_range(start, end, settings)
    hours = sql.hours_between(CaseClock.started_at, CaseClock.finished_at, dialect=db.get_bind().dialect.name)
    avg = func.avg(hours)
    rows = db.execute(
        select(Case.type_code, func.count(func.distinct(Case.id)), avg, func.avg(sql_flag(CaseClock.overdue.is_(True))))
        .join(Case, Case.id == CaseClock.case_id)
        .where(_handled_clocks(begin, finish), queries.visible(principal), Case.type_code.is_not(None))
        .group_by(Case.type_code).having(func.count(func.distinct(Case.id)) >= min_cases)
        .order_by(avg.desc(), Case.type_code).limit(limit)).all()
    names = _labels(db, Dimension.TYPE, [r[0] for r in rows])
    return [TypeFigure(t, names.get(t, (None, None))[1], n, round(float(h), 2), round(float(late), 4))
            for t, n, h, late in rows]


def most_returned_types(db: Session, *, settings: Settings, principal: Principal, start: date, end: date,
                        min_cases: int = 5, limit: int = 20) -> list[TypeFigure]:
    """Types by returns (回退) of their first-level dispatches in the period, and the return rate."""
    check_range(start, end, today=today(settings))
    begin, finish = local_range(start, end, settings)
    returned = func.sum(sql_flag(CaseAssignment.end_reason == "returned"))
    rows = db.execute(
        select(Case.type_code, func.count(), returned)
        .join(Case, Case.id == CaseAssignment.case_id)
        .where(CaseAssignment.depth == 1, CaseAssignment.assigned_at >= begin, CaseAssignment.assigned_at < finish,
               queries.visible(principal), Case.type_code.is_not(None))
        .group_by(Case.type_code).having(func.count() >= min_cases)
        .order_by(returned.desc(), Case.type_code).limit(limit)).all()
    names = _labels(db, Dimension.TYPE, [r[0] for r in rows])
    return [TypeFigure(t, names.get(t, (None, None))[1], n, float(r or 0), round(float(r or 0) / n, 4))
            for t, n, r in rows]


@dataclass(frozen=True)
class UnitTally:
    unit_code: str
    unit_name: str
    closed_on_time_unreturned: int
    closed: int


@dataclass(frozen=True)
class TypeSuggestion:
    type_code: str
    type_name: str
    current_limit: TimeLimit
    sample: int
    percentile: float
    suggested_limit: TimeLimit | None
    within_current: float | None  # share of the sample handled within the current limit
    units: list[UnitTally]  # best first
    suggested_unit: UnitTally | None
    duty_unit_code: str | None  # what the duty matrix says now (when a street is given)


SUGGESTION_SAMPLE = 5000  # the most recent handled cases of the range: plenty for a percentile


def suggest(db: Session, *, settings: Settings, principal: Principal, type_code: str, start: date, end: date,
            q: float = 90, street_code: str | None = None) -> TypeSuggestion:
    """For a type: a time limit from the q-th percentile of actual handling times (in the type's
    own unit, on the working calendar; the latest SUGGESTION_SAMPLE handled cases of the range),
    and the unit that most often closed it on time without a return (optionally in one street)."""
    check_range(start, end, today=today(settings))
    matter = catalog.get_type(db, code=type_code)
    begin, finish = local_range(start, end, settings)
    street_id = None
    if street_code is not None:
        street_id = db.scalar(select(Unit.id).where(Unit.code == street_code, Unit.kind == "street"))
        if street_id is None:
            raise NotFound(f"街道 {street_code} 不存在")
    where = [Case.type_code == type_code, queries.visible(principal)]
    if street_id is not None:
        where.append(Case.street_id == street_id)
    unit = LimitUnit(matter.limit_unit)
    calendar = calendar_service.working_calendar(db, settings=settings)
    spans = db.execute(select(CaseClock.started_at, CaseClock.finished_at)
                       .join(Case, Case.id == CaseClock.case_id)
                       .where(_handled_clocks(begin, finish), *where)
                       .order_by(CaseClock.finished_at.desc()).limit(SUGGESTION_SAMPLE)).all()
    durations = [float(calendar.elapsed(s, f, unit)) for s, f in spans]
    limit = matter.time_limit
    within = (sum(1 for d in durations if d <= float(limit.value)) / len(durations)) if durations else None
    latest = select(func.max(CaseClock.id)).where(CaseClock.case_id == Case.id, CaseClock.node == "handling") \
        .correlate(Case).scalar_subquery()
    good = and_(Case.return_count == 0, exists().where(
        CaseClock.id == latest, CaseClock.overdue.is_(False)))
    tallies = db.execute(
        select(Unit.code, Unit.name, func.sum(sql_flag(good)), func.count())
        .join(Unit, Unit.id == Case.responsible_unit_id)
        .where(*where, Case.status == "closed", Case.close_kind == "normal", Case.closed_at >= begin,
               Case.closed_at < finish)
        .group_by(Unit.code, Unit.name)).all()
    units = sorted((UnitTally(code, name, int(g or 0), n) for code, name, g, n in tallies),
                   key=lambda u: (-u.closed_on_time_unreturned, -u.closed, u.unit_code))
    duty = None
    if street_code is not None:
        try:
            duty = catalog.resolve_duty(db, type_code=type_code, street_code=street_code).unit_code
        except Exception:  # noqa: BLE001 - no rule for the street: the suggestion stands alone
            duty = None
    return TypeSuggestion(type_code, matter.name, limit, len(durations), q,
                          suggested_limit(durations, unit, q=q), None if within is None else round(within, 4),
                          units, next((u for u in units if u.closed_on_time_unreturned > 0), None), duty)

"""Reading cases: who may see which rows, search with keyset pagination, inboxes, overdue now."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from gridgov import clock
from gridgov.auth.policy import Action, Principal, Scope, scopes_for
from gridgov.calendar import service as calendar_service
from gridgov.calendar.rules import DEFAULT_WARNING_FRACTION, LimitUnit
from gridgov.cases.models import (
    Case, CaseAssignment, CaseClock, CaseEvent, CaseReporter, ExtensionRequest,
)
from gridgov.cases.rules import OPEN_STATES, CaseStatus, Grade
from gridgov.config import Settings
from gridgov.errors import PermissionDenied
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.whistle.models import Whistle
from gridgov.whistle.rules import OPEN_WHISTLE_STATES


def visible(principal: Principal, action: Action = Action.CASE_READ) -> ColumnElement[bool]:
    """The SQL condition for the cases the principal may see (the policy's scopes, OR-ed)."""
    conditions = [_scope_condition(principal, scope) for scope in scopes_for(principal, action)]
    if not conditions:
        raise PermissionDenied("当前角色无权查看案件")
    return or_(*conditions)


def _scope_condition(principal: Principal, scope: Scope) -> ColumnElement[bool]:
    unit = principal.unit
    match scope:
        case Scope.DISTRICT:
            return true()
        case Scope.AREA if unit.kind is UnitKind.DISTRICT_CENTRE:
            return true()
        case Scope.AREA if unit.community_id is not None:
            return Case.community_id == unit.community_id
        case Scope.AREA if unit.street_id is not None:
            return Case.street_id == unit.street_id
        case Scope.ASSIGNED:
            return Case.id.in_(select(CaseAssignment.case_id).join(Unit, Unit.id == CaseAssignment.unit_id)
                               .where(Unit.path.startswith(unit.jurisdiction_path)))
        case Scope.OWN_REPORTS if principal.user_id is not None:
            return Case.id.in_(select(CaseReporter.case_id).where(CaseReporter.user_id == principal.user_id))
    return false()


@dataclass(frozen=True)
class CaseFilter:
    status: list[CaseStatus] | None = None
    street_code: str | None = None
    community_code: str | None = None
    unit_grid_code: str | None = None
    holder_unit_code: str | None = None
    type_code: str | None = None
    domain: str | None = None
    channel: str | None = None
    grade: Grade | None = None
    reported_from: date | None = None
    reported_to: date | None = None
    overdue: bool | None = None
    supervised: bool | None = None
    text: str | None = None
    reported_by: int | None = None  # the user id who took the report (intake operator)


def _unit_id(code: str) -> ColumnElement:
    return select(Unit.id).where(Unit.code == code).scalar_subquery()


def _apply(query: Select, f: CaseFilter, now: datetime) -> Select:
    if f.status:
        query = query.where(Case.status.in_(f.status))
    if f.street_code:
        query = query.where(Case.street_id == _unit_id(f.street_code))
    if f.community_code:
        query = query.where(Case.community_id == _unit_id(f.community_code))
    if f.holder_unit_code:
        query = query.where(Case.holder_unit_id == _unit_id(f.holder_unit_code))
    for column, value in ((Case.unit_grid_code, f.unit_grid_code), (Case.type_code, f.type_code),
                          (Case.domain, f.domain), (Case.channel_code, f.channel), (Case.grade, f.grade),
                          (Case.supervised, f.supervised)):
        if value is not None:
            query = query.where(column == value)
    if f.reported_from:
        query = query.where(Case.reported_at >= datetime.combine(f.reported_from, time(), tzinfo=now.tzinfo))
    if f.reported_to:
        end = datetime.combine(f.reported_to + timedelta(days=1), time(), tzinfo=now.tzinfo)
        query = query.where(Case.reported_at < end)
    if f.overdue is not None:
        late = select(CaseClock.case_id).where(_running_overdue(now))
        query = query.where(Case.id.in_(late) if f.overdue else Case.id.not_in(late))
    if f.reported_by is not None:
        query = query.where(Case.id.in_(select(CaseEvent.case_id).where(
            CaseEvent.transition == "report", CaseEvent.actor_id == f.reported_by)))
    if f.text:
        pattern = f"%{f.text}%"
        query = query.where(or_(Case.description.like(pattern), Case.address.like(pattern),
                                Case.number == f.text, Case.channel_ref == f.text))
    return query


def _running_overdue(now: datetime) -> ColumnElement[bool]:
    return and_(CaseClock.finished_at.is_(None), CaseClock.paused_at.is_(None), CaseClock.deadline_at < now)


def search(db: Session, *, principal: Principal, filters: CaseFilter, after_id: int | None = None,
           limit: int = 50) -> tuple[list[Case], int | None]:
    """Newest first, keyset-paginated on id: (page, the id to pass as `after_id` for the next page)."""
    query = _apply(select(Case).where(visible(principal)), filters, clock.utcnow())
    if after_id is not None:
        query = query.where(Case.id < after_id)
    page = list(db.scalars(query.order_by(Case.id.desc()).limit(limit + 1)))
    next_after = page[limit - 1].id if len(page) > limit else None
    return page[:limit], next_after


def count(db: Session, *, principal: Principal, filters: CaseFilter) -> int:
    query = _apply(select(func.count()).select_from(Case).where(visible(principal)), filters, clock.utcnow())
    return db.scalar(query)


def inbox(db: Session, *, settings: Settings, principal: Principal) -> dict[str, list[Case]]:
    """The caller's unit's work: new, returned, due soon, overdue (and for the district and
    streets, cases waiting to be whistled or verified)."""
    now = clock.utcnow()
    in_my_unit = Case.holder_unit_id.in_(
        select(Unit.id).where(Unit.path.startswith(principal.unit.jurisdiction_path)))
    seen = visible(principal)
    open_and_seen = select(Case.id).where(seen, Case.status.in_(OPEN_STATES))
    running = select(CaseClock).where(CaseClock.finished_at.is_(None), CaseClock.paused_at.is_(None),
                                      CaseClock.case_id.in_(open_and_seen))
    calendar = calendar_service.working_calendar(db, settings=settings)
    soon_ids = [
        c.case_id for c in db.scalars(running.where(CaseClock.deadline_at >= now))
        if calendar.fraction_used(c.started_at, c.deadline_at, now, LimitUnit(c.limit_unit))
        >= DEFAULT_WARNING_FRACTION
    ]
    late_ids = select(CaseClock.case_id).where(_running_overdue(now))

    def fetch(*conditions: ColumnElement[bool]) -> list[Case]:
        return list(db.scalars(select(Case).where(seen, Case.status.in_(OPEN_STATES), *conditions)
                               .order_by(Case.id).limit(200)))

    return {
        "new": fetch(in_my_unit, Case.status == CaseStatus.DISPATCHED),
        "returned": fetch(Case.status == CaseStatus.RETURNED),
        "due_soon": fetch(Case.id.in_(soon_ids)) if soon_ids else [],
        "overdue": fetch(Case.id.in_(late_ids)),
        "to_whistle": fetch(Case.status == CaseStatus.TO_WHISTLE, ~exists().where(
            Whistle.case_id == Case.id, Whistle.status.in_(OPEN_WHISTLE_STATES))),
        "to_verify": fetch(Case.status == CaseStatus.HANDLED),
    }


def overdue_now(db: Session, *, now: datetime | None = None) -> list[tuple[int | None, str, int]]:
    """(unit id, node, number of running clocks past their deadline), from one indexed query."""
    now = now or clock.utcnow()
    rows = db.execute(select(CaseClock.unit_id, CaseClock.node, func.count())
                      .where(_running_overdue(now)).group_by(CaseClock.unit_id, CaseClock.node))
    return [(unit_id, node, n) for unit_id, node, n in rows]


def by_deadline(db: Session, *, principal: Principal, filters: CaseFilter,
                limit: int = 200) -> list[Case]:
    """Open cases the principal sees, the earliest deadline of a running clock first (cases
    without one last): the order a queue is worked in."""
    deadline = (select(func.min(CaseClock.deadline_at))
                .where(CaseClock.case_id == Case.id, CaseClock.finished_at.is_(None),
                       CaseClock.paused_at.is_(None))
                .correlate(Case).scalar_subquery())
    query = _apply(select(Case).where(visible(principal), Case.status.in_(OPEN_STATES)), filters,
                   clock.utcnow())
    return list(db.scalars(query.order_by(deadline.is_(None), deadline, Case.id).limit(limit)))


def pending_extensions(db: Session, *, principal: Principal,
                       limit: int = 200) -> list[tuple[Case, ExtensionRequest]]:
    """Extension requests waiting for a decision on open cases the principal sees, oldest first."""
    rows = db.execute(select(Case, ExtensionRequest)
                      .join(ExtensionRequest, ExtensionRequest.case_id == Case.id)
                      .where(visible(principal), Case.status.in_(OPEN_STATES),
                             ExtensionRequest.decision.is_(None))
                      .order_by(ExtensionRequest.requested_at, ExtensionRequest.id).limit(limit))
    return [(case, request) for case, request in rows]


def last_reasons(db: Session, *, case_ids: list[int], transition: str) -> dict[int, str | None]:
    """Per case, the reason given with its latest `transition` (e.g. why it was returned)."""
    if not case_ids:
        return {}
    latest = (select(func.max(CaseEvent.id)).where(CaseEvent.case_id.in_(case_ids),
                                                   CaseEvent.transition == transition)
              .group_by(CaseEvent.case_id))
    rows = db.execute(select(CaseEvent.case_id, CaseEvent.reason).where(CaseEvent.id.in_(latest)))
    return dict(rows.all())

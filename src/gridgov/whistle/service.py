"""The whistle flow: start, the transition table, one transaction per step.

`start_whistle` and `transition` check the step (state, required fields), the actor (the
access policy against the whistle's facts), the version the actor saw, then apply the step's
own effects, move the clocks, and write the whistle event and the audit event in the same
transaction; closing a whistle closes its case there too (`cases.service.apply_transition`,
"close_whistled"). Each public function commits once; nothing is written on any refusal.

Who acts (see docs/whistle.md):
- the street (role `street`, its own street): start, 追哨 (add_departments), cancel,
  report_outcome (with the ratings and the reply);
- the district (role `dispatcher`): summon (派发), return_outcome, close;
- a summoned unit (role `department`): report_in and finish_part on its own summons — the
  unit itself, a unit above it, or (for a summoned department) its field unit serving the
  whistle's street (e.g. 东华门城管执法队 answers for 城管执法局 in 东华门).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ColumnElement

from gridgov import clock
from gridgov.audit import service as audit
from gridgov.audit.rules import Actor, json_safe
from gridgov.auth.policy import Action, Principal, Scope, Target, decide, scopes_for
from gridgov.calendar import service as calendar_service
from gridgov.calendar.rules import TimeLimit, WorkingCalendar
from gridgov.cases import attachments
from gridgov.cases import service as cases_service
from gridgov.cases.models import Case, CaseReporter
from gridgov.cases.rules import CaseStatus
from gridgov.cases.schemas import TransitionIn
from gridgov.config import Settings
from gridgov.db import next_in_year
from gridgov.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied, StaleVersion
from gridgov.grid import service as grid
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.whistle.models import (
    Whistle, WhistleAttachment, WhistleClock, WhistleEvent, WhistleNumberSequence, WhistleSituation,
    WhistleSummons,
)
from gridgov.whistle.rules import (
    DIRECT_AREAS, FINAL_WHISTLE_STATES, OPEN_WHISTLE_STATES, OUTCOME_LIMIT, RATING_POINTS, START,
    SUMMONABLE_KINDS, VERIFICATION_LIMIT, Area, Assessment, Node, ReplyWay,
    SummonsStatus, Transition, WhistleStatus, check_transition, cutoff,
    ended_without_report_in, next_status, rating_problems, report_in_deadline, score_report_in,
    summon_limit, transition_named,
)
from gridgov.whistle.schemas import DepartmentIn, WhistleStartIn, WhistleTransitionIn

ASSEMBLE_TOLERANCE = timedelta(minutes=5)
_ZERO = Decimal("0.0")
_LATENESS = Decimal("0.0001")
SETTLED_SUMMONS = frozenset({SummonsStatus.DONE, SummonsStatus.MISSED, SummonsStatus.WITHDRAWN})


# --- reading one whistle and who may see it ------------------------------------------------

def get_whistle(db: Session, *, whistle_id: int) -> Whistle:
    whistle = db.get(Whistle, whistle_id)
    if whistle is None:
        raise NotFound(f"吹哨 {whistle_id} 不存在")
    return whistle


def _assigned_paths(db: Session, unit_ids: Sequence[int], *, street_id: int) -> tuple[str, ...]:
    """The paths of the summoned units and of their field units serving the whistle's street
    (a field unit may answer for its department in the street it serves)."""
    if not unit_ids:
        return ()
    own = db.scalars(select(Unit.path).where(Unit.id.in_(unit_ids)))
    serving = db.scalars(select(Unit.path).where(
        Unit.parent_id.in_(unit_ids), Unit.kind == UnitKind.FIELD_UNIT, Unit.serves_street_id == street_id))
    return (*own, *serving)


def target_of(db: Session, whistle: Whistle, *, summons: WhistleSummons | None = None) -> Target:
    """The facts of a whistle (or of one of its summons) the access policy decides on. A
    department is "assigned" a whistle once a summons to it has been sent."""
    unit_ids = ([summons.unit_id] if summons is not None
                else [s.unit_id for s in whistle.summons if s.sent_at is not None])
    return Target(street_id=whistle.street_id, community_id=whistle.community_id,
                  assigned_unit_paths=_assigned_paths(db, unit_ids, street_id=whistle.street_id))


def may_read(db: Session, principal: Principal, whistle: Whistle) -> bool:
    return decide(principal, Action.CASE_READ, target_of(db, whistle)).allowed


def readable(db: Session, *, principal: Principal, whistle_id: int) -> Whistle:
    """The whistle, or NotFound when it does not exist or the caller may not see it."""
    whistle = db.get(Whistle, whistle_id)
    if whistle is None or not may_read(db, principal, whistle):
        raise NotFound(f"吹哨 {whistle_id} 不存在")
    return whistle


# --- shared checks -------------------------------------------------------------------------

def _summonable(db: Session, departments: Sequence[DepartmentIn], *, already: set[int] = frozenset(),
                field_name: str = "departments") -> list[tuple[Unit, str]]:
    """The units to summon, each with its task; InvalidInput listing every bad one."""
    units = {u.code: u for u in db.scalars(select(Unit).where(
        Unit.code.in_({d.unit_code for d in departments})))}
    problems, chosen, seen = [], [], set()
    today = clock.utcnow().date()
    for index, item in enumerate(departments):
        where = f"{field_name}[{index}].unit_code"
        unit = units.get(item.unit_code)
        if unit is None:
            problems.append({"field": where, "message": f"单位 {item.unit_code} 不存在"})
        elif UnitKind(unit.kind) not in SUMMONABLE_KINDS:
            problems.append({"field": where, "message": f"{unit.code} {unit.name}是{UnitKind(unit.kind).label}，"
                             "只能召集职能部门、派出机构或社会单位"})
        elif not unit.validity.active_on(today):
            problems.append({"field": where, "message": f"单位 {unit.code} 已停用"})
        elif unit.id in seen:
            problems.append({"field": where, "message": f"{unit.code} {unit.name}重复"})
        elif unit.id in already:
            problems.append({"field": where, "message": f"{unit.code} {unit.name}已在本次吹哨中应哨"})
        else:
            chosen.append((unit, item.task.strip()))
        if unit is not None:
            seen.add(unit.id)
        if not item.task.strip():
            problems.append({"field": f"{field_name}[{index}].task", "message": "请写明对该部门的工作要求"})
    if problems:
        raise InvalidInput(f"应哨部门有 {len(problems)} 处错误", errors=problems)
    return chosen


def _situation_for_start(db: Session, code: str) -> WhistleSituation:
    situation = db.scalar(select(WhistleSituation).where(WhistleSituation.code == code))
    if situation is None:
        raise InvalidInput(f"吹哨情形 {code} 不存在",
                           errors=[{"field": "situation_code", "message": "无此情形"}])
    if not situation.active:
        raise InvalidInput(f"吹哨情形 {code}（{situation.name}）已停用，不能再用于吹哨",
                           errors=[{"field": "situation_code", "message": "情形已停用"}])
    return situation


def _next_number(db: Session, year: int) -> str:
    return f"CS{year}{next_in_year(db, WhistleNumberSequence, year):06d}"


# --- clocks --------------------------------------------------------------------------------

def _start_clock(whistle: Whistle, node: Node, *, now: datetime, calendar: WorkingCalendar, limit: TimeLimit,
                 unit_id: int | None, summons_id: int | None = None, deadline: datetime | None = None) -> None:
    _finish_clocks(whistle, (node,), now=now, summons_id=summons_id)
    whistle.clocks.append(WhistleClock(
        node=node, summons_id=summons_id, unit_id=unit_id, limit_value=limit.value, limit_unit=limit.unit,
        started_at=now, deadline_at=deadline or calendar.deadline(now, limit)))


def _finish_clocks(whistle: Whistle, nodes: Sequence[Node] | None, *, now: datetime,
                   summons_id: int | None = None) -> None:
    for c in whistle.clocks:
        if c.finished_at is None and (nodes is None or c.node in nodes) and (
                summons_id is None or c.summons_id == summons_id):
            c.finished_at, c.overdue = now, now > c.deadline_at


def _running(whistle: Whistle, node: Node) -> bool:
    return any(c.node == node and c.finished_at is None for c in whistle.clocks)


# --- starting ------------------------------------------------------------------------------

def _check_case(db: Session, case: Case, *, street: Unit, version: int | None) -> None:
    if version is not None and case.version != version:
        raise StaleVersion(f"案件已被他人更新（当前版本 {case.version}，提交所据版本 {version}），请刷新后重试")
    if case.status != CaseStatus.TO_WHISTLE:
        raise IllegalTransition(f"案件 {case.number} 处于“{CaseStatus(case.status).label}”状态；"
                                 "只有待吹哨的案件可以吹哨", status=case.status)
    holder = db.get(Unit, case.holder_unit_id) if case.holder_unit_id else None
    if holder is None or not holder.path.startswith(street.path):
        raise IllegalTransition(f"案件 {case.number} 不在{street.name}办理，不能由本街道吹哨")
    open_whistle = db.scalar(select(Whistle.number).where(
        Whistle.case_id == case.id, Whistle.status.in_(OPEN_WHISTLE_STATES)))
    if open_whistle is not None:
        raise IllegalTransition(f"案件 {case.number} 已有进行中的吹哨 {open_whistle}")


@dataclass(frozen=True)
class _Place:
    lng: float
    lat: float
    unit_grid_code: str
    community_id: int
    address: str | None


def _place(db: Session, data: WhistleStartIn, *, case: Case | None, street: Unit) -> _Place:
    if data.lng is not None and data.lat is not None:
        found = grid.locate(db, lng=data.lng, lat=data.lat, crs=data.crs)
        if found.street_code != street.code:
            raise InvalidInput(f"吹哨地点在网格 {found.unit_code}，不在{street.name}",
                               errors=[{"field": "lng", "message": "地点不在本街道"}])
        community_id = db.scalar(select(Unit.id).where(Unit.code == found.community_code))
        if community_id is None:
            raise InvalidInput(f"网格 {found.unit_code} 所属社区不在组织机构中")
        return _Place(found.lng, found.lat, found.unit_code, community_id,
                      data.address or (case.address if case else None))
    if case is not None:
        return _Place(case.lng, case.lat, case.unit_grid_code, case.community_id, data.address or case.address)
    raise InvalidInput("请在地图上标出吹哨地点（经纬度）", errors=[{"field": "lng", "message": "必填"}])


def start_whistle(db: Session, *, settings: Settings, principal: Principal, data: WhistleStartIn) -> Whistle:
    """A street starts a whistle; it is filed (备案) with the district at once."""
    now = clock.utcnow()
    case = None
    if data.case_id is not None:
        # Locked until commit (PostgreSQL): two whistles cannot start on one case at once.
        case = db.get(Case, data.case_id, with_for_update=True)
        if case is None:
            raise NotFound(f"案件 {data.case_id} 不存在")
        street_id, target = case.street_id, cases_service.target_of(db, case)
    else:
        street_id = principal.unit.street_id
        target = Target(street_id=street_id)
    decision = decide(principal, Action.WHISTLE_START, target)
    if street_id is None or not decision.allowed or decision.role is None:
        raise PermissionDenied("只能由案件所在街道（分中心）吹哨" if case else "只有街道（分中心）可以吹哨")
    street = db.get(Unit, street_id)
    situation = _situation_for_start(db, data.situation_code)
    if case is not None:
        _check_case(db, case, street=street, version=data.case_version)
    elif Area(situation.area) not in DIRECT_AREAS:
        raise InvalidInput(
            f"情形 {situation.code} 属于{Area(situation.area).label}：没有案件时只能就重点工作或应急处置直接吹哨",
            errors=[{"field": "case_id", "message": "须在待吹哨的案件上吹哨"}])
    place = _place(db, data, case=case, street=street)
    chosen = _summonable(db, data.departments)
    if data.assemble_at is not None and data.assemble_at < now - ASSEMBLE_TOLERANCE:
        raise InvalidInput("集结时间不能早于当前时间", errors=[{"field": "assemble_at", "message": "已过去"}])
    whistle = Whistle(
        number=_next_number(db, now.year), status=WhistleStatus.FILED, street_id=street.id,
        community_id=place.community_id, started_by_unit_id=principal.unit.id,
        started_by_user_id=principal.user_id, case_id=case.id if case else None, situation_id=situation.id,
        situation_code=situation.code, situation_name=situation.name, area=situation.area,
        limit_value=situation.limit_value, limit_unit=situation.limit_unit, urgency=data.urgency,
        title=data.title.strip(), description=data.description.strip(), address=place.address,
        lng=place.lng, lat=place.lat, unit_grid_code=place.unit_grid_code, assemble_at=data.assemble_at,
        started_at=now, updated_at=now, summons=[], clocks=[])
    db.add(whistle)
    for unit, task in chosen:
        whistle.summons.append(WhistleSummons(unit_id=unit.id, task=task, added_by=START,
                                              status=SummonsStatus.PENDING, created_at=now))
    calendar = calendar_service.working_calendar(db, settings=settings)
    _start_clock(whistle, Node.SUMMON, now=now, calendar=calendar, unit_id=None,
                 limit=summon_limit(urgent=data.urgency == "urgent", area=Area(situation.area)))
    db.flush()
    actor = Actor(id=principal.user_id, name=principal.username, role=decision.role.value,
                  unit_id=principal.unit.id)
    details = {"number": whistle.number, "situation": situation.code, "case_id": whistle.case_id,
               "urgency": whistle.urgency, "unit_grid": whistle.unit_grid_code,
               "departments": [unit.code for unit, _ in chosen], "assemble_at": data.assemble_at}
    _record(db, whistle=whistle, name=START, from_status=None, actor=actor, now=now, details=details,
            reason=None, summons=None, target_unit_id=None)
    db.commit()
    return whistle


# --- the transition table --------------------------------------------------------------------

@dataclass
class _Step:
    db: Session
    settings: Settings
    principal: Principal
    whistle: Whistle
    summons: WhistleSummons | None
    transition: Transition
    data: WhistleTransitionIn
    payload: dict[str, Any]
    now: datetime
    calendar: WorkingCalendar
    details: dict[str, Any] = field(default_factory=dict)
    target_unit_id: int | None = None


def transition(db: Session, *, settings: Settings, principal: Principal, whistle_id: int, name: str,
               data: WhistleTransitionIn) -> Whistle:
    """Apply one step of the table and commit it with its events."""
    try:
        whistle = _apply(db, settings=settings, principal=principal, whistle_id=whistle_id, name=name,
                         data=data)
        db.commit()
    except StaleDataError:
        # Another transaction changed the whistle (or the summons) after we read it.
        db.rollback()
        raise StaleVersion("吹哨已被他人同时更新，请刷新后重试") from None
    return whistle


def _payload(data: WhistleTransitionIn) -> dict[str, Any]:
    payload = data.model_dump(exclude_none=True, exclude={"version"}, mode="json")
    for key in ("departments", "attachment_ids", "ratings"):
        if not payload.get(key):
            payload.pop(key, None)
    return payload


def _apply(db: Session, *, settings: Settings, principal: Principal, whistle_id: int, name: str,
           data: WhistleTransitionIn) -> Whistle:
    whistle = get_whistle(db, whistle_id=whistle_id)
    step_transition = transition_named(name)
    payload = _payload(data)
    summons = None
    if step_transition.on_summons and data.summons_id is not None:
        summons = next((s for s in whistle.summons if s.id == data.summons_id), None)
        if summons is None:
            raise NotFound(f"吹哨 {whistle.number} 没有应哨记录 {data.summons_id}")
    seen_version = summons.version if summons is not None else whistle.version
    if step_transition.on_summons and summons is None:
        seen_version = data.version  # the missing summons_id is reported below
    if seen_version != data.version:
        what = "应哨记录" if summons is not None else "吹哨"
        raise StaleVersion(f"{what}已被他人更新（当前版本 {seen_version}，提交所据版本 {data.version}），请刷新后重试")
    from_status = WhistleStatus(whistle.status)
    check_transition(name, status=from_status, payload=payload,
                     summons_status=SummonsStatus(summons.status) if summons is not None else None)
    role = _authorize(db, principal, step_transition, whistle, summons)
    now = clock.utcnow()
    step = _Step(db, settings, principal, whistle, summons, step_transition, data, payload, now,
                 calendar_service.working_calendar(db, settings=settings))
    EFFECTS[name](step)
    whistle.status = next_status(step_transition, from_status)
    if not step_transition.on_summons:
        whistle.updated_at = now
    actor = Actor(id=principal.user_id, name=principal.username, role=role, unit_id=principal.unit.id)
    reason = payload.get("reason") or payload.get("note")
    details = {k: v for k, v in payload.items() if k not in ("reason", "note", "summons_id")} | step.details
    _record(db, whistle=whistle, name=name, from_status=from_status, actor=actor, now=now, details=details,
            reason=reason, summons=summons, target_unit_id=step.target_unit_id)
    db.flush()
    return whistle


def _authorize(db: Session, principal: Principal, step: Transition, whistle: Whistle,
               summons: WhistleSummons | None) -> str:
    decision = decide(principal, step.action, target_of(db, whistle, summons=summons))
    if not decision.allowed or decision.role is None:
        if step.on_summons:
            raise PermissionDenied(f"此应哨任务不是派给本单位的，不能{step.label}")
        raise PermissionDenied(f"无权对此吹哨执行“{step.label}”")
    return decision.role.value


def _record(db: Session, *, whistle: Whistle, name: str, from_status: WhistleStatus | None, actor: Actor,
            now: datetime, details: dict[str, Any], reason: str | None, summons: WhistleSummons | None,
            target_unit_id: int | None) -> None:
    """The whistle event and the audit event of one step, in the caller's transaction."""
    details = json_safe(details)
    db.add(WhistleEvent(
        whistle_id=whistle.id, summons_id=summons.id if summons else None, transition=name,
        from_status=from_status, to_status=whistle.status, actor_id=actor.id, actor_name=actor.name,
        role=actor.role, unit_id=actor.unit_id,
        target_unit_id=target_unit_id or (summons.unit_id if summons else None),
        reason=reason, payload=details, occurred_at=now))
    audit.record(db, actor=actor, action=f"whistle.{name}", object_type="whistle", object_id=whistle.id,
                 before={"status": from_status} if from_status else None,
                 after={"status": whistle.status, "number": whistle.number,
                        **({"summons_id": summons.id} if summons else {}), **details},
                 reason=reason)


# --- each step's own effects ----------------------------------------------------------------

def _summon(step: _Step) -> None:
    whistle, now = step.whistle, step.now
    pending = [s for s in whistle.summons if s.status == SummonsStatus.PENDING]
    if not pending:
        raise IllegalTransition("没有待派发的应哨部门")
    limit = whistle.time_limit
    for summons in pending:
        deadline = report_in_deadline(step.calendar, sent_at=now, limit=limit, assemble_at=whistle.assemble_at)
        summons.status, summons.sent_at = SummonsStatus.SENT, now
        summons.report_in_due_at = deadline
        summons.cutoff_at = cutoff(step.calendar, deadline=deadline, limit=limit)
        _start_clock(whistle, Node.REPORT_IN, now=now, calendar=step.calendar, limit=limit,
                     unit_id=summons.unit_id, summons_id=summons.id, deadline=deadline)
    whistle.summoned_at = whistle.summoned_at or now
    _finish_clocks(whistle, (Node.SUMMON,), now=now)
    step.details["sent_to"] = _codes(step.db, [s.unit_id for s in pending])


def _add_departments(step: _Step) -> None:
    whistle, now = step.whistle, step.now
    chosen = _summonable(step.db, step.data.departments, already={s.unit_id for s in whistle.summons})
    for unit, task in chosen:
        whistle.summons.append(WhistleSummons(unit_id=unit.id, task=task, added_by="add_departments",
                                              status=SummonsStatus.PENDING, created_at=now))
    if not _running(whistle, Node.SUMMON):
        _start_clock(whistle, Node.SUMMON, now=now, calendar=step.calendar, unit_id=None,
                     limit=summon_limit(urgent=whistle.urgency == "urgent", area=Area(whistle.area)))
    _finish_clocks(whistle, (Node.OUTCOME,), now=now)  # no longer complete
    step.details["departments"] = [unit.code for unit, _ in chosen]


def _report_in(step: _Step) -> None:
    summons, data, now = step.summons, step.data, step.now
    if data.arrived_at is not None and data.arrived_at > now + ASSEMBLE_TOLERANCE:
        raise InvalidInput("到场时间不能晚于当前时间", errors=[{"field": "arrived_at", "message": "在未来"}])
    score = score_report_in(step.calendar, deadline=summons.report_in_due_at, reported_at=now,
                            limit=step.whistle.time_limit)
    summons.status, summons.reported_in_at = SummonsStatus.REPORTED_IN, now
    summons.reported_by_unit_id, summons.reported_by_user_id = step.principal.unit.id, step.principal.user_id
    summons.arrived_at, summons.arrival_place = data.arrived_at, data.place.strip()
    summons.leader, summons.headcount, summons.forces = data.leader.strip(), data.headcount, data.forces
    summons.assessment, summons.lateness = score.assessment, score.lateness.quantize(_LATENESS)
    summons.responsiveness = score.responsiveness
    _finish_clocks(step.whistle, (Node.REPORT_IN,), now=now, summons_id=summons.id)
    step.details |= {"assessment": score.assessment.value, "responsiveness": score.responsiveness,
                     "lateness": summons.lateness}


def _finish_part(step: _Step) -> None:
    summons, whistle = step.summons, step.whistle
    ids = step.data.attachment_ids
    if ids:
        found = set(step.db.scalars(select(WhistleAttachment.id).where(
            WhistleAttachment.id.in_(ids), WhistleAttachment.whistle_id == whistle.id,
            WhistleAttachment.summons_id == summons.id)))
        missing = [i for i in ids if i not in found]
        if missing:
            raise InvalidInput(f"附件 {missing} 不是本应哨任务上传的材料",
                               errors=[{"field": "attachment_ids", "message": "无此附件"}])
    summons.status, summons.done_at, summons.result = SummonsStatus.DONE, step.now, step.data.result.strip()
    if all(SummonsStatus(s.status) in SETTLED_SUMMONS for s in whistle.summons):
        _start_clock(whistle, Node.OUTCOME, now=step.now, calendar=step.calendar, limit=OUTCOME_LIMIT,
                     unit_id=whistle.street_id)


def _report_outcome(step: _Step) -> None:
    whistle, now, db = step.whistle, step.now, step.db
    names = _names(db, [s.unit_id for s in whistle.summons])
    missed: list[WhistleSummons] = []
    for summons in whistle.summons:
        status, name = SummonsStatus(summons.status), names[summons.unit_id]
        if status == SummonsStatus.PENDING:
            raise IllegalTransition(f"{name}尚待区级平台派发，不能上报结果")
        if status == SummonsStatus.REPORTED_IN:
            raise IllegalTransition(f"{name}已报到但尚未反馈处置结果，不能上报结果")
        if status == SummonsStatus.SENT:
            if now <= summons.report_in_due_at:
                raise IllegalTransition(f"{name}尚未报到，报到时限未到（{summons.report_in_due_at:%Y-%m-%d %H:%M} UTC），"
                                         "不能上报结果")
            missed.append(summons)
    by_id = {s.id: s for s in whistle.summons}
    problems: list[dict[str, str]] = []
    rated: dict[int, Any] = {}
    for index, rating in enumerate(step.data.ratings):
        where = f"ratings[{index}]."
        summons = by_id.get(rating.summons_id)
        if summons is None:
            problems.append({"field": f"{where}summons_id", "message": f"本吹哨没有应哨记录 {rating.summons_id}"})
            continue
        if summons.id in rated:
            problems.append({"field": f"{where}summons_id", "message": f"{names[summons.unit_id]}重复评价"})
            continue
        if SummonsStatus(summons.status) == SummonsStatus.WITHDRAWN:
            problems.append({"field": f"{where}summons_id", "message": f"{names[summons.unit_id]}已撤回，不参与评价"})
            continue
        problems += rating_problems(rating.model_dump(), prefix=where)
        rated[summons.id] = rating
    for summons in whistle.summons:
        if SummonsStatus(summons.status) == SummonsStatus.DONE and summons.id not in rated:
            problems.append({"field": "ratings", "message": f"请对{names[summons.unit_id]}的四项表现评分"})
    problems += _reply_problems(step)
    if problems:
        raise InvalidInput(f"结果上报有 {len(problems)} 处错误", errors=problems)
    for summons in missed:
        summons.status, summons.assessment, summons.responsiveness = (
            SummonsStatus.MISSED, Assessment.MISSED, _ZERO)
        _finish_clocks(whistle, (Node.REPORT_IN,), now=now, summons_id=summons.id)
    for summons_id, rating in rated.items():
        summons = by_id[summons_id]
        for point in RATING_POINTS:
            setattr(summons, f"rating_{point}", getattr(rating, point))
        summons.rating_comment = (rating.comment or "").strip() or None
        summons.rated_at = now
    whistle.outcome, whistle.outcome_at = step.data.outcome.strip(), now
    if step.data.reply_text:
        whistle.reply_text, whistle.reply_way, whistle.replied_at = (
            step.data.reply_text.strip(), step.data.reply_way, now)
    _finish_clocks(whistle, (Node.OUTCOME,), now=now)
    _start_clock(whistle, Node.VERIFICATION, now=now, calendar=step.calendar, limit=VERIFICATION_LIMIT,
                 unit_id=None)
    step.details["missed"] = _codes(db, [s.unit_id for s in missed])


def _reply_problems(step: _Step) -> list[dict[str, str]]:
    """A whistle on a case with a reporter owes the reporter a one-to-one reply (text + way)."""
    data, problems = step.data, []
    has_reporter = step.whistle.case_id is not None and step.db.scalar(
        select(CaseReporter.id).where(CaseReporter.case_id == step.whistle.case_id).limit(1)) is not None
    if has_reporter and not (data.reply_text or "").strip():
        problems.append({"field": "reply_text", "message": "案件有反映人，须填写一对一反馈内容"})
    if has_reporter and not data.reply_way:
        problems.append({"field": "reply_way", "message": "须选择反馈方式"})
    if data.reply_way and data.reply_way not in {w.value for w in ReplyWay}:
        problems.append({"field": "reply_way", "message":
                         f"反馈方式应为 {'、'.join(f'{w.value}（{w.label}）' for w in ReplyWay)} 之一"})
    if data.reply_way and not (data.reply_text or "").strip():
        problems.append({"field": "reply_text", "message": "须填写反馈内容"})
    return problems


def _return_outcome(step: _Step) -> None:
    whistle = step.whistle
    _finish_clocks(whistle, (Node.VERIFICATION,), now=step.now)
    _start_clock(whistle, Node.OUTCOME, now=step.now, calendar=step.calendar, limit=OUTCOME_LIMIT,
                 unit_id=whistle.street_id)


def _close(step: _Step) -> None:
    whistle, now = step.whistle, step.now
    whistle.closed_at, whistle.close_note = now, step.data.note.strip()
    for summons in whistle.summons:
        summons.assessed_at = now
    _finish_clocks(whistle, None, now=now)
    if whistle.case_id is None:
        return
    case = step.db.get(Case, whistle.case_id)  # held in "to whistle" while the whistle is open
    cases_service.apply_transition(
        step.db, settings=step.settings, principal=step.principal, case_id=case.id, name="close_whistled",
        data=TransitionIn(version=case.version, note=f"吹哨 {whistle.number} 核查结案：{whistle.close_note}"[:2000]))
    step.details["case"] = "closed"


def _cancel(step: _Step) -> None:
    whistle, now = step.whistle, step.now
    ended = {}
    for summons in whistle.summons:
        if SummonsStatus(summons.status) in (SummonsStatus.PENDING, SummonsStatus.SENT):
            outcome = ended_without_report_in(sent=summons.sent_at is not None,
                                              deadline=summons.report_in_due_at, ended_at=now)
            summons.assessment = outcome
            if outcome is Assessment.MISSED:
                summons.status, summons.responsiveness = SummonsStatus.MISSED, _ZERO
            else:
                summons.status = SummonsStatus.WITHDRAWN
            ended[summons.unit_id] = outcome.value
        summons.assessed_at = now
    whistle.cancelled_at, whistle.cancel_reason = now, step.data.reason.strip()
    _finish_clocks(whistle, None, now=now)
    codes = dict(step.db.execute(select(Unit.id, Unit.code).where(Unit.id.in_(ended))).all()) if ended else {}
    step.details["ended"] = {codes[u]: outcome for u, outcome in ended.items()}


EFFECTS: dict[str, Callable[[_Step], None]] = {
    "summon": _summon, "add_departments": _add_departments, "report_in": _report_in,
    "finish_part": _finish_part, "report_outcome": _report_outcome, "return_outcome": _return_outcome,
    "close": _close, "cancel": _cancel,
}

def _codes(db: Session, unit_ids: Sequence[int]) -> list[str]:
    codes = dict(db.execute(select(Unit.id, Unit.code).where(Unit.id.in_(unit_ids))).all()) if unit_ids else {}
    return [codes[u] for u in unit_ids]


def _names(db: Session, unit_ids: Sequence[int]) -> dict[int, str]:
    if not unit_ids:
        return {}
    rows = db.execute(select(Unit.id, Unit.short_name, Unit.name).where(Unit.id.in_(unit_ids)))
    return {unit_id: short or name for unit_id, short, name in rows}


# --- attachments ----------------------------------------------------------------------------

def attach(db: Session, *, settings: Settings, principal: Principal, whistle_id: int, summons_id: int | None,
           kind: str, content: bytes, original_name: str | None) -> WhistleAttachment:
    """Store a photo or document on an open whistle the caller may see — on one summons only
    by the unit that answers it (its result materials)."""
    whistle = readable(db, principal=principal, whistle_id=whistle_id)
    if whistle.status in FINAL_WHISTLE_STATES:
        raise IllegalTransition("已结案或已撤哨的吹哨不能再上传附件")
    summons = None
    if summons_id is not None:
        summons = next((s for s in whistle.summons if s.id == summons_id), None)
        if summons is None:
            raise NotFound(f"吹哨 {whistle.number} 没有应哨记录 {summons_id}")
        if not decide(principal, Action.WHISTLE_REPORT_IN, target_of(db, whistle, summons=summons)).allowed:
            raise PermissionDenied("只能向派给本单位的应哨任务上传材料")
    stored = attachments.store(settings.data_dir / "attachments", content, kind=kind)
    row = WhistleAttachment(whistle_id=whistle.id, summons_id=summons_id, kind=kind, sha256=stored.sha256,
                            media_type=stored.media_type, size=stored.size,
                            original_name=(original_name or "")[:200] or None, uploaded_by=principal.username,
                            uploaded_by_unit_id=principal.unit.id, uploaded_at=clock.utcnow())
    db.add(row)
    db.flush()
    audit.record(db, actor=Actor(principal.user_id, principal.username, None, principal.unit.id),
                 action="whistle.attach", object_type="whistle", object_id=whistle.id,
                 after={"attachment": row.id, "summons_id": summons_id, "kind": kind, "sha256": stored.sha256})
    db.commit()
    return row


# --- listing -------------------------------------------------------------------------------

def _principal_unit(db: Session, principal: Principal) -> Unit:
    return db.get(Unit, principal.unit.id)


def mine(db: Session, principal: Principal) -> ColumnElement[bool]:
    """Summons the principal's unit answers: sent to it or a unit below it, or — for a field
    unit — to its department, for whistles in the street it serves."""
    below = WhistleSummons.unit_id.in_(
        select(Unit.id).where(Unit.path.startswith(principal.unit.jurisdiction_path)))
    unit = _principal_unit(db, principal)
    if UnitKind(unit.kind) is UnitKind.FIELD_UNIT and unit.parent_id and unit.serves_street_id:
        proxy = and_(WhistleSummons.unit_id == unit.parent_id,
                     WhistleSummons.whistle_id.in_(
                         select(Whistle.id).where(Whistle.street_id == unit.serves_street_id)))
        return or_(below, proxy)
    return below


def visible(db: Session, principal: Principal) -> ColumnElement[bool]:
    """The SQL condition for the whistles the principal may see (as for cases: the district
    and leaders everything, a street its own, a department those it was summoned to)."""
    conditions = []
    for scope in scopes_for(principal, Action.CASE_READ):
        unit = principal.unit
        if scope is Scope.DISTRICT or (scope is Scope.AREA and unit.kind is UnitKind.DISTRICT_CENTRE):
            conditions.append(true())
        elif scope is Scope.AREA and unit.community_id is not None:
            conditions.append(Whistle.community_id == unit.community_id)
        elif scope is Scope.AREA and unit.street_id is not None:
            conditions.append(Whistle.street_id == unit.street_id)
        elif scope is Scope.ASSIGNED:
            conditions.append(Whistle.id.in_(select(WhistleSummons.whistle_id).where(
                WhistleSummons.sent_at.is_not(None), mine(db, principal))))
    if not conditions:
        raise PermissionDenied("当前角色无权查看吹哨")
    return or_(*conditions) if len(conditions) > 1 else conditions[0]


@dataclass(frozen=True)
class WhistleFilter:
    status: list[WhistleStatus] | None = None
    street_code: str | None = None
    situation_code: str | None = None
    area: Area | None = None
    unit_code: str | None = None  # summoned
    case_id: int | None = None
    started_from: date | None = None
    started_to: date | None = None
    text: str | None = None


def local_day_start(day: date, settings: Settings) -> datetime:
    return datetime.combine(day, time(), tzinfo=settings.tz)


def _filtered(query: Select, f: WhistleFilter, settings: Settings) -> Select:
    if f.status:
        query = query.where(Whistle.status.in_(f.status))
    if f.street_code:
        street = select(Unit.id).where(Unit.code == f.street_code).scalar_subquery()
        query = query.where(Whistle.street_id == street)
    if f.situation_code:
        query = query.where(Whistle.situation_code == f.situation_code)
    if f.area:
        query = query.where(Whistle.area == f.area)
    if f.case_id is not None:
        query = query.where(Whistle.case_id == f.case_id)
    if f.unit_code:
        query = query.where(Whistle.id.in_(select(WhistleSummons.whistle_id).join(
            Unit, Unit.id == WhistleSummons.unit_id).where(Unit.code == f.unit_code)))
    if f.started_from:
        query = query.where(Whistle.started_at >= local_day_start(f.started_from, settings))
    if f.started_to:
        query = query.where(Whistle.started_at < local_day_start(f.started_to + timedelta(days=1), settings))
    if f.text:
        pattern = f"%{f.text}%"
        query = query.where(or_(Whistle.title.like(pattern), Whistle.description.like(pattern),
                                Whistle.number == f.text))
    return query


def search(db: Session, *, settings: Settings, principal: Principal, filters: WhistleFilter,
           after_id: int | None = None, limit: int = 50) -> tuple[list[Whistle], int | None, int]:
    """Newest first, keyset-paginated on id: (page, next `after_id`, total)."""
    seen = visible(db, principal)
    query = _filtered(select(Whistle).where(seen), filters, settings)
    total = db.scalar(_filtered(select(func.count()).select_from(Whistle).where(seen), filters, settings))
    if after_id is not None:
        query = query.where(Whistle.id < after_id)
    page = list(db.scalars(query.order_by(Whistle.id.desc()).limit(limit + 1)))
    next_after = page[limit - 1].id if len(page) > limit else None
    return page[:limit], next_after, total


def inbox(db: Session, *, principal: Principal) -> dict[str, list[Whistle]]:
    """The caller's whistle work: the district's to summon and to close; a street's open
    whistles and those ready for its outcome report; a department's summons to report in to
    and in hand."""
    now = clock.utcnow()
    seen = visible(db, principal)
    boxes: dict[str, list[Whistle]] = {}

    def fetch(*conditions: ColumnElement[bool]) -> list[Whistle]:
        return list(db.scalars(select(Whistle).where(seen, *conditions).order_by(Whistle.id).limit(200)))

    def has_summons(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        return Whistle.id.in_(select(WhistleSummons.whistle_id).where(*conditions))

    if decide(principal, Action.WHISTLE_SUMMON).allowed:
        boxes["to_summon"] = fetch(Whistle.status.in_((WhistleStatus.FILED, WhistleStatus.SUMMONED)),
                                   has_summons(WhistleSummons.status == SummonsStatus.PENDING))
    if decide(principal, Action.CASE_CLOSE).allowed:
        boxes["to_close"] = fetch(Whistle.status == WhistleStatus.REPORTED)
    if decide(principal, Action.WHISTLE_START).allowed and principal.unit.street_id is not None:
        open_ones = fetch(Whistle.status.in_(OPEN_WHISTLE_STATES))
        boxes["open"] = open_ones
        boxes["to_report_outcome"] = [w for w in open_ones if w.status == WhistleStatus.SUMMONED and all(
            SummonsStatus(s.status) in SETTLED_SUMMONS
            or (s.status == SummonsStatus.SENT and s.report_in_due_at < now) for s in w.summons)]
    if decide(principal, Action.WHISTLE_REPORT_IN).allowed:
        my = mine(db, principal)
        boxes["to_report_in"] = fetch(Whistle.status == WhistleStatus.SUMMONED,
                                      has_summons(my, WhistleSummons.status == SummonsStatus.SENT))
        boxes["in_hand"] = fetch(Whistle.status == WhistleStatus.SUMMONED,
                                 has_summons(my, WhistleSummons.status == SummonsStatus.REPORTED_IN))
    return boxes

"""Moving cases through their lifecycle: the transition table, one transaction.

`transition` (one case) and `transition_many` (a batch, all or none) check, for each case,
the table (state and required fields), the actor (policy, and for holder transitions that the
actor's unit holds the case), the version the actor saw, then apply the transition's own
effects, move the node clocks, and write the case event and the audit event in the same
transaction. A batch reads its cases, and the units, types and duties they share, once.
"""

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gridgov import clock
from gridgov.audit import service as audit
from gridgov.audit.rules import Actor, json_safe
from gridgov.auth.policy import Action, Principal, Target, decide
from gridgov.calendar import service as calendar_service
from gridgov.calendar.rules import TimeLimit, WorkingCalendar
from gridgov.cases import attachments, clocks, intake
from gridgov.cases.models import (
    Attachment, Case, CaseAssignment, CaseClock, CaseEvent, CaseReporter, ExtensionRequest,
)
from gridgov.cases.rules import (
    CLOCK_EFFECTS, OPEN_STATES, PREVIOUS, CaseStatus, Grade, Node, Transition,
    check_transition, next_status, node_limit, transition_named,
)
from gridgov.cases.schemas import MAX_BATCH, ReportIn, TransitionFields, TransitionIn
from gridgov.catalog import service as catalog
from gridgov.catalog.models import MatterTypeVersion
from gridgov.config import Settings
from gridgov.db import flush_in_bulk, insert_rows
from gridgov.errors import (
    Conflict, DomainError, IllegalTransition, InvalidInput, NotFound, PermissionDenied, StaleVersion,
)
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.whistle.models import Whistle
from gridgov.whistle.rules import OPEN_WHISTLE_STATES

# While a whistle is open on a case, the street's whistle coordinates it: the case may not be
# sent elsewhere, merged away or force-closed until the whistle closes or is cancelled.
BLOCKED_BY_OPEN_WHISTLE = frozenset({"dispatch", "redispatch", "merge", "force_close"})

DISPATCHABLE_KINDS = frozenset({UnitKind.DEPARTMENT, UnitKind.FIELD_UNIT, UnitKind.STREET,
                                UnitKind.SECTION, UnitKind.OUTSIDE_BODY, UnitKind.COMMUNITY})


def get_case(db: Session, *, case_id: int) -> Case:
    case = db.get(Case, case_id)
    if case is None:
        raise NotFound(f"案件 {case_id} 不存在")
    return case


def open_whistles(db: Session, *, case_ids: Collection[int]) -> dict[int, str]:
    """The number of the whistle open on each of the cases that has one."""
    return dict(db.execute(select(Whistle.case_id, Whistle.number).where(
        Whistle.case_id.in_(case_ids), Whistle.status.in_(OPEN_WHISTLE_STATES))).all())


def open_whistle_number(db: Session, *, case_id: int) -> str | None:
    return open_whistles(db, case_ids=[case_id]).get(case_id)


def target_of(db: Session, case: Case, *, holder_only: bool = False) -> Target:
    """The facts of a case the access policy decides on."""
    if holder_only:
        unit_ids = {case.holder_unit_id} if case.holder_unit_id else set()
    else:
        unit_ids = {assignment.unit_id for assignment in case.assignments}
    return Target(street_id=case.street_id, community_id=case.community_id,
                  assigned_unit_paths=tuple(sorted(db.get(Unit, unit_id).path for unit_id in unit_ids)),
                  reporter_user_ids=frozenset(r.user_id for r in case.reporters if r.user_id))


@dataclass
class _Batch:
    """What the cases moved together share, and what they look up: read once for all of them."""

    db: Session
    principal: Principal
    now: datetime
    calendar: WorkingCalendar
    open_whistles: dict[int, str]
    conceal_unreadable: bool
    # The units the cases name, held here so that the session's (weak) identity map keeps them
    # for every db.get of the batch.
    units: list[Unit]
    # Rows only written, never read back by the batch: appended with one Core insert each.
    new_clocks: list[dict[str, Any]] = field(default_factory=list)
    new_assignments: list[dict[str, Any]] = field(default_factory=list)
    case_events: list[dict[str, Any]] = field(default_factory=list)
    audit_entries: list[audit.Entry] = field(default_factory=list)
    _memo: dict[tuple, Any] = field(default_factory=dict)

    def _once(self, key: tuple, load: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = load()
        return self._memo[key]

    def unit(self, code: str) -> Unit:
        return self._once(("unit", code), lambda: _unit(self.db, code))

    def matter(self, code: str) -> MatterTypeVersion:
        return self._once(("matter", code), lambda: catalog.get_type(self.db, code=code, at=self.now))

    def duty(self, case: Case) -> catalog.DutyAnswer:
        return self._once(("duty", case.type_code, case.street_id), lambda: suggest_unit(self.db, case=case))


@dataclass
class _Step:
    """Everything a transition's own effect may read or change."""

    batch: _Batch
    case: Case
    transition: Transition
    payload: dict[str, Any]
    actor: Actor
    target_unit: Unit | None = None
    extension: TimeLimit | None = None

    @property
    def db(self) -> Session:
        return self.batch.db

    @property
    def now(self) -> datetime:
        return self.batch.now


def transition(
    db: Session, *, settings: Settings, principal: Principal, case_id: int, name: str, data: TransitionIn,
) -> Case:
    """Apply one transition and commit it with its events."""
    return transition_many(db, settings=settings, principal=principal, name=name,
                           cases=[(case_id, data.version)], data=data)[0]


def transition_many(
    db: Session, *, settings: Settings, principal: Principal, name: str, cases: Sequence[tuple[int, int]],
    data: TransitionFields, conceal_unreadable: bool = False,
) -> list[Case]:
    """Apply one transition, with the same fields, to many cases — each named with the version
    its actor saw — and commit them together: every case moves, or none does, and a refusal
    names the case that stopped the batch. With `conceal_unreadable` (the API's way), a case
    the principal may not read is refused as not found rather than forbidden."""
    moved = _apply_many(db, settings=settings, principal=principal, name=name, cases=cases, data=data,
                        conceal_unreadable=conceal_unreadable)
    db.commit()
    return moved


def apply_transition(
    db: Session, *, settings: Settings, principal: Principal, case_id: int, name: str, data: TransitionIn,
) -> Case:
    """Apply one transition inside the caller's transaction (other features, such as the
    whistle, move a case together with their own changes); the caller commits."""
    return _apply_many(db, settings=settings, principal=principal, name=name,
                       cases=[(case_id, data.version)], data=data)[0]


def _apply_many(db: Session, *, settings: Settings, principal: Principal, name: str,
                cases: Sequence[tuple[int, int]], data: TransitionFields,
                conceal_unreadable: bool = False) -> list[Case]:
    """The cases are read afresh and locked, in the order of their ids (two batches never wait
    on each other crosswise), before their versions are checked. Nothing is written until every
    case has moved; the rows are then written together, each table's changes in bulk.

    Of a case's clocks and reporters only what a transition works on is read: the clocks not
    yet finished, and the reporters with an account (the access policy's concern). New clocks
    and assignments are inserted, not added to the case's lists; all three lists are expired
    once the batch is written, so that whoever reads them next reads them whole."""
    transition_named(name)  # an unknown transition is refused before any case is read
    ids = [case_id for case_id, _ in cases]
    if len(ids) > MAX_BATCH:
        raise InvalidInput(f"一批最多 {MAX_BATCH} 件", errors=[{"field": "cases", "message": "过多"}])
    if len(set(ids)) != len(ids):
        raise InvalidInput("同一案件在一批中只能出现一次", errors=[{"field": "cases", "message": "重复"}])
    loaded = {case.id: case for case in db.scalars(
        select(Case).where(Case.id.in_(ids)).order_by(Case.id).with_for_update()
        .options(selectinload(Case.assignments),
                 selectinload(Case.clocks.and_(CaseClock.finished_at.is_(None))),
                 selectinload(Case.reporters.and_(CaseReporter.user_id.is_not(None))))
        .execution_options(populate_existing=True))}
    with db.no_autoflush:
        if missing := [case_id for case_id in ids if case_id not in loaded]:
            raise NotFound(f"案件 {'、'.join(map(str, missing))} 不存在")
        batch = _Batch(db, principal, clock.utcnow(),
                       calendar_service.working_calendar(db, settings=settings),
                       open_whistles(db, case_ids=ids) if name in BLOCKED_BY_OPEN_WHISTLE else {},
                       conceal_unreadable,
                       _units_of(db, loaded.values()))
        payload = data.model_dump(exclude_none=True, exclude={"version", "cases"}, mode="json")
        if not payload.get("attachment_ids"):
            payload.pop("attachment_ids", None)
        for case_id, version in cases:
            case = loaded[case_id]
            try:
                _apply(batch, case, version=version, name=name, payload=dict(payload))
            except DomainError as error:
                if len(cases) > 1:
                    error.detail = f"案件 {case.number}：{error.detail}"
                    error.extra |= {"case_id": case.id, "case_number": case.number}
                raise
        for model, rows in ((CaseClock, batch.new_clocks), (CaseAssignment, batch.new_assignments),
                            (CaseEvent, batch.case_events)):
            insert_rows(db.connection(), model.__table__, rows)
        flush_in_bulk(db)
        # Last: appending to the audit chain holds its lock (PostgreSQL) until the commit.
        audit.record_many(db, batch.audit_entries)
    for case in loaded.values():
        db.expire(case, ["clocks", "reporters", "assignments"])
    return [loaded[case_id] for case_id in ids]


def _units_of(db: Session, cases: Iterable[Case]) -> list[Unit]:
    ids = set()
    for case in cases:
        ids |= {case.street_id, case.holder_unit_id} | {assignment.unit_id for assignment in case.assignments}
    return list(db.scalars(select(Unit).where(Unit.id.in_(ids - {None}))))


def _apply(batch: _Batch, case: Case, *, version: int, name: str, payload: dict[str, Any]) -> None:
    if batch.conceal_unreadable and not decide(batch.principal, Action.CASE_READ, target_of(batch.db, case)).allowed:
        raise NotFound(f"案件 {case.id} 不存在")
    if case.version != version:
        raise StaleVersion(f"案件已被他人更新（当前版本 {case.version}，提交所据版本 {version}），请刷新后重试")
    case.version = version + 1
    step_transition = check_transition(name, status=CaseStatus(case.status), payload=payload)
    role = _authorize(batch.db, batch.principal, step_transition, case)
    if whistle := batch.open_whistles.get(case.id):
        raise IllegalTransition(f"案件正在吹哨（{whistle}）协调处置中，吹哨办结或撤销前不能"
                                f"{step_transition.label}")
    principal = batch.principal
    actor = Actor(id=principal.user_id, name=principal.username, role=role, unit_id=principal.unit.id)
    step = _Step(batch, case, step_transition, payload, actor)
    from_status = CaseStatus(case.status)
    EFFECTS[name](step)
    case.status = next_status(step_transition, status=from_status, suspended_from=case.suspended_from)
    if step_transition.target == PREVIOUS:
        case.suspended_from = None
    _move_clocks(step)
    _record(step, from_status)


def _authorize(db: Session, principal: Principal, step: Transition, case: Case) -> str:
    decision = decide(principal, step.action, target_of(db, case, holder_only=step.by_holder))
    if not decision.allowed or decision.role is None:
        raise PermissionDenied(f"无权对此案件执行“{step.label}”")
    if step.by_holder:
        holder = db.get(Unit, case.holder_unit_id) if case.holder_unit_id else None
        if holder is None or not principal.unit.contains(holder.path):
            raise PermissionDenied(f"此案件不在本单位办理，不能{step.label}")
    return decision.role.value


def _move_clocks(step: _Step) -> None:
    effect = CLOCK_EFFECTS[step.transition.name]
    case, now, calendar = step.case, step.now, step.batch.calendar
    if effect.pause_all:
        clocks.pause_all(case, now=now, calendar=calendar)
    if effect.resume_all:
        clocks.resume_all(case, now=now, calendar=calendar)
    clocks.finish(case, effect.finish, now=now)
    handling = (TimeLimit(case.handling_limit_value, case.handling_limit_unit)
                if case.handling_limit_value is not None else None)
    for node in effect.start:
        unit_id = case.holder_unit_id if node in (Node.RECEIPT, Node.HANDLING) else None
        step.batch.new_clocks.append(clocks.start(
            case, node, unit_id=unit_id, now=now, calendar=calendar,
            limit=node_limit(node, urgent=case.urgent, handling_limit=handling)))
    if step.extension is not None:
        running = clocks.running_clock(case, Node.HANDLING)
        if running is not None:
            clocks.extend(running, step.extension, calendar=calendar)


def _record(step: _Step, from_status: CaseStatus) -> None:
    case, actor = step.case, step.actor
    reason = step.payload.get("reason") or step.payload.get("note")
    details = {k: v for k, v in step.payload.items() if k not in ("reason", "note")}
    step.batch.case_events.append({
        "case_id": case.id, "transition": step.transition.name, "from_status": from_status,
        "to_status": case.status, "actor_id": actor.id, "actor_name": actor.name, "role": actor.role,
        "unit_id": actor.unit_id, "target_unit_id": step.target_unit.id if step.target_unit else None,
        "reason": reason, "payload": json_safe(details), "occurred_at": step.now})
    step.batch.audit_entries.append(audit.Entry(
        actor, f"case.{step.transition.name}", "case", case.id, before={"status": from_status},
        after={"status": case.status, "holder_unit_id": case.holder_unit_id, **details}, reason=reason))


# ---- each transition's own effects -------------------------------------------------------

def _unit(db: Session, code: str) -> Unit:
    unit = db.scalar(select(Unit).where(Unit.code == code))
    today = clock.utcnow().date()
    if unit is None or not unit.validity.active_on(today):
        raise InvalidInput(f"单位 {code} 不存在或已停用", errors=[{"field": "unit_code", "message": "无此单位"}])
    return unit


def _set_type(step: _Step) -> None:
    matter = step.batch.matter(step.payload["type_code"])
    case = step.case
    case.type_code, case.type_version_id, case.domain, case.urgent = (
        matter.code, matter.id, matter.domain, matter.urgent)
    case.grade = Grade(step.payload.get("grade") or matter.default_grade)


def _photo(step: _Step, field: str, kind: str) -> None:
    attachment = step.db.get(Attachment, step.payload[field])
    if attachment is None or attachment.case_id != step.case.id or attachment.kind != kind:
        raise InvalidInput(f"{field} 必须是本案件已上传的“{kind}”照片",
                           errors=[{"field": field, "message": "无此照片"}])


def _check_attachments(step: _Step) -> None:
    ids = step.payload.get("attachment_ids", [])
    found = set(step.db.scalars(select(Attachment.id).where(
        Attachment.id.in_(ids), Attachment.case_id == step.case.id))) if ids else set()
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(f"附件 {missing} 不属于本案件", errors=[{"field": "attachment_ids", "message": "无此附件"}])


def _close(step: _Step, kind: str) -> None:
    step.case.closed_at, step.case.close_kind = step.now, kind
    step.case.holder_unit_id = None
    _end_assignments(step, reason=kind)


def _current_assignment(step: _Step) -> CaseAssignment | None:
    return next((a for a in reversed(step.case.assignments)
                 if a.unit_id == step.case.holder_unit_id and a.ended_at is None), None)


def _end_assignments(step: _Step, *, reason: str) -> None:
    for assignment in step.case.assignments:
        if assignment.ended_at is None:
            assignment.ended_at, assignment.end_reason = step.now, reason


def _assign(step: _Step, unit: Unit, *, depth: int, from_unit_id: int | None) -> None:
    step.batch.new_assignments.append({"case_id": step.case.id, "unit_id": unit.id, "from_unit_id": from_unit_id,
                                       "depth": depth, "assigned_at": step.now})
    step.case.holder_unit_id = unit.id
    step.target_unit = unit


def _file(step: _Step) -> None:
    _set_type(step)


def _reject(step: _Step) -> None:
    _close(step, "rejected")


def _merge(step: _Step) -> None:
    into = step.db.get(Case, step.payload["into_case_id"])
    if into is None or into.id == step.case.id or into.status not in OPEN_STATES:
        raise InvalidInput("只能合并到另一个未办结的案件", errors=[{"field": "into_case_id", "message": "无效"}])
    if not decide(step.batch.principal, step.transition.action, target_of(step.db, into)).allowed:
        raise PermissionDenied("无权合并到该案件")
    for reporter in step.db.scalars(select(CaseReporter).where(CaseReporter.case_id == step.case.id)):
        reporter.case_id = into.id
    step.db.flush()
    step.db.expire(into, ["reporters"])
    step.case.merged_into_id = into.id
    _close(step, "merged")


def _self_handle(step: _Step) -> None:
    _set_type(step)
    step.case.grade = Grade.L1
    _photo(step, "before_photo", "before")
    _photo(step, "after_photo", "after")
    _close(step, "self_handled")


def _dispatch(step: _Step) -> None:
    case = step.case
    unit = step.batch.unit(step.payload["unit_code"])
    if UnitKind(unit.kind) not in DISPATCHABLE_KINDS:
        raise InvalidInput(f"不能派遣给{UnitKind(unit.kind).label}", errors=[{"field": "unit_code", "message": "类型不符"}])
    suggestion = step.batch.duty(case)
    if unit.code != suggestion.unit_code and not step.payload.get("reason"):
        raise InvalidInput(
            f"职责清单建议派往 {suggestion.unit_code}；改派其他单位须说明理由",
            errors=[{"field": "reason", "message": "改派须说明理由"}])
    step.payload["suggested_unit_code"] = suggestion.unit_code
    step.payload["duty_rule"] = suggestion.rule_id
    matter = step.batch.matter(case.type_code)
    case.type_version_id = matter.id
    case.handling_limit_value, case.handling_limit_unit = matter.time_limit.value, matter.time_limit.unit
    case.grade = Grade.L2 if case.grade in (None, Grade.L3) else case.grade
    case.responsible_unit_id = unit.id
    case.dispatch_count += 1
    _end_assignments(step, reason="redispatched")
    _assign(step, unit, depth=1, from_unit_id=step.actor.unit_id)


def _send_to_whistle(step: _Step) -> None:
    street = step.db.get(Unit, step.case.street_id)
    step.case.grade = Grade.L3
    step.case.responsible_unit_id = street.id
    _assign(step, street, depth=1, from_unit_id=step.actor.unit_id)


def _receive(step: _Step) -> None:
    """The holder opens the case; its receipt clock stops."""


def _redispatch(step: _Step) -> None:
    holder = step.db.get(Unit, step.case.holder_unit_id)
    unit = step.batch.unit(step.payload["unit_code"])
    below = unit.path.startswith(holder.path) and unit.id != holder.id
    street_holder = UnitKind(holder.kind) in (UnitKind.STREET, UnitKind.SUBCENTRE)
    serves_street = unit.serves_street_id == step.case.street_id and UnitKind(unit.kind) is UnitKind.FIELD_UNIT
    if not (below or (street_holder and serves_street)):
        raise InvalidInput(f"二次派发只能派给本单位的下属单位{'或本街道的派出机构' if street_holder else ''}",
                           errors=[{"field": "unit_code", "message": "不在本单位范围内"}])
    current = _current_assignment(step)
    _assign(step, unit, depth=(current.depth if current else 1) + 1, from_unit_id=holder.id)


def _holder_to_whistle(step: _Step) -> None:
    holder = step.db.get(Unit, step.case.holder_unit_id)
    if UnitKind(holder.kind) not in (UnitKind.STREET, UnitKind.SUBCENTRE):
        raise IllegalTransition("只有街道办理中的案件可以由街道吹哨")
    step.case.grade = Grade.L3


def _return_to_district(step: _Step) -> None:
    current = _current_assignment(step)
    if current is not None and current.depth > 1:
        raise IllegalTransition("二次派发的案件应退回派发单位（return_to_sender），由其决定是否回退区中心")
    step.case.return_count += 1
    step.case.holder_unit_id = None
    _end_assignments(step, reason="returned")


def _return_to_sender(step: _Step) -> None:
    current = _current_assignment(step)
    if current is None or current.depth == 1 or current.from_unit_id is None:
        raise IllegalTransition("此案件由区中心或街道直接派遣，应回退（return_to_district）")
    current.ended_at, current.end_reason = step.now, "returned_to_sender"
    step.case.holder_unit_id = current.from_unit_id
    step.target_unit = step.db.get(Unit, current.from_unit_id)


def _report_result(step: _Step) -> None:
    _check_attachments(step)


def _request_extension(step: _Step) -> None:
    pending = _pending_extension(step)
    if pending is not None:
        raise IllegalTransition("已有待审批的延期申请")
    extra = TimeLimit(step.payload["extra_value"], step.payload["extra_unit"])
    step.db.add(ExtensionRequest(case_id=step.case.id, requested_by_unit_id=step.case.holder_unit_id,
                                 extra_value=extra.value, extra_unit=extra.unit,
                                 reason=step.payload["reason"], requested_at=step.now))


def _pending_extension(step: _Step) -> ExtensionRequest | None:
    return step.db.scalar(select(ExtensionRequest).where(
        ExtensionRequest.case_id == step.case.id, ExtensionRequest.decision.is_(None)))


def _decide_extension(step: _Step) -> None:
    pending = _pending_extension(step)
    if pending is None:
        raise IllegalTransition("没有待审批的延期申请")
    approved = bool(step.payload["approved"])
    if not approved and not step.payload.get("reason"):
        raise InvalidInput("不同意延期须说明理由", errors=[{"field": "reason", "message": "必填"}])
    pending.decision = "approved" if approved else "refused"
    pending.decided_at, pending.decision_reason = step.now, step.payload.get("reason")
    if approved:
        step.extension = TimeLimit(pending.extra_value, pending.extra_unit)


def _suspend(step: _Step) -> None:
    step.case.suspended_from = step.case.status


def _resume(step: _Step) -> None:
    """The clocks restart with what they had left (see clocks.resume_all)."""


def _verify(step: _Step) -> None:
    _check_attachments(step)


def _rework(step: _Step) -> None:
    if step.case.holder_unit_id is None:
        raise IllegalTransition("案件没有办理单位，无法返工")
    step.case.rework_count += 1


def _close_normally(step: _Step) -> None:
    _close(step, "normal")


def _close_whistled(step: _Step) -> None:
    _close(step, "whistled")


def _force_close(step: _Step) -> None:
    _close(step, "forced")


def _reopen(step: _Step) -> None:
    case = step.case
    last = case.assignments[-1] if case.assignments else None
    if last is None or case.handling_limit_value is None:
        raise IllegalTransition("此案件未经派遣处置（如自行处置），不能重新办理")
    case.holder_unit_id = last.unit_id
    case.closed_at, case.close_kind = None, None
    case.rework_count += 1
    step.target_unit = step.db.get(Unit, last.unit_id)


def _supervise(step: _Step) -> None:
    if step.case.supervised:
        raise IllegalTransition("案件已在挂账督办中")
    step.case.supervised = True


def _clear_supervision(step: _Step) -> None:
    if not step.case.supervised:
        raise IllegalTransition("案件未挂账督办，无需销账")
    step.case.supervised = False


EFFECTS: dict[str, Callable[[_Step], None]] = {
    "file": _file, "reject": _reject, "merge": _merge, "self_handle": _self_handle,
    "dispatch": _dispatch, "send_to_whistle": _send_to_whistle, "receive": _receive,
    "redispatch": _redispatch, "holder_to_whistle": _holder_to_whistle,
    "return_to_district": _return_to_district, "return_to_sender": _return_to_sender,
    "report_result": _report_result, "request_extension": _request_extension,
    "decide_extension": _decide_extension, "suspend": _suspend, "resume": _resume,
    "verify": _verify, "rework": _rework, "close": _close_normally, "force_close": _force_close,
    "supervise": _supervise, "clear_supervision": _clear_supervision,
    "close_whistled": _close_whistled, "reopen": _reopen,
}


def suggest_unit(db: Session, *, case: Case) -> catalog.DutyAnswer:
    """The unit the duty matrix gives for this case, and which rule gave it."""
    if case.type_code is None:
        raise IllegalTransition("案件尚未立案定类，无法给出派遣建议")
    street = db.get(Unit, case.street_id)
    return catalog.resolve_duty(db, type_code=case.type_code, street_code=street.code)


def attach(db: Session, *, settings: Settings, principal: Principal, case_id: int, kind: str,
           content: bytes, original_name: str | None) -> Attachment:
    """Store a photo or document on a case the caller may read (and so work on)."""
    case = get_case(db, case_id=case_id)
    if not decide(principal, Action.CASE_READ, target_of(db, case)).allowed:
        raise PermissionDenied("无权向此案件上传附件")
    if case.status not in OPEN_STATES:
        raise IllegalTransition("已办结的案件不能再上传附件")
    attachment = _add_attachment(db, settings=settings, principal=principal, case=case, kind=kind,
                                 content=content, original_name=original_name)
    db.commit()
    return attachment


def _add_attachment(db: Session, *, settings: Settings, principal: Principal, case: Case, kind: str,
                    content: bytes, original_name: str | None) -> Attachment:
    stored = attachments.store(settings.data_dir / "attachments", content, kind=kind)
    attachment = Attachment(case_id=case.id, kind=kind, sha256=stored.sha256, media_type=stored.media_type,
                            size=stored.size, original_name=(original_name or "")[:200] or None,
                            uploaded_by=principal.username)
    db.add(attachment)
    db.flush()
    audit.record(db, actor=Actor(principal.user_id, principal.username, None, principal.unit.id),
                 action="case.attach", object_type="case", object_id=case.id,
                 after={"attachment": attachment.id, "kind": kind, "sha256": stored.sha256})
    return attachment


def handle_on_the_spot(db: Session, *, settings: Settings, principal: Principal, actor: Actor,
                       data: ReportIn, before: bytes, after: bytes, result: str) -> Case:
    """The finder's L1 case (立即处置): the report, its before and after photos and the
    self-handling, in one transaction — refused as a whole, or written as a whole."""
    reported = intake.apply_report(db, settings=settings, actor=actor, data=data)
    if not reported.created:
        raise Conflict(f"该渠道编号已有案件 {reported.case.number}，不能再次立即处置")
    case = reported.case
    photos = {kind: _add_attachment(db, settings=settings, principal=principal, case=case, kind=kind,
                                    content=content, original_name=None).id
              for kind, content in (("before", before), ("after", after))}
    apply_transition(db, settings=settings, principal=principal, case_id=case.id, name="self_handle",
                     data=TransitionIn(version=case.version, type_code=data.type_code, result=result,
                                       before_photo=photos["before"], after_photo=photos["after"]))
    db.commit()
    return case

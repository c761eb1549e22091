"""Replies, callbacks, sampling and public ratings; each public function commits once with its audit event.

A case's *round* starts at its report, and again at every `reopen`. In each round every
reachable reporter is owed one reply, due `REPLY_LIMIT` after the round's first
handling-done event (`REPLY_DUE_AFTER`). A callback belongs to the case's latest closure
(called at or after `closed_at`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridgov import clock
from gridgov.audit import service as audit
from gridgov.audit.rules import ANONYMOUS_ACTOR, Actor
from gridgov.auth.policy import Action, Principal, decide, mask_name, mask_phone
from gridgov.calendar import service as calendar_service
from gridgov.cases import queries
from gridgov.cases import service as cases
from gridgov.cases.models import Case, CaseEvent, CaseReporter
from gridgov.cases.rules import CaseStatus
from gridgov.cases.schemas import TransitionIn
from gridgov.config import Settings
from gridgov.errors import Conflict, InvalidInput, NotFound, PermissionDenied, StaleVersion
from gridgov.feedback.models import CallbackSampling, CaseCallback, CaseReply, PublicRating
from gridgov.feedback.rules import (
    DEFAULT_SAMPLE_PERCENT, REPLY_DUE_AFTER, REPLY_LIMIT, REPLYABLE_STATES, Satisfaction,
    callback_problems, reachable, reply_way_problem, sampled_as,
)
from gridgov.feedback.schemas import CallbackDecisionIn, CallbackIn, RatingIn, ReplyIn, SamplingIn
from gridgov.org.models import Unit

CLOCK_SKEW = timedelta(minutes=5)
CALLBACK_CLOSE_KINDS = ("normal", "whistled", "forced", "self_handled")


class FeedbackConflict(Conflict):
    code = "feedback-conflict"
    title = "与反馈状态冲突"


def _actor(principal: Principal, role: str | None = None) -> Actor:
    return Actor(id=principal.user_id, name=principal.username, role=role, unit_id=principal.unit.id)


def _allowed(db: Session, principal: Principal, action: Action, case: Case) -> str:
    decision = decide(principal, action, cases.target_of(db, case))
    if not decision.allowed or decision.role is None:
        raise PermissionDenied("无权对此案件执行此操作")
    return decision.role.value


def _not_future(at: datetime | None, now: datetime, field: str) -> datetime:
    if at is None:
        return now
    if at > now + CLOCK_SKEW:
        raise InvalidInput("时间不能晚于当前时间", errors=[{"field": field, "message": "在未来"}])
    return at


# ---- rounds and replies -----------------------------------------------------------------

def round_start(db: Session, case: Case) -> datetime:
    """When the case's current round began: its last reopening, or its report."""
    reopened = db.scalar(select(func.max(CaseEvent.occurred_at)).where(
        CaseEvent.case_id == case.id, CaseEvent.transition == "reopen"))
    return reopened or case.reported_at


def reply_due_from(db: Session, case: Case, start: datetime) -> datetime | None:
    """The round's first handling-done moment, from which a reply is owed (None: not yet)."""
    if CaseStatus(case.status).value not in REPLYABLE_STATES:
        return None
    return db.scalar(select(func.min(CaseEvent.occurred_at)).where(
        CaseEvent.case_id == case.id, CaseEvent.transition.in_(REPLY_DUE_AFTER),
        CaseEvent.occurred_at >= start))


@dataclass(frozen=True)
class ReporterFeedback:
    reporter: CaseReporter
    reachable: bool
    owed: bool
    due_from: datetime | None
    due_at: datetime | None
    overdue: bool
    replies: list[CaseReply]


def reporters_feedback(db: Session, *, settings: Settings, case: Case) -> list[ReporterFeedback]:
    now = clock.utcnow()
    start = round_start(db, case)
    due_from = reply_due_from(db, case, start)
    due_at = None
    if due_from is not None:
        due_at = calendar_service.working_calendar(db, settings=settings).deadline(due_from, REPLY_LIMIT)
    replies = list(db.scalars(select(CaseReply).where(CaseReply.case_id == case.id).order_by(CaseReply.id)))
    out = []
    for reporter in case.reporters:
        mine = [r for r in replies if r.reporter_id == reporter.id]
        answered = any(r.replied_at >= start for r in mine)
        can = reachable(phone=reporter.phone, user_id=reporter.user_id)
        owed = can and due_from is not None and not answered
        out.append(ReporterFeedback(reporter, can, owed, due_from if can else None, due_at if can else None,
                                    owed and due_at is not None and now > due_at, mine))
    return out


def _reporter_of(case: Case, reporter_id: int) -> CaseReporter:
    reporter = next((r for r in case.reporters if r.id == reporter_id), None)
    if reporter is None:
        raise InvalidInput(f"反映人 {reporter_id} 不是此案件的反映人",
                           errors=[{"field": "reporter_id", "message": "不属于此案件"}])
    return reporter


def record_reply(db: Session, *, principal: Principal, case_id: int, data: ReplyIn) -> CaseReply:
    """A one-to-one reply to one reporter, once the case's handling is reported."""
    case = cases.get_case(db, case_id=case_id)
    role = _allowed(db, principal, Action.CASE_REPLY, case)
    reporter = _reporter_of(case, data.reporter_id)
    now = clock.utcnow()
    start = round_start(db, case)
    if reply_due_from(db, case, start) is None:
        raise FeedbackConflict("案件尚未处置完毕，处置反馈后才能答复反映人")
    if (problem := reply_way_problem(data.way, phone=reporter.phone, user_id=reporter.user_id)) is not None:
        raise InvalidInput(problem, errors=[{"field": "way", "message": problem}])
    replied_at = _not_future(data.replied_at, now, "replied_at")
    if replied_at < start:
        raise InvalidInput("答复时间不能早于本轮办理开始", errors=[{"field": "replied_at", "message": "过早"}])
    if db.scalar(select(CaseReply.id).where(CaseReply.reporter_id == reporter.id,
                                            CaseReply.replied_at >= start).limit(1)) is not None:
        raise FeedbackConflict("已答复过此反映人（本轮办理）")
    reply = CaseReply(case_id=case.id, reporter_id=reporter.id, text=data.text, way=data.way.value,
                      replied_at=replied_at, recorded_at=now, replied_by_id=principal.user_id,
                      replied_by_name=principal.username, unit_id=principal.unit.id)
    db.add(reply)
    db.flush()
    audit.record(db, actor=_actor(principal, role), action="case.reply", object_type="case", object_id=case.id,
                 after={"reply": reply.id, "reporter": reporter.id, "way": data.way.value,
                        "replied_at": replied_at})
    db.commit()
    return reply


@dataclass(frozen=True)
class OverdueReply:
    case_id: int
    case_number: str
    reporter_id: int
    street_id: int
    holder_unit_id: int | None
    due_from: datetime
    due_at: datetime


def overdue_replies(db: Session, *, settings: Settings, principal: Principal, since: datetime,
                    limit: int = 200) -> list[OverdueReply]:
    """Replies owed and past their deadline now, for cases whose reply fell due after `since`,
    in the principal's scope; the most overdue first."""
    now = clock.utcnow()
    reopened = (select(CaseEvent.case_id, func.max(CaseEvent.occurred_at).label("at"))
                .where(CaseEvent.transition == "reopen").group_by(CaseEvent.case_id).subquery())
    done = (select(CaseEvent.case_id, func.min(CaseEvent.occurred_at).label("due_from"))
            .outerjoin(reopened, reopened.c.case_id == CaseEvent.case_id)
            .where(CaseEvent.transition.in_(REPLY_DUE_AFTER),
                   or_(reopened.c.at.is_(None), CaseEvent.occurred_at >= reopened.c.at))
            .group_by(CaseEvent.case_id)
            .having(func.min(CaseEvent.occurred_at) >= since).subquery())
    start = func.coalesce(reopened.c.at, Case.reported_at)
    answered = exists().where(CaseReply.reporter_id == CaseReporter.id, CaseReply.replied_at >= start)
    rows = db.execute(
        select(Case.id, Case.number, CaseReporter.id, Case.street_id, Case.holder_unit_id, done.c.due_from)
        .join(CaseReporter, CaseReporter.case_id == Case.id)
        .join(done, done.c.case_id == Case.id)
        .outerjoin(reopened, reopened.c.case_id == Case.id)
        .where(queries.visible(principal), Case.status.in_(REPLYABLE_STATES),
               or_(and_(CaseReporter.phone.is_not(None), CaseReporter.phone != ""),
                   CaseReporter.user_id.is_not(None)),
               ~answered, done.c.due_from < now)
        .order_by(done.c.due_from, Case.id, CaseReporter.id)).all()
    calendar = calendar_service.working_calendar(db, settings=settings)
    late = []
    for case_id, number, reporter_id, street_id, holder_id, due_from in rows:
        due_at = calendar.deadline(due_from, REPLY_LIMIT)
        if now > due_at:
            late.append(OverdueReply(case_id, number, reporter_id, street_id, holder_id, due_from, due_at))
            if len(late) >= limit:
                break
    return late


# ---- callbacks --------------------------------------------------------------------------

def sampling_in_force(db: Session, *, at: datetime) -> Decimal:
    share = db.scalar(select(CallbackSampling.share_percent).where(CallbackSampling.effective_from <= at)
                      .order_by(CallbackSampling.effective_from.desc(), CallbackSampling.id.desc()).limit(1))
    return DEFAULT_SAMPLE_PERCENT if share is None else Decimal(share)


def sampling_history(db: Session) -> list[CallbackSampling]:
    return list(db.scalars(select(CallbackSampling).order_by(CallbackSampling.effective_from,
                                                             CallbackSampling.id)))


def set_sampling(db: Session, *, actor: Actor, data: SamplingIn) -> CallbackSampling:
    """A new share from `effective_from` (now or later: past samples never change)."""
    now = clock.utcnow()
    effective = data.effective_from or now
    if effective < now - CLOCK_SKEW:
        raise InvalidInput("抽样比例只能从现在或将来生效，已抽取的样本不会改变",
                           errors=[{"field": "effective_from", "message": "在过去"}])
    row = CallbackSampling(share_percent=data.share_percent, effective_from=effective, set_at=now,
                           set_by=actor.name, reason=data.reason)
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action="callback.sampling", object_type="callback_sampling", object_id=row.id,
                 after={"share_percent": str(data.share_percent), "effective_from": effective},
                 reason=data.reason)
    db.commit()
    return row


def case_sampled_as(db: Session, case: Case) -> str | None:
    if case.closed_at is None:
        return None
    return sampled_as(channel=case.channel_code, case_number=case.number,
                      share_percent=sampling_in_force(db, at=case.closed_at))


@dataclass(frozen=True)
class CallbackDue:
    case: Case
    sampled_as: str
    reporter: CaseReporter


def callbacks_due(db: Session, *, principal: Principal, closed_from: datetime, closed_to: datetime,
                  limit: int = 500) -> list[CallbackDue]:
    """Sampled closed cases whose reporters (with a phone) have not been reached since the
    case's latest closure, closed in [closed_from, closed_to)."""
    reached = exists().where(CaseCallback.reporter_id == CaseReporter.id, CaseCallback.reached.is_(True),
                             CaseCallback.called_at >= Case.closed_at)
    rows = db.execute(
        select(Case, CaseReporter).join(CaseReporter, CaseReporter.case_id == Case.id)
        .where(queries.visible(principal, Action.CASE_CALLBACK), Case.status == CaseStatus.CLOSED,
               Case.close_kind.in_(CALLBACK_CLOSE_KINDS), Case.closed_at >= closed_from,
               Case.closed_at < closed_to, CaseReporter.phone.is_not(None), CaseReporter.phone != "",
               ~reached)
        .order_by(Case.closed_at, Case.id, CaseReporter.id)).all()
    shares = sampling_history(db)
    due = []
    for case, reporter in rows:
        share = next((Decimal(s.share_percent) for s in reversed(shares) if s.effective_from <= case.closed_at),
                     DEFAULT_SAMPLE_PERCENT)
        why = sampled_as(channel=case.channel_code, case_number=case.number, share_percent=share)
        if why is not None:
            due.append(CallbackDue(case, why, reporter))
            if len(due) >= limit:
                break
    return due


def record_callback(db: Session, *, principal: Principal, case_id: int, data: CallbackIn) -> CaseCallback:
    case = cases.get_case(db, case_id=case_id)
    role = _allowed(db, principal, Action.CASE_CALLBACK, case)
    if problems := callback_problems(reached=data.reached, resolved=data.resolved,
                                     satisfaction=data.satisfaction):
        raise InvalidInput("回访结果填写不完整或不一致", errors=problems)
    if not any(r.phone for r in case.reporters):
        raise FeedbackConflict("案件没有留下电话的反映人，无法回访")
    if case.status != CaseStatus.CLOSED or case.closed_at is None:
        raise FeedbackConflict("只能回访已结案的案件")
    reporter = _reporter_of(case, data.reporter_id)
    if not reporter.phone:
        raise FeedbackConflict("此反映人没有留下电话，无法回访")
    now = clock.utcnow()
    called_at = _not_future(data.called_at, now, "called_at")
    if called_at < case.closed_at:
        raise InvalidInput("回访时间不能早于结案时间", errors=[{"field": "called_at", "message": "早于结案"}])
    if db.scalar(select(CaseCallback.id).where(
            CaseCallback.reporter_id == reporter.id, CaseCallback.reached.is_(True),
            CaseCallback.called_at >= case.closed_at).limit(1)) is not None:
        raise FeedbackConflict("此反映人已回访接通，本次结案不再重复回访")
    callback = CaseCallback(
        case_id=case.id, reporter_id=reporter.id, sampled_as=case_sampled_as(db, case) or "extra",
        called_at=called_at, recorded_at=now, caller_id=principal.user_id, caller_name=principal.username,
        reached=data.reached, resolved=data.resolved,
        satisfaction=data.satisfaction.value if data.satisfaction else None, remarks=data.remarks)
    db.add(callback)
    db.flush()
    audit.record(db, actor=_actor(principal, role), action="case.callback", object_type="case",
                 object_id=case.id, after={"callback": callback.id, "reporter": reporter.id,
                                           "sampled_as": callback.sampled_as, "reached": data.reached,
                                           "resolved": data.resolved, "satisfaction": callback.satisfaction})
    db.commit()
    return callback


def decide_callback(db: Session, *, settings: Settings, principal: Principal, callback_id: int,
                    data: CallbackDecisionIn) -> CaseCallback:
    """The district decides on an unsatisfied callback: reopen the case for rework, or not."""
    callback = db.get(CaseCallback, callback_id)
    if callback is None:
        raise NotFound(f"回访记录 {callback_id} 不存在")
    case = cases.get_case(db, case_id=callback.case_id)
    role = _allowed(db, principal, Action.CASE_DISPATCH, case)
    if not callback.reached or (callback.satisfaction != Satisfaction.UNSATISFIED and callback.resolved):
        raise FeedbackConflict("只有接通且不满意（或未解决）的回访需要研判是否返工")
    if callback.decision is not None:
        raise FeedbackConflict("此回访已研判")
    now = clock.utcnow()
    if data.reopen:
        cases.apply_transition(db, settings=settings, principal=principal, case_id=case.id, name="reopen",
                               data=TransitionIn(version=data.version, reason=f"回访不满意返工：{data.reason}"))
    elif case.version != data.version:
        raise StaleVersion("案件已被他人更新，请刷新后重试")
    callback.decision = "reopen" if data.reopen else "keep"
    callback.decided_at, callback.decided_by, callback.decision_reason = now, principal.username, data.reason
    audit.record(db, actor=_actor(principal, role), action="callback.decide", object_type="case_callback",
                 object_id=callback.id, after={"case": case.id, "decision": callback.decision},
                 reason=data.reason)
    db.commit()
    return callback


# ---- public ratings ---------------------------------------------------------------------

def tracked_case(db: Session, tracking_code: str) -> tuple[Case, Case]:
    """(the case of the tracking code, the case that carries it now: itself or the one it was merged into)."""
    tracked = db.scalar(select(Case).where(Case.tracking_code == tracking_code.strip().upper()))
    if tracked is None:
        raise NotFound("查询码不存在，请核对后重试")
    current, hops = tracked, 0
    while current.merged_into_id is not None and hops < 20:
        current, hops = db.get(Case, current.merged_into_id), hops + 1
    return tracked, current


def rate(db: Session, *, tracking_code: str, data: RatingIn) -> PublicRating:
    try:
        rating = Satisfaction.parse(data.rating)
    except ValueError:
        raise InvalidInput("评价须为：满意、基本满意、不满意",
                           errors=[{"field": "rating", "message": "不在评价等级内"}]) from None
    tracked, case = tracked_case(db, tracking_code)
    if case.status != CaseStatus.CLOSED:
        raise FeedbackConflict("案件办结后才能评价")
    if db.scalar(select(PublicRating.id).where(PublicRating.tracked_case_id == tracked.id)) is not None:
        raise FeedbackConflict("此案件已评价过，每个查询码只能评价一次")
    row = PublicRating(tracked_case_id=tracked.id, case_id=case.id, rating=rating.value,
                       comment=data.comment, rated_at=clock.utcnow())
    db.add(row)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise FeedbackConflict("此案件已评价过，每个查询码只能评价一次") from None
    audit.record(db, actor=ANONYMOUS_ACTOR, action="case.rate", object_type="case", object_id=case.id,
                 after={"rating": rating.value, "tracked_case": tracked.id})
    db.commit()
    return row


def ratings_of(db: Session, case: Case) -> list[PublicRating]:
    return list(db.scalars(select(PublicRating).where(PublicRating.case_id == case.id).order_by(PublicRating.id)))


def callbacks_of(db: Session, case: Case) -> list[CaseCallback]:
    return list(db.scalars(select(CaseCallback).where(CaseCallback.case_id == case.id).order_by(CaseCallback.id)))


def personal(db: Session, principal: Principal, case: Case) -> bool:
    return decide(principal, Action.PERSONAL_DATA_READ, cases.target_of(db, case)).allowed


def masked(show: bool, reporter: CaseReporter) -> tuple[str | None, str | None]:
    return (reporter.name, reporter.phone) if show else (mask_name(reporter.name), mask_phone(reporter.phone))


def unit_codes(db: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    return dict(db.execute(select(Unit.id, Unit.code).where(Unit.id.in_(wanted))).all()) if wanted else {}



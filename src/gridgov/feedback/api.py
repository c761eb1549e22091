"""Public feedback: replies to reporters, overdue replies, callbacks and their sampling."""

from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Query, status

from gridgov import clock
from gridgov.auth.deps import Authorization, CurrentPrincipal, require
from gridgov.auth.policy import Action, Principal, decide
from gridgov.cases import service as cases
from gridgov.cases.models import Case
from gridgov.config import Settings
from gridgov.errors import NotFound, PermissionDenied
from gridgov.feedback import service
from gridgov.feedback.models import CaseCallback, CaseReply, PublicRating
from gridgov.feedback.rules import ReplyWay, Satisfaction
from gridgov.feedback.schemas import (
    CallbackDecisionIn, CallbackDueOut, CallbackIn, CallbackOut, CaseFeedbackOut, OverdueReplyOut, RatingOut,
    ReplyIn, ReplyOut, ReporterFeedbackOut, SamplingIn, SamplingOut,
)
from gridgov.http import SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/feedback", tags=["feedback 公众反馈"])


def reply_out(reply: CaseReply, codes: dict[int, str]) -> ReplyOut:
    way = ReplyWay(reply.way)
    return ReplyOut(id=reply.id, case_id=reply.case_id, reporter_id=reply.reporter_id, text=reply.text, way=way,
                    way_label=way.label, replied_at=reply.replied_at, replied_by=reply.replied_by_name,
                    unit_code=codes.get(reply.unit_id))


def callback_out(callback: CaseCallback, number: str) -> CallbackOut:
    satisfaction = Satisfaction(callback.satisfaction) if callback.satisfaction else None
    return CallbackOut(
        id=callback.id, case_id=callback.case_id, case_number=number, reporter_id=callback.reporter_id,
        sampled_as=callback.sampled_as, called_at=callback.called_at, caller=callback.caller_name,
        reached=callback.reached, resolved=callback.resolved, satisfaction=satisfaction,
        satisfaction_label=satisfaction.label if satisfaction else None, remarks=callback.remarks,
        decision=callback.decision, decided_at=callback.decided_at, decided_by=callback.decided_by,
        decision_reason=callback.decision_reason)


def rating_out(rating: PublicRating) -> RatingOut:
    value = Satisfaction(rating.rating)
    return RatingOut(rating=value, rating_label=value.label, comment=rating.comment, rated_at=rating.rated_at)


def _readable(db, principal: Principal, case_id: int) -> Case:
    case = cases.get_case(db, case_id=case_id)
    if not decide(principal, Action.CASE_READ, cases.target_of(db, case)).allowed:
        raise NotFound(f"案件 {case_id} 不存在")  # do not reveal cases outside one's scope
    return case


def case_feedback(db, settings: Settings, principal: Principal, case: Case) -> CaseFeedbackOut:
    show = service.personal(db, principal, case)
    states = service.reporters_feedback(db, settings=settings, case=case)
    codes = service.unit_codes(db, {r.unit_id for s in states for r in s.replies})
    reporters = []
    for s in states:
        name, phone = service.masked(show, s.reporter)
        reporters.append(ReporterFeedbackOut(
            reporter_id=s.reporter.id, name=name, phone=phone, channel=s.reporter.channel_code,
            reachable=s.reachable, owed=s.owed, due_from=s.due_from, due_at=s.due_at, overdue=s.overdue,
            replies=[reply_out(r, codes) for r in s.replies]))
    return CaseFeedbackOut(
        case_id=case.id, case_number=case.number, status=case.status, sampled_as=service.case_sampled_as(db, case),
        reporters=reporters, callbacks=[callback_out(c, case.number) for c in service.callbacks_of(db, case)],
        ratings=[rating_out(r) for r in service.ratings_of(db, case)])


@router.get("/cases/{case_id}", response_model=CaseFeedbackOut)
def get_case_feedback(case_id: int, db: SessionDep, settings: SettingsDep,
                      principal: CurrentPrincipal) -> CaseFeedbackOut:
    """Per reporter: reply owed or given (and by when), callbacks, public ratings."""
    return case_feedback(db, settings, principal, _readable(db, principal, case_id))


@router.post("/cases/{case_id}/replies", response_model=ReplyOut, status_code=status.HTTP_201_CREATED)
def reply_to_reporter(case_id: int, body: ReplyIn, db: SessionDep, principal: CurrentPrincipal) -> ReplyOut:
    """One-to-one reply (一对一反馈) to one reporter after handling; once per reporter and round."""
    _readable(db, principal, case_id)
    reply = service.record_reply(db, principal=principal, case_id=case_id, data=body)
    return reply_out(reply, service.unit_codes(db, {reply.unit_id}))


def _may_watch_replies(principal: Principal) -> None:
    if not (decide(principal, Action.CASE_REPLY).allowed or decide(principal, Action.DASHBOARD_READ).allowed):
        raise PermissionDenied("当前角色无权查看答复超期情况")


@router.get("/replies/overdue", response_model=list[OverdueReplyOut])
def overdue_replies(db: SessionDep, settings: SettingsDep, principal: CurrentPrincipal,
                    days: int = Query(default=90, ge=1, le=731),
                    limit: int = Query(default=200, ge=1, le=2000)) -> list[OverdueReplyOut]:
    """Replies owed past their deadline (1 working day after handling), in the caller's scope."""
    _may_watch_replies(principal)
    since = clock.utcnow() - timedelta(days=days)
    rows = service.overdue_replies(db, settings=settings, principal=principal, since=since, limit=limit)
    codes = service.unit_codes(db, {r.street_id for r in rows} | {r.holder_unit_id for r in rows})
    return [OverdueReplyOut(case_id=r.case_id, case_number=r.case_number, reporter_id=r.reporter_id,
                            street_code=codes[r.street_id], holder_unit_code=codes.get(r.holder_unit_id),
                            due_from=r.due_from, due_at=r.due_at) for r in rows]


@router.get("/callbacks/due", response_model=list[CallbackDueOut])
def callbacks_due(db: SessionDep, settings: SettingsDep, closed_from: date, closed_to: date,
                  auth: Authorization = require(Action.CASE_CALLBACK),
                  limit: int = Query(default=500, ge=1, le=5000)) -> list[CallbackDueOut]:
    """Sampled cases closed between the two local dates (inclusive) still to call back: every
    12345 case, others by the share in force when they were closed."""
    start = datetime.combine(closed_from, time(), tzinfo=settings.tz)
    end = datetime.combine(closed_to + timedelta(days=1), time(), tzinfo=settings.tz)
    rows = service.callbacks_due(db, principal=auth.principal, closed_from=start, closed_to=end, limit=limit)
    return [CallbackDueOut(case_id=r.case.id, case_number=r.case.number, channel=r.case.channel_code,
                           sampled_as=r.sampled_as, closed_at=r.case.closed_at, reporter_id=r.reporter.id,
                           name=r.reporter.name, phone=r.reporter.phone) for r in rows]


@router.post("/cases/{case_id}/callbacks", response_model=CallbackOut, status_code=status.HTTP_201_CREATED)
def record_callback(case_id: int, body: CallbackIn, db: SessionDep,
                    auth: Authorization = require(Action.CASE_CALLBACK)) -> CallbackOut:
    """The caller's outcome: reached or not; resolved or not; 满意 / 基本满意 / 不满意; remarks."""
    callback = service.record_callback(db, principal=auth.principal, case_id=case_id, data=body)
    return callback_out(callback, cases.get_case(db, case_id=case_id).number)


@router.post("/callbacks/{callback_id}/decision", response_model=CallbackOut)
def decide_callback(callback_id: int, body: CallbackDecisionIn, db: SessionDep, settings: SettingsDep,
                    principal: CurrentPrincipal) -> CallbackOut:
    """The district's decision on an unsatisfied callback: reopen the case for rework (返工) or keep it closed."""
    callback = service.decide_callback(db, settings=settings, principal=principal, callback_id=callback_id,
                                       data=body)
    return callback_out(callback, cases.get_case(db, case_id=callback.case_id).number)


@router.get("/sampling", response_model=list[SamplingOut])
def sampling(db: SessionDep, principal: CurrentPrincipal) -> list[SamplingOut]:
    """The history of the callback share for non-hotline cases (default 10 % before any is set)."""
    return [SamplingOut(share_percent=s.share_percent, effective_from=s.effective_from, set_by=s.set_by,
                        reason=s.reason) for s in service.sampling_history(db)]


@router.post("/sampling", response_model=SamplingOut, status_code=status.HTTP_201_CREATED)
def set_sampling(body: SamplingIn, db: SessionDep,
                 auth: Authorization = require(Action.CONFIG_MANAGE)) -> SamplingOut:
    row = service.set_sampling(db, actor=auth.actor, data=body)
    return SamplingOut(share_percent=row.share_percent, effective_from=row.effective_from, set_by=row.set_by,
                       reason=row.reason)

"""Callbacks (回访): the third-party caller's queue and outcome form, and the district's
decision on an unsatisfied callback (reopen the case for rework, or keep it closed)."""

from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from gridgov import clock
from gridgov.auth.policy import Action
from gridgov.cases import queries
from gridgov.cases.models import Case, CaseEvent, CaseReporter
from gridgov.errors import NotFound
from gridgov.feedback import service as feedback
from gridgov.feedback.models import CaseCallback
from gridgov.feedback.rules import Satisfaction
from gridgov.feedback.schemas import CallbackDecisionIn, CallbackIn
from gridgov.http import SessionDep, SettingsDep
from gridgov.web.forms import FormDep, FormState, validate
from gridgov.web.forms import attempt
from gridgov.web.pages.cases import readable
from gridgov.web.redirects import done
from gridgov.web.session import WebUser, page_for
from gridgov.web.templating import render

router = APIRouter()
Caller = page_for(Action.CASE_CALLBACK)
CallbacksReader = page_for(Action.CASE_CALLBACK, Action.CASE_DISPATCH)
DEFAULT_DAYS = 30
SAMPLED_AS = {"hotline": "12345 全部回访", "sample": "抽样", "extra": "补充回访"}
REACHED = [("true", "已接通"), ("false", "未接通")]
RESOLVED = [("", "—（未接通不填）"), ("true", "已解决"), ("false", "未解决")]
SATISFACTION = [("", "—（未接通不填）"), *((s.value, s.label) for s in Satisfaction)]
DECISIONS = [("", "请选择"), ("true", "返工：退回原办理单位重新办理"), ("false", "维持结案")]


def _local_date(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


def _to_decide(db: Session, user: WebUser) -> list[tuple[CaseCallback, Case]]:
    """Reached callbacks, unsatisfied or unresolved, not yet decided, on cases the user sees."""
    rows = db.execute(
        select(CaseCallback, Case).join(Case, Case.id == CaseCallback.case_id)
        .where(queries.visible(user.principal), CaseCallback.reached.is_(True), CaseCallback.decision.is_(None),
               or_(CaseCallback.satisfaction == Satisfaction.UNSATISFIED, CaseCallback.resolved.is_(False)))
        .order_by(CaseCallback.called_at).limit(200))
    return [(callback, case) for callback, case in rows]


@router.get("/callbacks")
def callbacks_page(request: Request, db: SessionDep, settings: SettingsDep, closed_from: str | None = None,
                   closed_to: str | None = None, user: WebUser = CallbacksReader) -> Response:
    today = clock.utcnow().astimezone(settings.tz).date()
    start = _local_date(closed_from, today - timedelta(days=DEFAULT_DAYS))
    end = _local_date(closed_to, today)
    may_call, may_decide = user.may(Action.CASE_CALLBACK), user.may(Action.CASE_DISPATCH)
    due = []
    if may_call:
        due = feedback.callbacks_due(
            db, principal=user.principal, closed_from=datetime.combine(start, time(), tzinfo=settings.tz),
            closed_to=datetime.combine(end + timedelta(days=1), time(), tzinfo=settings.tz))
    to_decide = _to_decide(db, user) if may_decide else []
    return render(request, "callbacks/list.html", {
        "may_call": may_call, "may_decide": may_decide, "due": due, "to_decide": to_decide, "closed_from": start.isoformat(), "closed_to": end.isoformat(),
        "sampled_as": SAMPLED_AS, "satisfaction_label": {s.value: s.label for s in Satisfaction},
    }, user=user)


# ---- the outcome of one call --------------------------------------------------------------

def _reporter(db: Session, case: Case, reporter_id: int) -> CaseReporter:
    reporter = next((r for r in case.reporters if r.id == reporter_id), None)
    if reporter is None:
        raise NotFound("此案件没有这位反映人")
    return reporter


def _callback_form(request: Request, db: Session, user: WebUser, case: Case, reporter: CaseReporter,
                   state: FormState, status_code: int = 200) -> Response:
    name, phone = feedback.masked(feedback.personal(db, user.principal, case), reporter)
    result = db.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                               CaseEvent.transition == "report_result")
                       .order_by(CaseEvent.id.desc()).limit(1))
    template = "callbacks/_form.html" if request.headers.get("HX-Request") == "true" else "callbacks/form.html"
    return render(request, template, {
        "case": case, "reporter": reporter, "name": name, "phone": phone,
        "result": (result.payload or {}).get("result") if result else None,
        "reached": REACHED, "resolved": RESOLVED, "satisfaction": SATISFACTION,
    }, user=user, form=state, status_code=status_code)


@router.get("/callbacks/cases/{case_id}/reporters/{reporter_id}")
def callback_form(case_id: int, reporter_id: int, request: Request, db: SessionDep,
                  user: WebUser = Caller) -> Response:
    case = readable(db, user, case_id)
    return _callback_form(request, db, user, case, _reporter(db, case, reporter_id), FormState())


@router.post("/callbacks/cases/{case_id}/reporters/{reporter_id}")
def record_callback(case_id: int, reporter_id: int, request: Request, form: FormDep, db: SessionDep,
                    user: WebUser = Caller) -> Response:
    case = readable(db, user, case_id)
    reporter = _reporter(db, case, reporter_id)
    state = FormState(values=dict(form.fields))
    fields = {k: form.get(k) for k in ("reached", "resolved", "satisfaction", "remarks") if form.get(k)}
    data = validate(CallbackIn, {"reporter_id": reporter.id, **fields}, state)
    status_code = 422
    if data is not None:
        recorded, status_code = attempt(state, db, lambda: feedback.record_callback(
            db, principal=user.principal, case_id=case.id, data=data))
        if recorded is not None:
            return done(request, "/callbacks", f"已记录案件 {case.number} 的回访")
    return _callback_form(request, db, user, case, reporter, state, status_code)


# ---- the district's decision --------------------------------------------------------------

def _callback(db: Session, user: WebUser, callback_id: int) -> tuple[CaseCallback, Case]:
    callback = db.get(CaseCallback, callback_id)
    if callback is None:
        raise NotFound(f"回访记录 {callback_id} 不存在")
    return callback, readable(db, user, callback.case_id)


def _decision_form(request: Request, user: WebUser, callback: CaseCallback, case: Case, state: FormState,
                   status_code: int = 200) -> Response:
    return render(request, "callbacks/decision.html", {
        "callback": callback, "case": case, "decisions": DECISIONS,
        "satisfaction_label": {s.value: s.label for s in Satisfaction},
    }, user=user, form=state, status_code=status_code)


@router.get("/callbacks/{callback_id}/decision")
def decision_form(callback_id: int, request: Request, db: SessionDep,
                  user: WebUser = page_for(Action.CASE_DISPATCH)) -> Response:
    callback, case = _callback(db, user, callback_id)
    return _decision_form(request, user, callback, case, FormState())


@router.post("/callbacks/{callback_id}/decision")
def decide(callback_id: int, request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
           user: WebUser = page_for(Action.CASE_DISPATCH)) -> Response:
    callback, case = _callback(db, user, callback_id)
    state = FormState(values=dict(form.fields))
    fields = {k: form.get(k) for k in ("reopen", "reason", "version") if form.get(k)}
    data = validate(CallbackDecisionIn, fields, state)
    status_code = 422
    if data is not None:
        decided, status_code = attempt(state, db, lambda: feedback.decide_callback(
            db, settings=settings, principal=user.principal, callback_id=callback.id, data=data))
        if decided is not None:
            toast = "案件已退回重新办理" if decided.decision == "reopen" else "已维持结案"
            return done(request, f"/cases/{case.id}", toast)
        callback, case = _callback(db, user, callback_id)
    return _decision_form(request, user, callback, case, state, status_code)

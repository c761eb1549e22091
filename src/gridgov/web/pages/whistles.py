"""吹哨报到 pages: the user's whistle list, starting a whistle (situation → suggested
departments), a whistle's detail with its trail and assessment, and each step of the
whistle's transition table as a form (`/whistles/{id}/act/{name}`)."""

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from gridgov import clock
from gridgov.auth.policy import Action, decide
from gridgov.cases import attachments
from gridgov.cases import service as cases_service
from gridgov.cases.models import Case
from gridgov.cases.rules import CaseStatus
from gridgov.config import Settings
from gridgov.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from gridgov.http import SessionDep, SettingsDep
from gridgov.org.models import Unit
from gridgov.whistle import api as whistle_views
from gridgov.whistle import service, situations
from gridgov.whistle.models import Whistle, WhistleSituation
from gridgov.whistle.rules import (
    SUMMONS_STATUS_LABELS, TRANSITIONS, WHISTLE_STATUS_LABELS, Area, ReplyWay, SummonsStatus, Urgency,
    WhistleStatus,
)
from gridgov.whistle.schemas import WhistleStartIn, WhistleTransitionIn
from gridgov.web import whistle_actions as steps
from gridgov.web.forms import FormDep, FormState, SubmittedForm
from gridgov.web.forms import attempt
from gridgov.web.redirects import done, local_path
from gridgov.web.session import WebUser, page_for
from gridgov.web.templating import render

router = APIRouter()

INBOX_LABELS = {
    "to_summon": "待派发", "to_report_in": "待报到", "in_hand": "已报到处置中",
    "to_report_outcome": "待上报结果与评价", "open": "本街道进行中的吹哨", "to_close": "待核查结案",
}
TONES = {"filed": "info", "summoned": "warn", "reported": "info", "closed": "ok", "cancelled": "neutral",
                "pending": "neutral", "sent": "warn", "reported_in": "info", "done": "ok", "missed": "bad",
                "withdrawn": "neutral"}
LABELS = {"tones": TONES, "whistle_labels": WHISTLE_STATUS_LABELS, "summons_labels": SUMMONS_STATUS_LABELS}


def unit_names(db: Session, whistles: list[Whistle]) -> dict[int, str]:
    ids = {s.unit_id for w in whistles for s in w.summons} | {w.street_id for w in whistles}
    rows = db.execute(select(Unit.id, Unit.short_name, Unit.name).where(Unit.id.in_(ids))) if ids else []
    return {unit_id: short or name for unit_id, short, name in rows}


def whistle_boxes(db: Session, user: WebUser, names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The user's whistle inbox (as `service.inbox`), boxes in display order, with unit names."""
    boxes = service.inbox(db, principal=user.principal)
    ordered = {name: boxes[name] for name in INBOX_LABELS if name in boxes and (names is None or name in names)}
    return {"boxes": ordered, "box_labels": INBOX_LABELS, **LABELS,
            "units": unit_names(db, [w for ws in ordered.values() for w in ws])}


# --- the list ------------------------------------------------------------------------------

@router.get("/whistles")
def whistle_list(request: Request, db: SessionDep, settings: SettingsDep,
                 user: WebUser = page_for(Action.CASE_READ), status: str = "", text: str = "") -> Response:
    chosen = [WhistleStatus(status)] if status in set(WhistleStatus) else None
    filters = service.WhistleFilter(status=chosen, text=text.strip() or None)
    found, _, total = service.search(db, settings=settings, principal=user.principal, filters=filters, limit=100)
    context = whistle_boxes(db, user)
    context["units"] |= unit_names(db, found)
    return render(request, "whistles/list.html", {
        **context, "found": found, "total": total, "status": status, "text": text,
        "statuses": [(s.value, s.label) for s in WhistleStatus],
        "may_start": user.may(Action.WHISTLE_START)}, user=user)


# --- starting a whistle --------------------------------------------------------------------

def _case_for(db: Session, user: WebUser, case_id: int | None, state: FormState) -> Case | None:
    """The case to whistle on; a problem on `case_id` (and no case) when it is not this
    street's to whistle."""
    if case_id is None:
        return None
    case = db.get(Case, case_id)
    if case is None:
        raise NotFound(f"案件 {case_id} 不存在")
    if not user.may(Action.WHISTLE_START, cases_service.target_of(db, case)):
        state.add("case_id", f"案件 {case_id} 不在本街道，不能由本街道吹哨")
        return None
    return case


def _situation(db: Session, code: str) -> WhistleSituation | None:
    return db.scalar(select(WhistleSituation).where(WhistleSituation.code == code)) if code else None


def picker_context(db: Session, user: WebUser, situation: WhistleSituation | None, *,
                   exclude: set[str] = frozenset()) -> dict[str, Any]:
    """The department picker: the situation's usual departments first, then every other unit
    the street may summon."""
    units = [u for u in steps.summonable_units(db, street_id=user.principal.unit.street_id)
             if u.code not in exclude]
    usual = [code for code in (situation.department_codes if situation else []) if code not in exclude]
    by_code = {u.code: u for u in units}
    return {"suggested": [by_code[c] for c in usual if c in by_code],
            "others": [u for u in units if u.code not in usual]}


def _suggest(state: FormState, situation: WhistleSituation | None) -> None:
    """Tick the situation's usual departments, each with a task naming the situation."""
    if situation is None:
        return
    state.values["unit_code"] = list(situation.department_codes)
    for code in situation.department_codes:
        state.values[f"task_{code}"] = f"依职责参与处置“{situation.name}”"


def _new_form(request: Request, db: SessionDep, user: WebUser, state: FormState, case: Case | None,
              status_code: int = 200) -> Response:
    situation = _situation(db, str(state.values.get("situation_code", "")))
    current = situations.list_situations(db)
    areas = [(area, [s for s in current if s.area == area]) for area in Area]
    street = db.get(Unit, user.principal.unit.street_id)
    return render(request, "whistles/new.html", {
        "case": case, "areas": areas, "situation": situation,
        "situation_view": situations.situation_out(db, situation) if situation else None,
        "street": street, "urgencies": [(u.value, u.label) for u in Urgency],
        **picker_context(db, user, situation)}, user=user, form=state, status_code=status_code)


@router.get("/whistles/new")
def new_whistle(request: Request, db: SessionDep, user: WebUser = page_for(Action.WHISTLE_START),
                case_id: int | None = None, situation_code: str = "") -> Response:
    state = FormState(values={"situation_code": situation_code, "urgency": Urgency.NORMAL.value})
    case = _case_for(db, user, case_id, state)
    if case is not None:
        state.values |= {"case_id": case.id, "case_version": case.version,
                         "title": case.description[:60], "description": case.description,
                         "address": case.address or ""}
        if case.status != CaseStatus.TO_WHISTLE:
            state.add("case_id", f"案件 {case.number} 处于“{CaseStatus(case.status).label}”状态，只有待吹哨的案件可以吹哨")
    _suggest(state, _situation(db, situation_code))
    return _new_form(request, db, user, state, case)


@router.get("/whistles/new/situation")
def situation_panel(request: Request, db: SessionDep, user: WebUser = page_for(Action.WHISTLE_START),
                    situation_code: str = "") -> Response:
    """htmx: the chosen situation's standard, legal basis and limit, and its usual departments
    pre-ticked in the picker."""
    situation = _situation(db, situation_code)
    state = FormState(values={"situation_code": situation_code})
    _suggest(state, situation)
    return render(request, "whistles/_situation.html", {
        "situation_view": situations.situation_out(db, situation) if situation else None,
        **picker_context(db, user, situation)}, user=user, form=state)


def _optional_int(text: str) -> int | str | None:
    return int(text) if text.isdigit() else (text or None)


def _start_data(form: SubmittedForm, state: FormState, settings: Settings) -> dict[str, Any]:
    fields = ("situation_code", "case_id", "case_version", "urgency", "title", "description", "address",
              "lng", "lat", "assemble_at")
    state.values |= {name: form.get(name) for name in fields}
    departments = steps.chosen_departments(form, state)
    return {
        "situation_code": form.get("situation_code"), "case_id": _optional_int(form.get("case_id")),
        "case_version": _optional_int(form.get("case_version")), "departments": departments,
        "urgency": form.get("urgency") or Urgency.NORMAL.value, "title": form.get("title"),
        "description": form.get("description"), "address": form.get("address") or None,
        "lng": form.get("lng") or None, "lat": form.get("lat") or None, "crs": "gcj02",
        "assemble_at": steps.local_datetime(form.get("assemble_at"), settings.tz, state, "assemble_at"),
    }


@router.post("/whistles/new")
def start_whistle(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
                  user: WebUser = page_for(Action.WHISTLE_START)) -> Response:
    state = FormState()
    data = _start_data(form, state, settings)
    status_code = 422
    case = _case_for(db, user, data["case_id"] if isinstance(data["case_id"], int) else None, state)
    if state.errors.get("case_id"):
        status_code = 403
    if not form.get("situation_code"):
        state.add("situation_code", "请选择吹哨情形")
    body = steps.checked(WhistleStartIn, data, state)
    if body is not None and state.ok:
        whistle, status_code = attempt(state, db, lambda: service.start_whistle(
            db, settings=settings, principal=user.principal, data=body))
        if whistle is not None:
            return done(request, f"/whistles/{whistle.id}", f"已吹哨，编号 {whistle.number}")
    if "lng" in state.errors or "lat" in state.errors:
        state.add("place", state.errors.pop("lng", "") or state.errors.pop("lat", ""))
    steps.place_errors(state, departments=data["departments"])
    return _new_form(request, db, user, state, case, status_code)


# --- one whistle ---------------------------------------------------------------------------

def _readable(db: Session, user: WebUser, whistle_id: int) -> Whistle:
    return service.readable(db, principal=user.principal, whistle_id=whistle_id)


@router.get("/whistles/{whistle_id}")
def whistle_detail(whistle_id: int, request: Request, db: SessionDep,
                   user: WebUser = page_for(Action.CASE_READ)) -> Response:
    whistle = _readable(db, user, whistle_id)
    principal = user.principal
    final = WhistleStatus(whistle.status) in (WhistleStatus.CLOSED, WhistleStatus.CANCELLED)
    return render(request, "whistles/detail.html", {
        "w": whistle_views.whistle_out(db, whistle),
        "events": whistle_views.whistle_trail(whistle_id, db, principal),
        "files": whistle_views.list_attachments(whistle_id, db, principal),
        "assessment": whistle_views.whistle_assessment(whistle_id, db, principal) if final else [],
        "steps": steps.open_steps(db, principal, whistle), **LABELS,
        "case_readable": whistle.case_id is not None and user.may(
            Action.CASE_READ, cases_service.target_of(db, db.get(Case, whistle.case_id))),
        "reply_ways": dict((w.value, w.label) for w in ReplyWay),
    }, user=user)


def _step_or_refusal(db: Session, user: WebUser, whistle: Whistle, name: str, summons_id: int | None) -> steps.Step:
    """The step the user asked for, if open to them now; else why not (404, 409 or 403)."""
    if name not in TRANSITIONS:
        raise NotFound(f"没有“{name}”这一操作")
    found = steps.step_named(steps.open_steps(db, user.principal, whistle), name, summons_id)
    if found is not None:
        return found
    transition = TRANSITIONS[name]
    summons = next((s for s in whistle.summons if s.id == summons_id), None)
    if transition.on_summons and summons is None:
        raise NotFound(f"吹哨 {whistle.number} 没有应哨记录 {summons_id}")
    if not decide(user.principal, transition.action, service.target_of(db, whistle, summons=summons)).allowed:
        raise PermissionDenied(f"当前账号不能对此吹哨执行“{transition.label}”")
    raise IllegalTransition(f"吹哨处于“{WhistleStatus(whistle.status).label}”状态，当前不能{transition.label}")


def _step_form(request: Request, db: Session, user: WebUser, whistle: Whistle, step: steps.Step,
               state: FormState, return_to: str, status_code: int = 200) -> Response:
    situation = db.get(WhistleSituation, whistle.situation_id)
    exclude = {u.code for u in db.scalars(select(Unit).where(Unit.id.in_([s.unit_id for s in whistle.summons])))}
    rated = steps.rated_summons(whistle, clock.utcnow()) if step.name == "report_outcome" else []
    names = unit_names(db, [whistle])
    template = "whistles/_step_form.html" if request.headers.get("HX-Request") == "true" else "whistles/act.html"
    return render(request, template, {
        "whistle": whistle, "step": step, "return_to": return_to, "rated": rated, "units": names,
        "needs_reply": step.name == "report_outcome" and steps.has_reporter(db, whistle),
        "reply_ways": [("", "请选择")] + [(w.value, w.label) for w in ReplyWay],
        "rating_choices": steps.RATING_CHOICES, "rating_points": steps.RATING_POINT_LABELS,
        "version": step.summons.version if step.summons is not None else whistle.version,
        **(picker_context(db, user, situation, exclude=exclude) if step.name == "add_departments" else {}),
    }, user=user, form=state, status_code=status_code)


@router.get("/whistles/{whistle_id}/act/{name}")
def step_form(whistle_id: int, name: str, request: Request, db: SessionDep,
              user: WebUser = page_for(Action.CASE_READ), summons_id: int | None = None,
              return_to: str = "") -> Response:
    whistle = _readable(db, user, whistle_id)
    step = _step_or_refusal(db, user, whistle, name, summons_id)
    return _step_form(request, db, user, whistle, step, FormState(),
                      local_path(return_to) or f"/whistles/{whistle_id}")


def _step_data(form: SubmittedForm, state: FormState, settings: Settings, whistle: Whistle,
               step: steps.Step) -> tuple[dict[str, Any], dict[str, Any]]:
    """The step's payload from the form, and the list items the errors map back onto."""
    state.values |= {name: form.get(name) for name in ("version", *steps.STEP_FIELDS[step.name])}
    data: dict[str, Any] = {"version": _optional_int(form.get("version")),
                            **{name: form.get(name) or None for name in steps.STEP_FIELDS[step.name]}}
    items: dict[str, Any] = {}
    if step.summons is not None:
        data["summons_id"] = step.summons.id
    if step.name == "report_in":
        data["arrived_at"] = steps.local_datetime(form.get("arrived_at"), settings.tz, state, "arrived_at")
    elif step.name == "add_departments":
        data["departments"] = items["departments"] = steps.chosen_departments(form, state)
    elif step.name == "report_outcome":
        rated = steps.rated_summons(whistle, clock.utcnow())
        data["ratings"] = items["ratings"] = steps.ratings_from(form, state, rated)
    return data, items


def _store_materials(db: Session, settings: Settings, user: WebUser, whistle: Whistle, step: steps.Step,
                     form: SubmittedForm) -> list[int]:
    """The department's result materials, stored on its summons; their ids."""
    ids = []
    for upload in form.uploads("materials"):
        content = upload.file.read(attachments.MAX_DOCUMENT_BYTES + 1)
        if len(content) > attachments.MAX_DOCUMENT_BYTES:
            raise InvalidInput(f"{upload.filename} 超过 {attachments.MAX_DOCUMENT_BYTES // 1024 // 1024} MB",
                               errors=[{"field": "materials", "message": "文件太大"}])
        row = service.attach(db, settings=settings, principal=user.principal, whistle_id=whistle.id,
                             summons_id=step.summons.id, kind="material", content=content,
                             original_name=upload.filename)
        ids.append(row.id)
    return ids


@router.post("/whistles/{whistle_id}/act/{name}")
def take_step(whistle_id: int, name: str, request: Request, form: FormDep, db: SessionDep,
              settings: SettingsDep, user: WebUser = page_for(Action.CASE_READ),
              summons_id: int | None = None) -> Response:
    """Every refusal comes from the service (wrong state or stale version 409, wrong actor 403,
    bad field 422); the form comes back with the problems next to their fields."""
    whistle = _readable(db, user, whistle_id)
    if name not in TRANSITIONS:
        raise NotFound(f"没有“{name}”这一操作")
    summons_id = summons_id or _optional_int(form.get("summons_id"))
    summons = next((s for s in whistle.summons if s.id == summons_id), None)
    if TRANSITIONS[name].on_summons and summons is None:
        raise NotFound(f"吹哨 {whistle.number} 没有应哨记录 {summons_id}")
    step = steps.Step(name, TRANSITIONS[name].label, summons if TRANSITIONS[name].on_summons else None)
    return_to = local_path(form.get("return_to")) or f"/whistles/{whistle_id}"
    state = FormState()
    data, items = _step_data(form, state, settings, whistle, step)
    body = steps.checked(WhistleTransitionIn, data, state)
    status_code = 422
    if body is not None and state.ok:
        if name == "finish_part" and body.result and summons.status == SummonsStatus.REPORTED_IN \
                and summons.version == body.version:
            ids, status_code = attempt(state, db, lambda: _store_materials(db, settings, user, whistle, step, form))
            body.attachment_ids = ids or []
        if state.ok:
            moved, status_code = attempt(state, db, lambda: service.transition(
                db, settings=settings, principal=user.principal, whistle_id=whistle_id, name=name, data=body))
            if moved is not None:
                return done(request, return_to, f"已{step.label}")
    steps.place_errors(state, **items)
    db.expire_all()
    whistle = _readable(db, user, whistle_id)
    return _step_form(request, db, user, whistle, step, state, return_to, status_code)

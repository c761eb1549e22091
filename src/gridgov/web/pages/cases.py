"""Case search (/cases), the case detail (/cases/{id}) and its generic transition forms
(/cases/{id}/act/{name}); photos and replies to reporters are recorded from the detail."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from gridgov import clock
from gridgov.auth.policy import Action, Role
from gridgov.calendar import service as calendar_service
from gridgov.cases import attachments, channels, intake, queries, service, views
from gridgov.cases.models import Attachment, Case
from gridgov.cases.rules import OPEN_STATES, TRANSITIONS, CaseStatus, Grade, Node, Transition
from gridgov.catalog import service as catalog
from gridgov.catalog.models import MatterTypeVersion
from gridgov.config import Settings
from gridgov.errors import DomainError, NotFound
from gridgov.feedback import service as feedback
from gridgov.feedback.rules import ReplyWay, Satisfaction
from gridgov.feedback.schemas import ReplyIn
from gridgov.grid import service as grid
from gridgov.http import SessionDep, SettingsDep
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.web import case_actions
from gridgov.web.forms import FormDep, FormState, attempt, validate
from gridgov.web.redirects import done, local_path
from gridgov.web.session import WebUser, WebUserDep, page_for
from gridgov.web.templating import render

router = APIRouter()
PAGE_SIZE = 30
CaseReader = page_for(Action.CASE_READ)

STATUS_TONES = {
    CaseStatus.CLOSED: "ok", CaseStatus.VERIFIED: "ok", CaseStatus.HANDLED: "info",
    CaseStatus.RECEIVED: "info", CaseStatus.DISPATCHED: "info", CaseStatus.FILED: "info",
    CaseStatus.REPORTED: "warn", CaseStatus.RETURNED: "warn", CaseStatus.TO_WHISTLE: "warn",
}
CLOCK_STATES = {"running": "计时中", "due_soon": "即将超时", "overdue": "已超时", "paused": "已暂停",
                "on_time": "按时完成", "late": "超时完成"}
CLOCK_TONES = {"overdue": "bad", "late": "bad", "due_soon": "warn", "on_time": "ok", "running": "info"}
ATTACHMENT_KINDS = [("report", "上报照片"), ("before", "处置前照片"), ("after", "处置后照片"),
                    ("verification", "核查照片"), ("material", "材料（图片或 PDF）")]
PHOTO_GROUPS = (("before", "处置前"), ("after", "处置后"), ("other", "其他照片和材料"))


def status_tone(status: str) -> str:
    return STATUS_TONES.get(CaseStatus(status), "neutral")


def role_label(role: str | None) -> str:
    return Role(role).label if role in Role.__members__.values() else (role or "")


def readable(db: Session, user: WebUser, case_id: int) -> Case:
    """The case, or 404 when it does not exist or the user may not read it (like the API)."""
    case = db.get(Case, case_id)
    if case is None or not user.may(Action.CASE_READ, service.target_of(db, case)):
        raise NotFound(f"案件 {case_id} 不存在")
    return case


def unit_labels(db: Session, *, ids: set[int | None] = frozenset(), codes: set[str | None] = frozenset()
                ) -> dict[Any, str]:
    """Short names of units, keyed by id and by code."""
    wanted_ids, wanted_codes = {i for i in ids if i}, {c for c in codes if c}
    if not wanted_ids and not wanted_codes:
        return {}
    rows = db.execute(select(Unit.id, Unit.code, Unit.short_name, Unit.name)
                      .where(Unit.id.in_(wanted_ids) | Unit.code.in_(wanted_codes)))
    labels: dict[Any, str] = {}
    for unit_id, code, short, name in rows:
        labels[unit_id] = labels[code] = short or name
    return labels


def type_names(db: Session, codes: set[str | None]) -> dict[str, str]:
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return dict(db.execute(select(MatterTypeVersion.code, MatterTypeVersion.name).where(
        MatterTypeVersion.code.in_(wanted), MatterTypeVersion.valid_to.is_(None))).all())


@dataclass(frozen=True)
class RunningClock:
    label: str
    started_at: datetime
    deadline_at: datetime
    overdue: bool


def running_clock(case: Case, now: datetime) -> RunningClock | None:
    """The running node clock with the nearest deadline, or None."""
    running = [c for c in case.clocks if c.finished_at is None and c.paused_at is None]
    nearest = min(running, key=lambda c: c.deadline_at, default=None)
    if nearest is None:
        return None
    deadline = nearest.deadline_at.replace(tzinfo=UTC) if nearest.deadline_at.tzinfo is None else nearest.deadline_at
    return RunningClock(Node(nearest.node).label, nearest.started_at, deadline, deadline < now)


def status_label(status: str) -> str:
    return CaseStatus(status).label


# ---- search -------------------------------------------------------------------------------

class SearchIn(BaseModel):
    status: CaseStatus | None = None
    street: str | None = Field(default=None, max_length=32)
    community: str | None = Field(default=None, max_length=32)
    grid: str | None = Field(default=None, max_length=15)
    holder: str | None = Field(default=None, max_length=32)
    type_code: str | None = Field(default=None, max_length=16)
    domain: str | None = Field(default=None, max_length=32)
    channel: str | None = Field(default=None, max_length=32)
    grade: Grade | None = None
    reported_from: date | None = None
    reported_to: date | None = None
    overdue: bool | None = None
    supervised: bool | None = None
    text: str | None = Field(default=None, max_length=100)


def _filters(data: SearchIn) -> queries.CaseFilter:
    return queries.CaseFilter(
        status=[data.status] if data.status else None, street_code=data.street,
        community_code=data.community, unit_grid_code=data.grid, holder_unit_code=data.holder,
        type_code=data.type_code, domain=data.domain, channel=data.channel, grade=data.grade,
        reported_from=data.reported_from, reported_to=data.reported_to, overdue=data.overdue,
        supervised=data.supervised, text=data.text)


def _options(db: Session) -> dict[str, list[tuple[str, str]]]:
    today = clock.utcnow().date()

    def units(*kinds: UnitKind) -> list[tuple[str, str]]:
        rows = db.scalars(select(Unit).where(Unit.kind.in_(kinds)).order_by(Unit.code))
        return [(u.code, f"{u.short_name or u.name}（{u.code}）") for u in rows if u.validity.active_on(today)]

    yes_no = [("", "不限"), ("true", "是"), ("false", "否")]
    return {
        "status": [("", "全部状态"), *((s.value, s.label) for s in CaseStatus)],
        "street": [("", "全部街道"), *units(UnitKind.STREET)],
        "community": [("", "全部社区"), *units(UnitKind.COMMUNITY)],
        "holder": units(UnitKind.DEPARTMENT, UnitKind.FIELD_UNIT, UnitKind.STREET, UnitKind.OUTSIDE_BODY),
        "domain": [("", "全部领域"), *((d.code, d.name) for d in catalog.list_domains(db))],
        "channel": [("", "全部渠道"), *((c.code, c.name) for c in channels.list_channels(db))],
        "grade": [("", "全部分级"), *((g.value, f"{g.value} {g.label}") for g in Grade)],
        "overdue": yes_no, "supervised": yes_no,
    }


@router.get("/cases")
def search_page(request: Request, db: SessionDep, user: WebUser = CaseReader) -> Response:
    values = {k: v.strip() for k, v in request.query_params.items() if v.strip()}
    after_id = values.pop("after_id", None)
    state = FormState(values=values)
    data = validate(SearchIn, values, state) or SearchIn()
    start = int(after_id) if after_id and after_id.isdigit() else None
    found, next_after, total = [], None, 0
    if state.ok:
        filters = _filters(data)
        found, next_after = queries.search(db, principal=user.principal, filters=filters, after_id=start,
                                           limit=PAGE_SIZE)
        total = queries.count(db, principal=user.principal, filters=filters)
    query = urlencode(values)
    context = {
        "cases": found, "total": total, "first_page": start is None, "query": query,
        "next_url": f"/cases?{urlencode({**values, 'after_id': next_after})}" if next_after else None,
        "first_url": f"/cases?{query}" if query else "/cases",
        "labels": unit_labels(db, ids={i for c in found for i in (c.street_id, c.community_id,
                                                                  c.holder_unit_id)}),
        "types": type_names(db, {c.type_code for c in found}),
        "clocks": {c.id: running_clock(c, clock.utcnow()) for c in found},
        "status_tone": status_tone, "status_label": status_label,
    }
    if request.headers.get("HX-Target") == "case-results":
        shown = urlencode({**values, **({"after_id": start} if start else {})})
        return render(request, "cases/_results.html", context, user=user, form=state,
                      status_code=200 if state.ok else 422,
                      headers={"HX-Push-Url": f"/cases?{shown}" if shown else "/cases"})
    return render(request, "cases/search.html", {**context, "options": _options(db)}, user=user, form=state,
                  status_code=200 if state.ok else 422)


@router.get("/cases/type-options")
def type_options(request: Request, db: SessionDep, user: WebUserDep, type_code: str = "") -> Response:
    """Type-ahead: <option>s of the types in force matching what was typed."""
    found = catalog.search_types(db, text=type_code[:100], limit=20) if type_code.strip() else []
    return render(request, "cases/_type_options.html", {"types": found}, user=user)


# ---- detail -------------------------------------------------------------------------------

def _photo_groups(db: Session, case: Case) -> dict[str, list[Attachment]]:
    groups: dict[str, list[Attachment]] = {key: [] for key, _ in PHOTO_GROUPS}
    for attachment in db.scalars(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)):
        groups[attachment.kind if attachment.kind in groups else "other"].append(attachment)
    return groups


def _outline(db: Session, case: Case) -> dict | None:
    """The unit grid of the case (as it was when the case was placed), GeoJSON in GCJ-02."""
    try:
        row = grid.get_cell(db, code=case.unit_grid_code, version=case.grid_version)
    except DomainError:
        return None
    return grid.geometry_geojson(row, decimals=6)


def _feedback(db: Session, settings: Settings, user: WebUser, case: Case) -> dict[str, Any]:
    show = feedback.personal(db, user.principal, case)
    reporters = []
    for state in feedback.reporters_feedback(db, settings=settings, case=case):
        name, phone = feedback.masked(show, state.reporter)
        reporters.append({"state": state, "name": name, "phone": phone})
    owed = [(r["state"].reporter.id, f"{r['name'] or '匿名'} {r['phone'] or ''}".strip())
            for r in reporters if r["state"].owed]
    callbacks = feedback.callbacks_of(db, case)
    return {
        "reporters": reporters,
        "reply_to": owed if user.may(Action.CASE_REPLY, service.target_of(db, case)) else [],
        "ways": [(w.value, w.label) for w in ReplyWay], "ways_label": {w.value: w.label for w in ReplyWay},
        "satisfaction_label": {s.value: s.label for s in Satisfaction},
        "callbacks": callbacks,
        "may_decide": user.may(Action.CASE_DISPATCH, service.target_of(db, case)),
    }


def detail_context(db: Session, settings: Settings, user: WebUser, case: Case) -> dict[str, Any]:
    now = clock.utcnow()
    calendar = calendar_service.working_calendar(db, settings=settings)
    out = views.case_out(db, case, principal=user.principal, now=now, calendar=calendar)
    events = views.events_out(db, case)
    actions = case_actions.available(db, user.principal, case)
    names = {t.name for t in actions}
    dispatchable = "dispatch" in names or "send_to_whistle" in names
    answer, no_answer = case_actions.suggestion(db, case) if dispatchable else (None, None)
    labels = unit_labels(db, ids={case.street_id, case.community_id, case.holder_unit_id},
                         codes={out.holder_unit_code, answer.unit_code if answer else None,
                                *(c.unit_code for c in out.clocks),
                                *(e.unit_code for e in events), *(e.target_unit_code for e in events)})
    return {
        "case": case, "out": out, "events": events, "actions": actions,
        "labels": labels, "types": type_names(db, {case.type_code}), "role_label": role_label,
        "status_tone": status_tone, "clock_states": CLOCK_STATES, "photos": _photo_groups(db, case),
        "photo_groups": PHOTO_GROUPS, "outline": _outline(db, case), "attachment_kinds": ATTACHMENT_KINDS,
        "may_upload": case.status in OPEN_STATES, "suggestion": answer, "no_suggestion": no_answer,
        "duplicates": intake.likely_duplicates(db, case=case) if case.status in OPEN_STATES else [],
        "may_merge": "merge" in names, "clock_tones": CLOCK_TONES,
        "channel_names": {c.code: c.name for c in channels.list_channels(db, include_inactive=True)},
        **_feedback(db, settings, user, case),
    }


def _detail(request: Request, db: Session, settings: Settings, user: WebUser, case: Case, *,
            form: FormState | None = None, status_code: int = 200) -> Response:
    return render(request, "cases/detail.html", detail_context(db, settings, user, case), user=user,
                  form=form, status_code=status_code)


@router.get("/cases/{case_id}")
def case_page(case_id: int, request: Request, db: SessionDep, settings: SettingsDep,
              user: WebUser = CaseReader) -> Response:
    return _detail(request, db, settings, user, readable(db, user, case_id))




@router.post("/cases/{case_id}/attachments")
def upload(case_id: int, request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
           user: WebUser = CaseReader) -> Response:
    case = readable(db, user, case_id)
    state = FormState(values={"kind": form.get("kind")})
    kind, files = form.get("kind"), form.uploads("file")
    if kind not in dict(ATTACHMENT_KINDS):
        state.add("kind", "请选择类别")
    if not files:
        state.add("file", "请选择文件")
    status_code = 422
    if state.ok:
        content = files[0].file.read(attachments.MAX_DOCUMENT_BYTES + 1)
        stored, status_code = attempt(state, db, lambda: service.attach(
            db, settings=settings, principal=user.principal, case_id=case.id, kind=kind, content=content,
            original_name=files[0].filename))
        if stored is not None:
            return done(request, f"/cases/{case.id}#photos", "已上传")
    return _detail(request, db, settings, user, case, form=state, status_code=status_code)


@router.post("/cases/{case_id}/replies")
def reply(case_id: int, request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
          user: WebUser = CaseReader) -> Response:
    case = readable(db, user, case_id)
    state = FormState(values=dict(form.fields))
    data = validate(ReplyIn, {k: form.get(k) for k in ("reporter_id", "way", "text") if form.get(k)}, state)
    status_code = 422
    if data is not None:
        replied, status_code = attempt(state, db, lambda: feedback.record_reply(
            db, principal=user.principal, case_id=case.id, data=data))
        if replied is not None:
            return done(request, f"/cases/{case.id}#feedback", "已记录答复")
    return _detail(request, db, settings, user, case, form=state, status_code=status_code)


# ---- generic transition forms -------------------------------------------------------------

def _transition(name: str) -> Transition:
    if name not in TRANSITIONS:
        raise NotFound(f"没有“{name}”这个操作")
    return TRANSITIONS[name]


def _act_form(request: Request, db: Session, user: WebUser, case: Case, transition: Transition,
              state: FormState, return_to: str | None, status_code: int = 200) -> Response:
    if not case_actions.allowed(db, user.principal, case, transition) and state.ok:
        state.add(None, f"案件现为“{CaseStatus(case.status).label}”，您现在不能{transition.label}")
        status_code = 409
    specs = case_actions.fields_for(transition)
    kinds = {s.kind for s in specs}
    answer, no_answer = (case_actions.suggestion(db, case) if transition.name == "dispatch"
                         else (None, None))
    if answer and "unit_code" not in state.values:
        state.values["unit_code"] = answer.unit_code
    context = {
        "case": case, "transition": transition, "specs": specs, "return_to": return_to,
        "types": type_names(db, {case.type_code}), "suggestion": answer, "no_suggestion": no_answer,
        "units": (case_actions.dispatch_units(db, case) if transition.name == "dispatch"
                  else case_actions.redispatch_units(db, case)) if "unit" in kinds else [],
        "duplicates": intake.likely_duplicates(db, case=case) if "case" in kinds else [],
        "grades": case_actions.GRADE_OPTIONS, "limit_units": case_actions.UNIT_OPTIONS,
        "approvals": case_actions.APPROVED_OPTIONS, "status_tone": status_tone, "status_label": status_label,
    }
    template = "cases/_act_form.html" if request.headers.get("HX-Request") == "true" else "cases/act.html"
    return render(request, template, context, user=user, form=state, status_code=status_code)


@router.get("/cases/{case_id}/act/{name}")
def action_form(case_id: int, name: str, request: Request, db: SessionDep, return_to: str | None = None,
                user: WebUser = CaseReader) -> Response:
    case = readable(db, user, case_id)
    return _act_form(request, db, user, case, _transition(name), FormState(), local_path(return_to))


@router.post("/cases/{case_id}/act/{name}")
def take_action(case_id: int, name: str, request: Request, form: FormDep, db: SessionDep,
                settings: SettingsDep, user: WebUser = CaseReader) -> Response:
    case = readable(db, user, case_id)
    transition = _transition(name)
    return_to = local_path(form.get("return_to"))
    state = FormState(values=dict(form.fields))
    submission = case_actions.parse(db, transition, form, state)
    status_code = 422
    if state.ok:
        moved, status_code = attempt(state, db, lambda: case_actions.perform(
            db, settings=settings, principal=user.principal, case=case, transition=transition,
            submission=submission))
        if moved is not None:
            return done(request, return_to or f"/cases/{case.id}", f"已{transition.label}")
        db.refresh(case)
    return _act_form(request, db, user, case, transition, state, return_to, status_code)

"""Cases: intake from every channel, the transition endpoint, queues, search and attachments."""

import asyncio
import threading
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov import clock
from gridgov.auth.deps import Authorization, CurrentPrincipal, PresentedCredential, require
from gridgov.auth.policy import Action, Principal, decide
from gridgov.calendar import service as calendar_service
from gridgov.cases import attachments, queries, service, views
from gridgov.cases.group_commit import ReportWriter, Submission
from gridgov.cases.models import Attachment, Case
from gridgov.cases.rules import TRANSITIONS, CaseStatus, Grade
from gridgov.cases.schemas import (
    AttachmentOut, BatchMoved, BatchTransitionIn, CaseOut, DuplicateOut, EventOut, ReportAccepted, ReportIn,
    TransitionIn,
)
from gridgov.config import Settings
from gridgov.errors import InvalidInput, NotFound
from gridgov.http import SessionDep, SettingsDep
from gridgov.observability import current_request_id
from gridgov.org.models import Unit

router = APIRouter(prefix="/api/v1/cases", tags=["cases 案件"])
MAX_UPLOAD = attachments.MAX_DOCUMENT_BYTES


class TransitionInfo(BaseModel):
    name: str
    label: str
    sources: list[CaseStatus]
    target: str
    action: str
    by_holder: bool
    required: list[str]


class CasePage(BaseModel):
    items: list[CaseOut]
    next_after: int | None
    total: int


class DutySuggestion(BaseModel):
    unit_code: str
    rule_id: str | None
    explanation: str


def _out(db: Session, settings: Settings, case: Case, principal: Principal) -> CaseOut:
    return _outs(db, settings, [case], principal)[0]


def _outs(db: Session, settings: Settings, cases: list[Case], principal: Principal) -> list[CaseOut]:
    calendar = calendar_service.working_calendar(db, settings=settings)
    return views.cases_out(db, [(case, principal) for case in cases], now=clock.utcnow(), calendar=calendar)


def _readable(db: Session, principal: Principal, case_id: int) -> Case:
    case = service.get_case(db, case_id=case_id)
    if not decide(principal, Action.CASE_READ, service.target_of(db, case)).allowed:
        raise NotFound(f"案件 {case_id} 不存在")  # do not reveal cases outside one's scope
    return case


@router.get("/transitions", response_model=list[TransitionInfo])
def list_transitions() -> list[TransitionInfo]:
    """The lifecycle's transition table: from which states, to which, by whom, needing what."""
    return [TransitionInfo(name=t.name, label=t.label, sources=sorted(t.sources), target=str(t.target),
                           action=t.action.value, by_holder=t.by_holder, required=list(t.required))
            for t in TRANSITIONS.values()]


_WRITER_LOCK = threading.Lock()


def _report_writer(request: Request) -> ReportWriter:
    """The process's group-commit writer for intake (one per app)."""
    state = request.app.state
    with _WRITER_LOCK:
        if getattr(state, "report_writer", None) is None:
            state.report_writer = ReportWriter(state.database, state.settings)
    return state.report_writer


@router.post("", response_model=ReportAccepted, status_code=status.HTTP_201_CREATED)
async def report_case(body: ReportIn, request: Request, response: Response,
                      credential: PresentedCredential) -> ReportAccepted:
    """Take a report from any channel. The same (channel, channel_ref) again returns the same case (200).

    Checked, located, written and answered together with the reports arriving at the same
    moment (see cases/group_commit.py); the request itself holds no thread and no session."""
    submission = Submission(credential, body, current_request_id())
    accepted = await asyncio.wrap_future(_report_writer(request).submit(submission))
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
    return accepted


@router.get("", response_model=CasePage)
def search_cases(
    db: SessionDep, settings: SettingsDep, principal: CurrentPrincipal,
    status_: Annotated[list[CaseStatus] | None, Query(alias="status")] = None,
    street: str | None = None, community: str | None = None, grid: str | None = None,
    holder: str | None = None, type_code: str | None = None, domain: str | None = None,
    channel: str | None = None, grade: Grade | None = None, reported_from: date | None = None,
    reported_to: date | None = None, overdue: bool | None = None, supervised: bool | None = None,
    text: str | None = Query(default=None, max_length=100),
    after_id: int | None = None, limit: int = Query(default=50, ge=1, le=500),
) -> CasePage:
    filters = queries.CaseFilter(
        status=status_, street_code=street, community_code=community, unit_grid_code=grid,
        holder_unit_code=holder, type_code=type_code, domain=domain, channel=channel, grade=grade,
        reported_from=reported_from, reported_to=reported_to, overdue=overdue, supervised=supervised,
        text=text)
    page, next_after = queries.search(db, principal=principal, filters=filters, after_id=after_id, limit=limit)
    return CasePage(items=_outs(db, settings, list(page), principal), next_after=next_after,
                    total=queries.count(db, principal=principal, filters=filters))


@router.get("/inbox", response_model=dict[str, list[CaseOut]])
def my_inbox(db: SessionDep, settings: SettingsDep, principal: CurrentPrincipal) -> dict[str, list[CaseOut]]:
    """The caller's unit's queues: new, returned, due soon, overdue, to whistle, to verify."""
    boxes = queries.inbox(db, settings=settings, principal=principal)
    return {name: _outs(db, settings, list(cases), principal) for name, cases in boxes.items()}


@router.get("/overdue")
def overdue_now(db: SessionDep, auth: Authorization = require(Action.DASHBOARD_READ)) -> list[dict]:
    """Running clocks past their deadline, per unit and node, now."""
    rows = queries.overdue_now(db)
    codes = dict(db.execute(select(Unit.id, Unit.code).where(Unit.id.in_({u for u, _, _ in rows if u}))).all())
    return [{"unit_code": codes.get(unit_id), "node": node, "count": n} for unit_id, node, n in rows]


@router.get("/{case_id}", response_model=CaseOut)
def get_case(case_id: int, db: SessionDep, settings: SettingsDep, principal: CurrentPrincipal) -> CaseOut:
    return _out(db, settings, _readable(db, principal, case_id), principal)


@router.get("/{case_id}/events", response_model=list[EventOut])
def case_timeline(case_id: int, db: SessionDep, principal: CurrentPrincipal) -> list[EventOut]:
    return views.events_out(db, _readable(db, principal, case_id))


@router.get("/{case_id}/suggestion", response_model=DutySuggestion)
def dispatch_suggestion(case_id: int, db: SessionDep, principal: CurrentPrincipal) -> DutySuggestion:
    """The responsible unit from the duty matrix, and the rule that gives it."""
    answer = service.suggest_unit(db, case=_readable(db, principal, case_id))
    return DutySuggestion(unit_code=answer.unit_code, rule_id=answer.rule_id, explanation=answer.explanation)


@router.get("/{case_id}/duplicates", response_model=list[DuplicateOut])
def likely_duplicates(case_id: int, db: SessionDep, principal: CurrentPrincipal) -> list[DuplicateOut]:
    return views.duplicates_out(db, _readable(db, principal, case_id))


@router.post("/{case_id}/transitions/{name}", response_model=CaseOut)
def move_case(case_id: int, name: str, body: TransitionIn, db: SessionDep, settings: SettingsDep,
              principal: CurrentPrincipal) -> CaseOut:
    """Apply one transition of the table. 409 for a wrong state or a stale version, 403 for a
    wrong actor, 422 for missing fields; nothing changes on any refusal."""
    _readable(db, principal, case_id)
    case = service.transition(db, settings=settings, principal=principal, case_id=case_id, name=name, data=body)
    return _out(db, settings, case, principal)


@router.post("/transitions/{name}", response_model=list[BatchMoved])
def move_cases(name: str, body: BatchTransitionIn, db: SessionDep, settings: SettingsDep,
               principal: CurrentPrincipal) -> list[BatchMoved]:
    """Apply one transition, with the same fields, to up to 500 cases at once (批量签收、批量派遣、
    批量结案 ...), each named with the version its actor saw: every case moves or none does, and
    a refusal names the case that stopped the batch (`case_id`, `case_number`)."""
    moved = service.transition_many(db, settings=settings, principal=principal, name=name,
                                    cases=[(c.id, c.version) for c in body.cases], data=body,
                                    conceal_unreadable=True)
    return [BatchMoved(id=c.id, number=c.number, status=c.status, version=c.version) for c in moved]


@router.post("/{case_id}/attachments", response_model=AttachmentOut, status_code=201)
async def upload_attachment(case_id: int, kind: Annotated[str, Form()], file: UploadFile, db: SessionDep,
                            settings: SettingsDep, principal: CurrentPrincipal) -> AttachmentOut:
    """A photo (report / before / after / verification) or material (image or PDF), checked by content."""
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise InvalidInput(f"文件超过 {MAX_UPLOAD // 1024 // 1024} MB")
    _readable(db, principal, case_id)
    attachment = service.attach(db, settings=settings, principal=principal, case_id=case_id, kind=kind,
                                content=content, original_name=file.filename)
    return AttachmentOut.model_validate(attachment, from_attributes=True)


@router.get("/{case_id}/attachments", response_model=list[AttachmentOut])
def list_attachments(case_id: int, db: SessionDep, principal: CurrentPrincipal) -> list[AttachmentOut]:
    _readable(db, principal, case_id)
    rows = db.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id))
    return [AttachmentOut.model_validate(a, from_attributes=True) for a in rows]


@router.get("/{case_id}/attachments/{attachment_id}", response_class=FileResponse)
def download_attachment(case_id: int, attachment_id: int, db: SessionDep, settings: SettingsDep,
                        principal: CurrentPrincipal) -> FileResponse:
    """Served only to those who may see the case."""
    _readable(db, principal, case_id)
    attachment = db.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case_id:
        raise NotFound("附件不存在")
    path = attachments.path_for(settings.data_dir / "attachments", attachment.sha256)
    return FileResponse(path, media_type=attachment.media_type,
                        headers={"Cache-Control": "private, max-age=3600"})

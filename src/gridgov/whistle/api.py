"""Whistles (吹哨报到): situations, the flow's steps, queues, attachments and assessment."""

from datetime import UTC, date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, UploadFile, status
from fastapi.responses import FileResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gridgov import clock
from gridgov.auth.deps import Authorization, CurrentPrincipal, require
from gridgov.auth.policy import Action
from gridgov.calendar.rules import LimitUnit, TimeLimit
from gridgov.cases import attachments
from gridgov.cases.models import Case
from gridgov.config import Settings
from gridgov.errors import InvalidInput, NotFound
from gridgov.http import SessionDep, SettingsDep
from gridgov.org.models import Unit
from gridgov.whistle import assessment, service, situations
from gridgov.whistle.models import Whistle, WhistleAttachment, WhistleEvent, WhistleSituation
from gridgov.whistle.rules import (
    RATING_POINTS, TRANSITIONS, Area, Assessment, Node, SummonsStatus, WhistleStatus, transition_label,
)
from gridgov.whistle.schemas import (
    AssessmentRecordOut, AttachmentOut, ClockOut, DrillItem, DrillOut, FiguresOut, RetireIn, SituationBody,
    SituationImportReport, SituationIn, SituationOut, SituationRef, SummonsOut, TransitionInfo, UnitFiguresOut,
    WhistleBrief, WhistleEventOut, WhistleOut, WhistlePage, WhistleStartIn, WhistleTransitionIn,
)

router = APIRouter(prefix="/api/v1/whistles", tags=["whistles 吹哨报到"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_UPLOAD = attachments.MAX_DOCUMENT_BYTES


# --- views ---------------------------------------------------------------------------------

def _units(db: Session, ids: set[int | None]) -> dict[int, Unit]:
    wanted = {i for i in ids if i is not None}
    return {u.id: u for u in db.scalars(select(Unit).where(Unit.id.in_(wanted)))} if wanted else {}


def _ratings(summons) -> dict[str, int] | None:
    marks = {p: getattr(summons, f"rating_{p}") for p in RATING_POINTS}
    return marks if all(v is not None for v in marks.values()) else None


def _float(value) -> float | None:
    return None if value is None else float(value)


def whistle_out(db: Session, whistle: Whistle) -> WhistleOut:
    now = clock.utcnow()
    units = _units(db, {whistle.street_id, whistle.community_id, whistle.started_by_unit_id,
                        *(s.unit_id for s in whistle.summons),
                        *(s.reported_by_unit_id for s in whistle.summons),
                        *(c.unit_id for c in whistle.clocks)})
    situation = db.get(WhistleSituation, whistle.situation_id)
    case_number = db.scalar(select(Case.number).where(Case.id == whistle.case_id)) if whistle.case_id else None
    summons = [SummonsOut(
        id=s.id, unit_code=units[s.unit_id].code, unit_name=units[s.unit_id].name, task=s.task,
        added_by=s.added_by, status=s.status, status_label=SummonsStatus(s.status).label, sent_at=s.sent_at,
        report_in_due_at=s.report_in_due_at, cutoff_at=s.cutoff_at, reported_in_at=s.reported_in_at,
        reported_by_unit_code=units[s.reported_by_unit_id].code if s.reported_by_unit_id else None,
        arrived_at=s.arrived_at, arrival_place=s.arrival_place, leader=s.leader, headcount=s.headcount,
        forces=s.forces, done_at=s.done_at, result=s.result, assessment=s.assessment,
        lateness=_float(s.lateness), responsiveness=_float(s.responsiveness), ratings=_ratings(s),
        rating_comment=s.rating_comment, version=s.version) for s in whistle.summons]
    clocks = []
    for c in whistle.clocks:
        if c.finished_at is not None:
            state = "late" if c.overdue else "on_time"
        else:
            state = "overdue" if now > c.deadline_at else "running"
        clocks.append(ClockOut(
            node=c.node, node_label=Node(c.node).label, summons_id=c.summons_id,
            unit_code=units[c.unit_id].code if c.unit_id else None, started_at=c.started_at,
            deadline_at=c.deadline_at, limit=str(TimeLimit(c.limit_value, LimitUnit(c.limit_unit))),
            state=state,
            finished_at=c.finished_at))
    street = units[whistle.street_id]
    return WhistleOut(
        id=whistle.id, number=whistle.number, status=whistle.status,
        status_label=WhistleStatus(whistle.status).label, street_code=street.code, street_name=street.name,
        community_code=units[whistle.community_id].code,
        started_by_unit_code=units[whistle.started_by_unit_id].code, case_id=whistle.case_id,
        case_number=case_number,
        situation=SituationRef(code=whistle.situation_code, name=whistle.situation_name, area=whistle.area,
                               area_label=Area(whistle.area).label, time_limit=str(whistle.time_limit),
                               active=bool(situation and situation.active)),
        urgency=whistle.urgency, title=whistle.title, description=whistle.description, address=whistle.address,
        lng=whistle.lng, lat=whistle.lat, unit_grid_code=whistle.unit_grid_code,
        assemble_at=whistle.assemble_at,
        started_at=whistle.started_at, summoned_at=whistle.summoned_at, outcome=whistle.outcome,
        outcome_at=whistle.outcome_at, reply_text=whistle.reply_text, reply_way=whistle.reply_way,
        replied_at=whistle.replied_at, close_note=whistle.close_note, closed_at=whistle.closed_at,
        cancel_reason=whistle.cancel_reason, cancelled_at=whistle.cancelled_at, version=whistle.version,
        summons=summons, clocks=clocks)


def _briefs(db: Session, whistles: list[Whistle]) -> list[WhistleBrief]:
    units = _units(db, {w.street_id for w in whistles})
    return [WhistleBrief(
        id=w.id, number=w.number, status=w.status, status_label=WhistleStatus(w.status).label,
        street_code=units[w.street_id].code, situation_code=w.situation_code, situation_name=w.situation_name,
        urgency=w.urgency, title=w.title, case_id=w.case_id, started_at=w.started_at, version=w.version)
        for w in whistles]


def _period(settings: Settings, start: date, end: date):
    if end < start:
        raise InvalidInput("结束日期不能早于开始日期", errors=[{"field": "to", "message": "早于开始日期"}])
    return (service.local_day_start(start, settings).astimezone(UTC),
            service.local_day_start(end + timedelta(days=1), settings).astimezone(UTC))


def _figures_out(score: assessment.WhistleScore) -> UnitFiguresOut:
    return UnitFiguresOut(
        unit_code=score.unit_code, unit_name=score.unit_name, role=score.role, whistles=score.whistles,
        summons=score.summons, assessed=score.assessed, on_time=score.on_time, late=score.late,
        missed=score.missed, on_time_rate=score.on_time_rate, responsiveness=score.responsiveness,
        ratings=score.ratings, rating_average=score.rating_average, rated=score.rated, open=score.open,
        overdue=score.overdue, closed=score.closed, cancelled=score.cancelled, score=score.score)


From = Annotated[date, Query(alias="from", description="first day (local date)")]
To = Annotated[date, Query(alias="to", description="last day, inclusive (local date)")]


# --- situations ----------------------------------------------------------------------------

@router.get("/situations", response_model=list[SituationOut])
def list_situations(db: SessionDep, principal: CurrentPrincipal, area: str | None = None,
                    status_: Annotated[str, Query(alias="status")] = "current",
                    text: Annotated[str | None, Query(max_length=100)] = None) -> list[SituationOut]:
    """The situations in which a street may whistle; `status=retired|all` for retired ones."""
    return situations.situations_out(db, situations.list_situations(db, area=area, status=status_, text=text))


@router.get("/situations/export.xlsx", response_class=Response)
def export_situations(db: SessionDep, principal: CurrentPrincipal) -> Response:
    return Response(situations.export_workbook(db), media_type=XLSX, headers={
        "Content-Disposition": "attachment; filename*=UTF-8''%E5%90%B9%E5%93%A8%E6%83%85%E5%BD%A2.xlsx"})


@router.post("/situations/import", response_model=SituationImportReport)
async def import_situations(file: UploadFile, db: SessionDep,
                            auth: Authorization = require(Action.CONFIG_MANAGE)) -> SituationImportReport:
    """All rows or none: one bad row refuses the file, listing every problem (sheet, row, field)."""
    content = await file.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"文件超过 {MAX_IMPORT_BYTES // 1024 // 1024} MB")

    def run() -> SituationImportReport:
        return situations.import_situations(db, actor=auth.actor, data=situations.parse_workbook(content))

    return await run_in_threadpool(run)


@router.get("/situations/{code}", response_model=SituationOut)
def get_situation(code: str, db: SessionDep, principal: CurrentPrincipal) -> SituationOut:
    """Retired situations too: whistles that used one keep showing it."""
    return situations.situation_out(db, situations.get_situation(db, code=code))


@router.post("/situations", response_model=SituationOut, status_code=status.HTTP_201_CREATED)
def create_situation(body: SituationIn, db: SessionDep,
                     auth: Authorization = require(Action.CONFIG_MANAGE)) -> SituationOut:
    return situations.situation_out(db, situations.create_situation(db, actor=auth.actor, data=body))


@router.put("/situations/{code}", response_model=SituationOut)
def update_situation(code: str, body: SituationBody, db: SessionDep,
                     auth: Authorization = require(Action.CONFIG_MANAGE)) -> SituationOut:
    """Whistles already started keep the name, area and limit they started under."""
    return situations.situation_out(db, situations.update_situation(db, actor=auth.actor, code=code, data=body))


@router.post("/situations/{code}/retire", response_model=SituationOut)
def retire_situation(code: str, body: RetireIn, db: SessionDep,
                     auth: Authorization = require(Action.CONFIG_MANAGE)) -> SituationOut:
    return situations.situation_out(
        db, situations.retire_situation(db, actor=auth.actor, code=code, reason=body.reason))


# --- the flow ------------------------------------------------------------------------------

@router.get("/transitions", response_model=list[TransitionInfo])
def list_transitions() -> list[TransitionInfo]:
    """The whistle's transition table: from which states, to which, by whom, needing what."""
    return [TransitionInfo(name=t.name, label=t.label, sources=sorted(t.sources), target=str(t.target),
                           action=t.action.value, on_summons=t.on_summons,
                           summons_sources=sorted(t.summons_sources or ()), required=list(t.required))
            for t in TRANSITIONS.values()]


@router.post("", response_model=WhistleOut, status_code=status.HTTP_201_CREATED)
def start_whistle(body: WhistleStartIn, db: SessionDep, settings: SettingsDep,
                  auth: Authorization = require(Action.WHISTLE_START)) -> WhistleOut:
    """A street whistles; the whistle is filed (备案) with the district at once."""
    whistle = service.start_whistle(db, settings=settings, principal=auth.principal, data=body)
    return whistle_out(db, whistle)


@router.get("", response_model=WhistlePage)
def search_whistles(
    db: SessionDep, settings: SettingsDep, principal: CurrentPrincipal,
    status_: Annotated[list[WhistleStatus] | None, Query(alias="status")] = None,
    street: str | None = None, situation: str | None = None, area: Area | None = None,
    unit: Annotated[str | None, Query(description="a summoned unit's code")] = None,
    case_id: int | None = None, started_from: date | None = None, started_to: date | None = None,
    text: Annotated[str | None, Query(max_length=100)] = None, after_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> WhistlePage:
    filters = service.WhistleFilter(status=status_, street_code=street, situation_code=situation, area=area,
                                    unit_code=unit, case_id=case_id, started_from=started_from,
                                    started_to=started_to, text=text)
    page, next_after, total = service.search(db, settings=settings, principal=principal, filters=filters,
                                             after_id=after_id, limit=limit)
    return WhistlePage(items=_briefs(db, page), next_after=next_after, total=total)


@router.get("/inbox", response_model=dict[str, list[WhistleBrief]])
def my_inbox(db: SessionDep, principal: CurrentPrincipal) -> dict[str, list[WhistleBrief]]:
    """The caller's whistle work (to_summon, to_close, open, to_report_outcome, to_report_in, in_hand)."""
    return {name: _briefs(db, whistles) for name, whistles in service.inbox(db, principal=principal).items()}


# --- assessment ----------------------------------------------------------------------------

@router.get("/assessment/departments", response_model=FiguresOut)
def department_figures(start: From, end: To, db: SessionDep, settings: SettingsDep,
                       auth: Authorization = require(Action.ASSESSMENT_READ)) -> FiguresOut:
    """Per summoned unit, whistles started in the period: summons, on-time report-in rate,
    average responsiveness, average ratings per point, open and overdue summons, score."""
    begin, finish = _period(settings, start, end)
    scores = assessment.unit_figures(db, role=assessment.DEPARTMENT, start=begin, end=finish)
    return FiguresOut(start=begin, end=finish, units=[_figures_out(s) for s in scores])


@router.get("/assessment/streets", response_model=FiguresOut)
def street_figures(start: From, end: To, db: SessionDep, settings: SettingsDep,
                   auth: Authorization = require(Action.ASSESSMENT_READ)) -> FiguresOut:
    """Per street, whistles started in the period: the same figures over its whistles, and how
    many it closed and cancelled."""
    begin, finish = _period(settings, start, end)
    scores = assessment.unit_figures(db, role=assessment.STREET, start=begin, end=finish)
    return FiguresOut(start=begin, end=finish, units=[_figures_out(s) for s in scores])


@router.get("/assessment/drill", response_model=DrillOut)
def drill_down(start: From, end: To, unit: str, figure: str, db: SessionDep, settings: SettingsDep,
               auth: Authorization = require(Action.ASSESSMENT_READ)) -> DrillOut:
    """The whistles behind one figure of one department or street (`figure`: whistles, summons,
    assessed, on_time, late, missed, rated, open, overdue, closed, cancelled)."""
    begin, finish = _period(settings, start, end)
    rows = assessment.drill_down(db, unit_code=unit, figure=figure, start=begin, end=finish)
    return DrillOut(unit_code=unit, figure=figure, start=begin, end=finish,
                    whistles=[DrillItem(id=i, number=n) for i, n in rows])


# --- one whistle ---------------------------------------------------------------------------

@router.get("/{whistle_id}", response_model=WhistleOut)
def get_whistle(whistle_id: int, db: SessionDep, principal: CurrentPrincipal) -> WhistleOut:
    return whistle_out(db, service.readable(db, principal=principal, whistle_id=whistle_id))


@router.get("/{whistle_id}/events", response_model=list[WhistleEventOut])
def whistle_trail(whistle_id: int, db: SessionDep, principal: CurrentPrincipal) -> list[WhistleEventOut]:
    """吹哨全留痕: every step, who took it, in which unit, with what."""
    service.readable(db, principal=principal, whistle_id=whistle_id)
    events = list(db.scalars(select(WhistleEvent).where(WhistleEvent.whistle_id == whistle_id)
                             .order_by(WhistleEvent.id)))
    units = _units(db, {e.unit_id for e in events} | {e.target_unit_id for e in events})
    return [WhistleEventOut(
        id=e.id, transition=e.transition, transition_label=transition_label(e.transition),
        summons_id=e.summons_id, from_status=e.from_status, to_status=e.to_status, actor_name=e.actor_name,
        role=e.role, unit_code=units[e.unit_id].code if e.unit_id in units else None,
        target_unit_code=units[e.target_unit_id].code if e.target_unit_id in units else None,
        reason=e.reason, payload=e.payload or {}, occurred_at=e.occurred_at) for e in events]


@router.get("/{whistle_id}/assessment", response_model=list[AssessmentRecordOut])
def whistle_assessment(whistle_id: int, db: SessionDep,
                       principal: CurrentPrincipal) -> list[AssessmentRecordOut]:
    """一哨一考: one record per summoned department; final once the whistle is closed or cancelled."""
    whistle = service.readable(db, principal=principal, whistle_id=whistle_id)
    units = _units(db, {s.unit_id for s in whistle.summons})
    out = []
    for record in assessment.whistle_assessment(whistle):
        s = record.summons
        out.append(AssessmentRecordOut(
            summons_id=s.id, unit_code=units[s.unit_id].code, unit_name=units[s.unit_id].name, status=s.status,
            assessment=record.assessment, assessment_label=Assessment(record.assessment).label
            if record.assessment else None, sent_at=s.sent_at, report_in_due_at=s.report_in_due_at,
            reported_in_at=s.reported_in_at, lateness=_float(s.lateness),
            responsiveness=_float(record.responsiveness), ratings=_ratings(s),
            rating_average=_float(record.rating_average), rating_comment=s.rating_comment, final=record.final))
    return out


@router.post("/{whistle_id}/transitions/{name}", response_model=WhistleOut)
def move_whistle(whistle_id: int, name: str, body: WhistleTransitionIn, db: SessionDep, settings: SettingsDep,
                 principal: CurrentPrincipal) -> WhistleOut:
    """Apply one step of the table. 409 for a wrong state or a stale version, 403 for a wrong
    actor, 422 for missing or bad fields; nothing changes on any refusal."""
    service.readable(db, principal=principal, whistle_id=whistle_id)
    whistle = service.transition(db, settings=settings, principal=principal, whistle_id=whistle_id, name=name,
                                 data=body)
    return whistle_out(db, whistle)


@router.post("/{whistle_id}/attachments", response_model=AttachmentOut, status_code=201)
async def upload_attachment(whistle_id: int, kind: Annotated[str, Form()], file: UploadFile, db: SessionDep,
                            settings: SettingsDep, principal: CurrentPrincipal,
                            summons_id: Annotated[int | None, Form()] = None) -> AttachmentOut:
    """A photo or material (image or PDF, checked by content) for the whistle, or with
    `summons_id` for one department's result."""
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise InvalidInput(f"文件超过 {MAX_UPLOAD // 1024 // 1024} MB")

    def run() -> WhistleAttachment:
        return service.attach(db, settings=settings, principal=principal, whistle_id=whistle_id,
                              summons_id=summons_id, kind=kind, content=content, original_name=file.filename)

    attachment = await run_in_threadpool(run)
    return AttachmentOut.model_validate(attachment, from_attributes=True)


@router.get("/{whistle_id}/attachments", response_model=list[AttachmentOut])
def list_attachments(whistle_id: int, db: SessionDep, principal: CurrentPrincipal) -> list[AttachmentOut]:
    service.readable(db, principal=principal, whistle_id=whistle_id)
    rows = db.scalars(select(WhistleAttachment).where(WhistleAttachment.whistle_id == whistle_id)
                      .order_by(WhistleAttachment.id))
    return [AttachmentOut.model_validate(a, from_attributes=True) for a in rows]


@router.get("/{whistle_id}/attachments/{attachment_id}", response_class=FileResponse)
def download_attachment(whistle_id: int, attachment_id: int, db: SessionDep, settings: SettingsDep,
                        principal: CurrentPrincipal) -> FileResponse:
    service.readable(db, principal=principal, whistle_id=whistle_id)
    attachment = db.get(WhistleAttachment, attachment_id)
    if attachment is None or attachment.whistle_id != whistle_id:
        raise NotFound("附件不存在")
    path = attachments.path_for(settings.data_dir / "attachments", attachment.sha256)
    return FileResponse(path, media_type=attachment.media_type,
                        headers={"Cache-Control": "private, max-age=3600"})

"""受理 (intake): an operator records a phone call or message as a new case, sees the likely
duplicates beside it (one click merges), files or rejects it, and keeps the reports they took
that still wait to be filed in view."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from gridgov import clock
from gridgov.auth.policy import Action, decide
from gridgov.cases import attachments, intake, queries, service
from gridgov.cases.channels import list_channels
from gridgov.cases.models import Case
from gridgov.cases.rules import STATUS_LABELS, CaseStatus
from gridgov.cases.schemas import ReportIn, TransitionIn
from gridgov.catalog import service as catalog
from gridgov.config import Settings
from gridgov.errors import DomainError
from gridgov.grid import service as grid
from gridgov.grid.crs import CRS
from gridgov.grid.service import GridLocation
from gridgov.http import SessionDep, SettingsDep
from gridgov.org.models import Unit
from gridgov.web.forms import FormDep, FormState, SubmittedForm, shown_on, validate
from gridgov.web.pages.dispatch import queue_rows
from gridgov.web.session import WebUser, page_for
from gridgov.web.templating import render

router = APIRouter()

HOTLINE = "hotline_12345"
MAX_PHOTOS = 9
TYPE_OPTIONS = 8
RECENT_REPORTS = 50
FIELDS = ("channel", "channel_ref", "reported_at", "reporter_name", "reporter_phone", "description",
          "address", "lng", "lat", "crs", "grid_code", "type_code")
CRS_OPTIONS = [(CRS.GCJ02.value, "GCJ-02（高德、腾讯）"), (CRS.WGS84.value, "WGS-84（GPS）"),
               (CRS.BD09.value, "BD-09（百度）")]
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"

IntakeUser = Annotated[WebUser, page_for(Action.CASE_REPORT, Action.CASE_FILE)]
MergeUser = Annotated[WebUser, page_for(Action.CASE_MERGE)]


class ReportForm(ReportIn):
    """A report as typed on the page. Where it happened is checked beside the map
    (`_check_place`), so the model's own form-wide placement check is left out here."""

    @model_validator(mode="after")
    def _placed(self) -> "ReportForm":
        return self


@dataclass(frozen=True)
class Place:
    location: GridLocation
    street_name: str
    community_name: str


# ---- pages -------------------------------------------------------------------------------

@router.get("/intake")
def intake_page(request: Request, db: SessionDep, settings: SettingsDep, user: IntakeUser,
                case: int | None = None, again: bool = False) -> Response:
    return _page(request, db, settings, user, FormState(values=_defaults(settings)),
                 shown_case=case, again=again)


@router.post("/intake")
def take_report(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
                user: IntakeUser) -> Response:
    auth = user.acting(Action.CASE_REPORT)
    state = FormState(values={name: form.get(name) for name in FIELDS})
    fields: dict = {name: form.get(name) for name in FIELDS if form.get(name)}
    fields["reported_at"] = _reported_at(form.get("reported_at"), settings, state)
    photos = _photos(form, state)
    data = validate(ReportForm, fields, state)
    if not {"lng", "lat", "crs"} & state.errors.keys():
        _check_place(db, state, lng=_number(form.get("lng")), lat=_number(form.get("lat")),
                     crs=CRS(form.get("crs") or CRS.GCJ02.value), grid_code=form.get("grid_code") or None)
    if form.get("type_code"):
        _check_type(db, form.get("type_code"), state)
    if state.ok and data is not None:
        with shown_on(state, db):
            reported = intake.report(db, settings=settings, actor=auth.actor, data=data, photos=photos)
            again = "" if reported.created else "&again=1"
            return RedirectResponse(f"/intake?case={reported.case.id}{again}", status_code=303)
    return _page(request, db, settings, user, state, status_code=422)


@router.post("/intake/{case_id}/merge")
def merge_duplicate(case_id: int, request: Request, form: FormDep, db: SessionDep,
                    settings: SettingsDep, user: MergeUser) -> Response:
    """One click: the new case joins the open case it duplicates (its reporter moves there)."""
    state = FormState()
    into, version = form.get("into_case_id"), form.get("version")
    if not (into.isdigit() and version.isdigit()):
        state.add(None, "合并请求缺少目标案件或版本，请刷新页面后重试")
    else:
        data = TransitionIn(version=int(version), into_case_id=int(into))
        with shown_on(state, db):
            service.transition(db, settings=settings, principal=user.principal, case_id=case_id,
                               name="merge", data=data)
            return RedirectResponse(f"/intake?case={case_id}", status_code=303)
    return _page(request, db, settings, user, FormState(values=_defaults(settings)),
                 shown_case=case_id, action_form=state, status_code=409)


@router.get("/intake/types")
def type_options(request: Request, db: SessionDep, user: IntakeUser,
                 type_code: Annotated[str, Query(max_length=100)] = "") -> Response:
    """Type-ahead for the matter type: the catalog's search over the types in force."""
    found = catalog.search_types(db, text=type_code, limit=TYPE_OPTIONS) if type_code.strip() else []
    return render(request, "intake/_types.html", {"types": found, "query": type_code.strip()},
                  user=user)


@router.get("/intake/place")
def place_preview(request: Request, db: SessionDep, user: IntakeUser, lng: str = "", lat: str = "",
                  crs: str = CRS.GCJ02.value, grid_code: str = "") -> Response:
    """Where the point (or unit-grid code) lies as the operator places it: street, community and
    unit grid, or why it cannot be used."""
    state = FormState()
    place = None
    try:
        point, system = (_number(lng), _number(lat)), CRS(crs or CRS.GCJ02.value)
    except ValueError:
        state.add("place", "经纬度或坐标系格式不对")
    else:
        place = _check_place(db, state, lng=point[0], lat=point[1], crs=system,
                             grid_code=grid_code.strip() or None)
    nearby = intake.likely_duplicates(db, case=_probe(place)) if place is not None else []
    return render(request, "intake/_place.html", {"place": place, "nearby": nearby}, user=user,
                  form=state)


def _probe(place: Place) -> Case:
    """An unsaved, untyped case at the place, reported now: what `likely_duplicates` compares
    with while the operator is still typing (id -1 matches no stored case)."""
    return Case(id=-1, lng=place.location.lng, lat=place.location.lat, reported_at=clock.utcnow(),
                type_code=None, domain=None)


# ---- reading and checking the form ---------------------------------------------------------

def _defaults(settings: Settings) -> dict[str, str]:
    now = clock.utcnow().astimezone(settings.tz)
    return {"channel": HOTLINE, "reported_at": now.strftime(DATETIME_LOCAL), "crs": CRS.GCJ02.value}


def _number(text: str) -> float | None:
    """A typed coordinate; an unreadable one raises ValueError (the model names its field)."""
    return float(text) if text.strip() else None


def _reported_at(text: str, settings: Settings, state: FormState) -> datetime | None:
    """The time typed in a datetime-local field, in the deployment's time zone."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        state.add("reported_at", "时间格式不对")
        return None
    return value if value.tzinfo else value.replace(tzinfo=settings.tz)


def _photos(form: SubmittedForm, state: FormState) -> list[bytes]:
    """The chosen photos, each checked by its bytes; every bad one is named beside the field."""
    uploads = form.uploads("photos")
    if len(uploads) > MAX_PHOTOS:
        state.add("photos", f"最多 {MAX_PHOTOS} 张照片")
        return []
    contents = []
    for upload in uploads:
        content = upload.file.read(attachments.MAX_PHOTO_BYTES + 1)
        try:
            attachments.check(content, kind="report")
        except DomainError as exc:
            state.add("photos", f"{upload.filename}：{exc.detail}")
        else:
            contents.append(content)
    return contents


def _check_place(db: Session, state: FormState, *, lng: float | None, lat: float | None, crs: CRS,
                 grid_code: str | None) -> Place | None:
    """Where the report is placed: a point (clicked or typed) or else a unit-grid code."""
    if lng is None and lat is None and not grid_code:
        state.add("place", "请在地图上点选位置，或填写经纬度、单元网格编码")
        return None
    if (lng is None) != (lat is None):
        state.add("place", "经度和纬度须同时填写")
        return None
    try:
        location = (grid.locate(db, lng=lng, lat=lat, crs=crs) if lng is not None and lat is not None
                    else grid.locate_code(db, unit_grid_code=grid_code or ""))
    except DomainError as exc:
        state.add("place" if lng is not None else "grid_code", exc.detail)
        return None
    names = dict(db.execute(select(Unit.code, Unit.name).where(
        Unit.code.in_((location.street_code, location.community_code)))).all())
    return Place(location, names.get(location.street_code, location.street_code),
                 names.get(location.community_code, location.community_code))


def _check_type(db: Session, code: str, state: FormState) -> None:
    try:
        catalog.get_type(db, code=code)
    except DomainError as exc:
        state.add("type_code", f"{exc.detail}；请从候选中选择")


# ---- the page -------------------------------------------------------------------------------

def _readable_case(db: Session, user: WebUser, case_id: int | None) -> Case | None:
    case = db.get(Case, case_id) if case_id is not None else None
    if case is None or not decide(user.principal, Action.CASE_READ, service.target_of(db, case)).allowed:
        return None
    return case


def _page(request: Request, db: Session, settings: Settings, user: WebUser, state: FormState, *,
          shown_case: int | None = None, again: bool = False, action_form: FormState | None = None,
          status_code: int = 200) -> Response:
    case = _readable_case(db, user, shown_case)
    duplicates = (intake.likely_duplicates(db, case=case)
                  if case is not None and case.status in (CaseStatus.REPORTED, CaseStatus.FILED) else [])
    recent = queries.by_deadline(db, principal=user.principal, limit=RECENT_REPORTS,
                                 filters=queries.CaseFilter(status=[CaseStatus.REPORTED],
                                                            reported_by=user.principal.user_id))
    target = service.target_of(db, case) if case is not None else None
    channels = [c for c in list_channels(db) if not c.public]
    channels.sort(key=lambda c: c.code != HOTLINE)
    return render(request, "intake/page.html", {
        "channels": channels, "crs_options": CRS_OPTIONS, "max_photos": MAX_PHOTOS,
        "case": case, "again": again, "duplicates": duplicates, "status_labels": STATUS_LABELS,
        "recent": queue_rows(db, settings, recent),
        "may_file": target is not None and user.may(Action.CASE_FILE, target),
        "may_merge": target is not None and user.may(Action.CASE_MERGE, target),
        "merged_into": db.get(Case, case.merged_into_id) if case and case.merged_into_id else None,
        "action_form": action_form or FormState(),
        "may_report": user.may(Action.CASE_REPORT),
    }, user=user, form=state, status_code=status_code)

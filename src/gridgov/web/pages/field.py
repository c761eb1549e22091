"""The field page (巡查上报), phone first: supervisors, lane chiefs and housekeepers report
a problem with a photo and their position, handle a simple one on the spot (立即处置, L1) with
before and after photos, and find the handled cases near them waiting for verification (核查)."""

import math
from dataclasses import dataclass

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from gridgov.auth.policy import Action, Principal, Role, Target
from gridgov.cases import attachments, intake, queries
from gridgov.cases import service as cases
from gridgov.cases.models import Case, CaseClock, CaseEvent
from gridgov.cases.rules import CaseStatus, Node
from gridgov.cases.schemas import ReportIn
from gridgov.catalog import service as catalog
from gridgov.errors import InvalidInput, NotFound
from gridgov.grid import service as grid
from gridgov.grid.crs import CRS, to_gcj02
from gridgov.grid.rules import OutsideManagedArea
from gridgov.grid.service import GridLocation
from gridgov.http import SessionDep, SettingsDep
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.web.forms import FormDep, FormState, SubmittedForm, shown_on, validate
from gridgov.web.pages.department import CaseRow, case_rows
from gridgov.web.session import WebUser, page_for
from gridgov.web.templating import render

router = APIRouter()
FIELD_USER = page_for(Action.CASE_SELF_HANDLE)
SELF_HANDLE = "self_handle"
TASKS_SHOWN = 50
# The patrol channel of a grassroots worker, by the kind of unit they work in.
GRASSROOTS_CHANNELS = {
    UnitKind.COMMUNITY: "housekeeper_patrol",  # 小巷管家、社区工作者
    UnitKind.STREET: "lane_chief_patrol",  # 街巷长
    UnitKind.SECTION: "lane_chief_patrol",
    UnitKind.OUTSIDE_BODY: "property_report",  # 物业企业
}


def patrol_channel(principal: Principal) -> str:
    if Role.SUPERVISOR in principal.roles:
        return "supervisor_patrol"
    return GRASSROOTS_CHANNELS.get(principal.unit.kind, "micro_grid")


class FieldReport(BaseModel):
    description: str = Field(min_length=2, max_length=4000)
    address: str | None = Field(default=None, max_length=300)
    type_code: str | None = Field(default=None, max_length=16)
    lng: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    crs: CRS = CRS.GCJ02


def _photo(form: SubmittedForm, name: str, state: FormState) -> bytes | None:
    """The photo chosen under `name`, checked by its bytes; None with the problem beside the field."""
    chosen = form.uploads(name)
    if not chosen:
        state.add(name, "请拍摄或选择一张照片")
        return None
    content = chosen[0].file.read(attachments.MAX_PHOTO_BYTES + 1)
    try:
        attachments.check(content, kind="before")
    except InvalidInput as exc:
        state.add(name, exc.detail)
        return None
    return content


def _place(db: Session, data: FieldReport, state: FormState) -> GridLocation | None:
    if data.lng is None or data.lat is None:
        state.add("location", "请点“使用当前位置”或在地图上点选问题位置")
        return None
    try:
        return grid.locate(db, lng=data.lng, lat=data.lat, crs=data.crs)
    except OutsideManagedArea:
        state.add("location", "该位置不在本区管辖范围内，请重新定位")
        return None


def _may_self_handle_at(db: Session, user: WebUser, place: GridLocation) -> bool:
    ids = dict(db.execute(select(Unit.code, Unit.id).where(
        Unit.code.in_((place.street_code, place.community_code)))).all())
    target = Target(street_id=ids.get(place.street_code), community_id=ids.get(place.community_code))
    return user.may(Action.CASE_SELF_HANDLE, target)


def _known_type(db: Session, code: str | None, state: FormState, *, required: bool) -> None:
    if not code:
        if required:
            state.add("type_code", "立即处置须选定事项类型")
        return
    try:
        catalog.get_type(db, code=code)
    except NotFound as exc:
        state.add("type_code", exc.detail)


def _blank_to_none(form: SubmittedForm, *names: str) -> dict[str, str | None]:
    return {name: form.get(name) or None for name in names}


@router.post("/field")
def submit(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
           user: WebUser = FIELD_USER) -> Response:
    """Report a problem (mode=report), or report and close it as handled on the spot (mode=self_handle)."""
    handling = form.get("mode") == SELF_HANDLE
    state = FormState(values=dict(form.fields))
    data = validate(FieldReport, {"description": form.get("description"),
                                  **_blank_to_none(form, "address", "type_code", "lng", "lat"),
                                  "crs": form.get("crs") or CRS.GCJ02}, state)
    photo = _photo(form, "photo", state)
    after = _photo(form, "after_photo", state) if handling else None
    if handling and len(form.get("result")) < 2:
        state.add("result", "请写明现场处置情况")
    place = _place(db, data, state) if data else None
    if data:
        _known_type(db, data.type_code, state, required=handling)
    if handling and place and not _may_self_handle_at(db, user, place):
        state.add("location", "该位置不在您的责任区内，不能立即处置；请直接上报")
    if state.ok:
        with shown_on(state, db):
            report = ReportIn(channel=patrol_channel(user.principal), description=data.description,
                              address=data.address, lng=data.lng, lat=data.lat, crs=data.crs,
                              type_code=data.type_code, reporter_name=user.display_name)
            actor = user.acting(Action.CASE_REPORT).actor
            if handling:
                case = cases.handle_on_the_spot(db, settings=settings, principal=user.principal, actor=actor,
                                                data=report, before=photo, after=after,
                                                result=form.get("result"))
            else:
                case = intake.report(db, settings=settings, actor=actor, data=report, photos=[photo]).case
            outcome = "handled" if handling else "reported"
            return RedirectResponse(f"/field?{outcome}={case.number}", status_code=303)
    return _page(request, db, user, state=state, near=None, status_code=422)


def _type_option(matter) -> tuple[str, str]:
    return matter.code, f"{matter.name}（{matter.code}）"


def _type_options(db: Session, chosen: str | None) -> list[tuple[str, str]]:
    """The type chosen before a refused submission, so that it stays selected."""
    try:
        return [_type_option(catalog.get_type(db, code=chosen))] if chosen else []
    except NotFound:
        return []


@router.get("/field/types")
def type_choices(request: Request, db: SessionDep, type_q: str = "", user: WebUser = FIELD_USER) -> Response:
    """The select of matter types matching the search words (for the report form)."""
    found = catalog.search_types(db, text=type_q[:100]) if type_q.strip() else []
    return render(request, "field/_types.html", {"types": [_type_option(t) for t in found]},
                  user=user)


@dataclass(frozen=True)
class Task:
    row: CaseRow
    distance_m: float | None
    result: str | None


def _distance_order(lng: float, lat: float):
    """Squared local distance (east-west shrunk by the latitude), computable in SQL."""
    shrink = math.cos(math.radians(lat)) ** 2
    return (Case.lng - lng) * (Case.lng - lng) * shrink + (Case.lat - lat) * (Case.lat - lat)


def verification_tasks(db: Session, principal: Principal, *, near: tuple[float, float] | None) -> list[Task]:
    """Handled cases the user may verify: nearest first from `near` (GCJ-02), else soonest deadline."""
    query = select(Case).where(queries.visible(principal, Action.CASE_VERIFY), Case.status == CaseStatus.HANDLED)
    if near:
        query = query.order_by(_distance_order(*near), Case.id)
    else:
        deadline = (select(func.min(CaseClock.deadline_at)).where(
            CaseClock.case_id == Case.id, CaseClock.node == Node.VERIFICATION, CaseClock.finished_at.is_(None))
            .correlate(Case).scalar_subquery())
        query = query.order_by(deadline, Case.id)
    found = list(db.scalars(query.limit(TASKS_SHOWN)))
    results = dict(db.execute(select(CaseEvent.case_id, CaseEvent.payload).where(
        CaseEvent.case_id.in_([c.id for c in found]), CaseEvent.transition == "report_result")
        .order_by(CaseEvent.id)).all()) if found else {}
    return [Task(row, intake.distance_m(near[0], near[1], row.case.lng, row.case.lat) if near else None,
                 (results.get(row.case.id) or {}).get("result"))
            for row in case_rows(db, found, node_of=lambda case: Node.VERIFICATION)]


def _page(request: Request, db: Session, user: WebUser, *, state: FormState | None,
          near: tuple[float, float] | None, status_code: int = 200) -> Response:
    may_verify = user.may(Action.CASE_VERIFY)
    tasks = verification_tasks(db, user.principal, near=near) if may_verify else []
    return render(request, "field/page.html", {
        "may_verify": may_verify, "tasks": tasks, "near": near,
        "types": _type_options(db, state.values.get("type_code") if state else None),
        "reported": request.query_params.get("reported"), "handled": request.query_params.get("handled"),
    }, user=user, form=state, status_code=status_code)


@router.get("/field")
def field_page(request: Request, db: SessionDep, lng: float | None = None, lat: float | None = None,
               crs: CRS = CRS.WGS84, user: WebUser = FIELD_USER) -> Response:
    """The report form and the verification tasks (nearest first when the phone's position is given)."""
    near = to_gcj02(lng, lat, crs) if lng is not None and lat is not None else None
    return _page(request, db, user, state=None, near=near)

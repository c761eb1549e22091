"""The public pages, no sign-in needed: 随手拍 (report a problem with photos and its place),
follow a report by its tracking code, rate the handling once the case is closed.

A signed-in citizen (role public) reports as itself and sees its own reports on /report.
Reports and ratings are limited per client address and hour (`gridgov.web.ratelimit`).
"""

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from gridgov.audit.rules import ANONYMOUS_ACTOR
from gridgov.auth.policy import Action, Role
from gridgov.cases import attachments, intake, views
from gridgov.cases.models import Case, CaseReporter
from gridgov.cases.rules import CaseStatus
from gridgov.cases.schemas import ReportIn
from gridgov.errors import InvalidInput
from gridgov.feedback import service as feedback
from gridgov.feedback.public_api import public_feedback
from gridgov.feedback.rules import SATISFACTION_LABELS
from gridgov.feedback.schemas import RatingIn
from gridgov.grid import service as grid
from gridgov.grid.crs import CRS
from gridgov.grid.rules import OutsideManagedArea
from gridgov.http import SessionDep, SettingsDep
from gridgov.web import ratelimit
from gridgov.web.forms import FormDep, FormState, SubmittedForm, shown_on
from gridgov.web.session import OptionalWebUserDep, WebUser
from gridgov.web.templating import render

router = APIRouter()

CHANNEL = "snapshot"  # 随手拍 in the channel registry (cases/channels.py)
MAX_PHOTOS = 4
DESCRIPTION_LENGTH = (5, 500)
ADDRESS_MAX = 200
NAME_MAX = 50
COMMENT_MAX = 500
MY_REPORTS_SHOWN = 50
# A mainland mobile number, or a landline with its area code.
PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")
SUBMISSION = re.compile(r"[0-9a-f]{32}")
CRS_CHOICES = [(CRS.GCJ02.value, "GCJ-02（地图点选、高德、腾讯）"), (CRS.WGS84.value, "WGS-84（手机定位、GPS）"),
               (CRS.BD09.value, "BD-09（百度地图）")]
RATING_CHOICES = [(item.value, label) for item, label in SATISFACTION_LABELS.items()]
REPORT_FIELDS = ("description", "address", "reporter_name", "reporter_phone", "lng", "lat", "crs")


# ---- 随手拍 -----------------------------------------------------------------------------

@router.get("/report")
def report_page(request: Request, db: SessionDep, user: OptionalWebUserDep) -> Response:
    state = FormState(values={"crs": CRS.GCJ02.value, "submission": secrets.token_hex(16)})
    return _report_form(request, db, user, state)


@router.post("/report")
def submit_report(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
                  user: OptionalWebUserDep) -> Response:
    state = FormState(values={name: form.get(name) for name in (*REPORT_FIELDS, "submission")})
    values = state.values
    photos = _photos(form, state)
    _check_contact_and_text(values, state)
    located = _place(db, values, state)
    if not state.ok or located is None:
        return _report_form(request, db, user, state, status_code=422)
    refusal = ratelimit.take(db, settings=settings, submission=ratelimit.Submission.REPORT,
                             address=ratelimit.client_address(request))
    if refusal is not None:
        return _too_many(request, user, refusal)
    lng, lat, crs = located
    data = ReportIn(channel=CHANNEL, channel_ref=_reference(values), description=values["description"],
                    address=values["address"] or None, reporter_name=values["reporter_name"] or None,
                    reporter_phone=values["reporter_phone"] or None, lng=lng, lat=lat, crs=crs)
    actor, reporter_user_id = ANONYMOUS_ACTOR, None
    if user is not None and user.may(Action.CASE_REPORT):
        authorization = user.acting(Action.CASE_REPORT)
        actor = authorization.actor
        reporter_user_id = user.principal.user_id if authorization.role is Role.PUBLIC else None
    with shown_on(state, db):
        reported = intake.report(db, settings=settings, actor=actor, data=data,
                                 reporter_user_id=reporter_user_id, photos=photos)
        return RedirectResponse(f"/report/done/{reported.case.tracking_code}", status_code=303)
    return _report_form(request, db, user, state, status_code=422)


@router.get("/report/done/{code}")
def report_done(code: str, request: Request, db: SessionDep, user: OptionalWebUserDep) -> Response:
    case = _tracked(db, code)
    if case is None:
        return _unknown_code(request, user, code)
    return render(request, "public/reported.html", {"case": case}, user=user)


def _report_form(request: Request, db: Session, user: WebUser | None, state: FormState,
                 status_code: int = 200) -> Response:
    context = {"crs_choices": CRS_CHOICES, "max_photos": MAX_PHOTOS,
               "max_photo_mb": attachments.MAX_PHOTO_BYTES // 1024 // 1024,
               "description_length": DESCRIPTION_LENGTH, "my_reports": _my_reports(db, user)}
    return render(request, "public/report.html", context, user=user, form=state,
                  status_code=status_code, headers={"Cache-Control": "no-store"})


def _photos(form: SubmittedForm, state: FormState) -> list[bytes]:
    """The chosen photos, each checked by its bytes (type and size), or problems in `state`."""
    uploads = form.uploads("photos")
    if not uploads:
        state.add("photos", "请拍摄或选择至少 1 张照片")
    if len(uploads) > MAX_PHOTOS:
        state.add("photos", f"最多上传 {MAX_PHOTOS} 张照片（已选 {len(uploads)} 张）")
        return []
    contents = []
    for number, upload in enumerate(uploads, start=1):
        content = upload.file.read(attachments.MAX_PHOTO_BYTES + 1)
        try:
            attachments.check(content, kind="report")
        except InvalidInput as exc:
            state.add("photos", f"第 {number} 张（{upload.filename}）：{exc.detail}")
            continue
        contents.append(content)
    return contents


def _check_contact_and_text(values: dict[str, str], state: FormState) -> None:
    low, high = DESCRIPTION_LENGTH
    if len(values["description"]) < low:
        state.add("description", f"请简要描述问题（至少 {low} 个字）")
    elif len(values["description"]) > high:
        state.add("description", f"问题描述最多 {high} 字（现为 {len(values['description'])} 字）")
    if len(values["address"]) > ADDRESS_MAX:
        state.add("address", f"位置说明最多 {ADDRESS_MAX} 字")
    if len(values["reporter_name"]) > NAME_MAX:
        state.add("reporter_name", f"称呼最多 {NAME_MAX} 字")
    values["reporter_phone"] = re.sub(r"[\s()（）]", "", values["reporter_phone"])
    if values["reporter_phone"] and not PHONE.fullmatch(values["reporter_phone"]):
        state.add("reporter_phone", "请填写 11 位手机号，或带区号的固定电话（如 010-65123456）")


def _place(db: Session, values: dict[str, str], state: FormState) -> tuple[float, float, CRS] | None:
    """The chosen position (in its coordinate system) if it lies in the district."""
    if not values["lng"] or not values["lat"]:
        state.add("place", "请点“使用当前位置”，或在地图上点选问题所在的位置")
        return None
    try:
        lng, lat, crs = float(values["lng"]), float(values["lat"]), CRS(values["crs"] or "gcj02")
    except ValueError:
        state.add("place", "经纬度或坐标系格式不对")
        return None
    if not (math.isfinite(lng) and math.isfinite(lat) and -180 <= lng <= 180 and -90 <= lat <= 90):
        state.add("place", "经纬度超出范围")
        return None
    try:
        grid.locate(db, lng=lng, lat=lat, crs=crs)
    except OutsideManagedArea:
        state.add("place", "该位置不在东城区范围内，请重新选择问题所在的位置")
        return None
    return lng, lat, crs


def _reference(values: dict[str, str]) -> str:
    """The report's 随手拍 reference: the same form sent twice with the same content (a double
    tap, a resend) files one case; different content always files a new one."""
    token = values["submission"] if SUBMISSION.fullmatch(values["submission"]) else secrets.token_hex(16)
    content = "|".join([token, *(values[name] for name in REPORT_FIELDS)])
    return "web-" + hashlib.sha256(content.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class MyReport:
    tracking_code: str
    description: str
    status_label: str
    reported_at: datetime


def _my_reports(db: Session, user: WebUser | None) -> list[MyReport] | None:
    """A signed-in citizen's own reports (the cases they reported, merged since or not), newest first."""
    if user is None or Role.PUBLIC not in user.roles:
        return None
    cases = db.scalars(
        select(Case).join(CaseReporter, CaseReporter.original_case_id == Case.id)
        .where(CaseReporter.user_id == user.principal.user_id)
        .order_by(Case.id.desc()).limit(MY_REPORTS_SHOWN))
    return [MyReport(c.tracking_code, c.description, CaseStatus(c.status).label, c.reported_at)
            for c in cases]


# ---- tracking and rating ----------------------------------------------------------------

@router.get("/track")
def track_form(request: Request, user: OptionalWebUserDep, code: str | None = None) -> Response:
    if code is None or not code.strip():
        return render(request, "public/track_form.html", user=user)
    if not _normal(code):
        return _unknown_code(request, user, code)
    return RedirectResponse(f"/track/{_normal(code)}", status_code=303)


@router.get("/track/{code}")
def track(code: str, request: Request, db: SessionDep, user: OptionalWebUserDep,
          rated: bool = False) -> Response:
    case = _tracked(db, code)
    if case is None:
        return _unknown_code(request, user, code)
    return _track_page(request, db, user, case, FormState(), rated=rated)


@router.post("/track/{code}/rating")
def rate(code: str, request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
         user: OptionalWebUserDep) -> Response:
    case = _tracked(db, code)
    if case is None:
        return _unknown_code(request, user, code)
    state = FormState(values={"rating": form.get("rating"), "comment": form.get("comment")})
    if state.values["rating"] not in dict(RATING_CHOICES):
        state.add("rating", "请选择满意、基本满意或不满意")
    if len(state.values["comment"]) > COMMENT_MAX:
        state.add("comment", f"意见最多 {COMMENT_MAX} 字")
    if not state.ok:
        return _track_page(request, db, user, case, state, status_code=422)
    refusal = ratelimit.take(db, settings=settings, submission=ratelimit.Submission.RATING,
                             address=ratelimit.client_address(request))
    if refusal is not None:
        return _too_many(request, user, refusal)
    with shown_on(state, db):
        feedback.rate(db, tracking_code=case.tracking_code,
                      data=RatingIn(rating=state.values["rating"], comment=state.values["comment"] or None))
        return RedirectResponse(f"/track/{case.tracking_code}?rated=true", status_code=303)
    return _track_page(request, db, user, case, state, status_code=409)


def _normal(code: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", code).upper()[:16]


def _tracked(db: Session, code: str) -> Case | None:
    return db.scalar(select(Case).where(Case.tracking_code == _normal(code)))


def _unknown_code(request: Request, user: WebUser | None, code: str) -> Response:
    state = FormState(values={"code": _normal(code)})
    state.add("code", "没有找到这个查询码对应的上报，请核对后重新输入（查询码共 10 位，不含 0、1、I、O）")
    return render(request, "public/track_form.html", user=user, form=state, status_code=404)


def _track_page(request: Request, db: Session, user: WebUser | None, case: Case, state: FormState, *,
                rated: bool = False, status_code: int = 200) -> Response:
    context = {"case": views.public_out(db, case), "feedback": public_feedback(case.tracking_code, db),
               "rating_choices": RATING_CHOICES,
               "comment_max": COMMENT_MAX, "rated": rated}
    return render(request, "public/track.html", context, user=user, form=state, status_code=status_code)


def _too_many(request: Request, user: WebUser | None, refusal: ratelimit.Refusal) -> Response:
    return render(request, "public/too_many.html", {"refusal": refusal}, user=user, status_code=429,
                  headers={"Retry-After": str(refusal.retry_after_seconds)})

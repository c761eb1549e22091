"""系统管理 · 吹哨情形: the situations in which a street may whistle, by area; creating,
changing and retiring one; the workbook both ways (the export is the API's download)."""

import re

from fastapi import APIRouter, Request

from gridgov.auth.policy import Action
from gridgov.http import SessionDep
from gridgov.whistle import situations as service
from gridgov.whistle.models import WhistleSituation
from gridgov.whistle.rules import AREA_LABELS
from gridgov.whistle.schemas import SituationBody, SituationIn
from gridgov.web.forms import FormDep, FormState, shown_on, validate
from gridgov.web.pages.admin import admin_page, done, excel_import
from gridgov.web.session import WebUser, page_for

router = APIRouter(prefix="/admin/situations")
MANAGE = page_for(Action.CONFIG_MANAGE)
AREA_OPTIONS = [(area.value, label) for area, label in AREA_LABELS.items()]
UNIT_OPTIONS = [(unit.value, label) for unit, label in service.UNIT_LABELS.items()]
TEXT_FIELDS = ("area", "name", "description", "start_standard", "department_codes",
               "legal_basis")
LIMIT_VALUE, LIMIT_UNIT = "time_limit.value", "time_limit.unit"
CODE_SEPARATORS = re.compile(r"[、,，;；\s]+")
IMPORT_COUNTS = [("created", "新建"), ("updated", "更新"), ("unchanged", "未变")]


def _list_page(request: Request, db, user: WebUser, *, area: str = "", status: str = "current",
               text: str = "", outcome=None, upload: FormState | None = None):
    upload = upload or FormState()
    status = status if status in ("current", "retired", "all") else "current"
    area = area if area in AREA_LABELS else ""
    found = service.list_situations(db, area=area or None, status=status, text=text or None)
    failed = not upload.ok or (outcome is not None and outcome.refused)
    return admin_page(request, "admin/situations.html", {
        "situations": service.situations_out(db, found), "counts": service.counts_by_area(db),
        "area_options": AREA_OPTIONS, "filters": {"area": area, "status": status, "text": text},
        "outcome": outcome, "import_counts": IMPORT_COUNTS,
    }, user=user, form=upload, status_code=422 if failed else 200)


@router.get("")
def situations(request: Request, db: SessionDep, area: str = "", status: str = "current",
               text: str = "", user: WebUser = MANAGE):
    return _list_page(request, db, user, area=area, status=status, text=text)


@router.post("/import")
def import_situations(request: Request, form: FormDep, db: SessionDep, user: WebUser = MANAGE):
    actor = user.acting(Action.CONFIG_MANAGE).actor
    upload = FormState()
    outcome = excel_import(form, db, upload, lambda content: service.import_situations(
        db, actor=actor, data=service.parse_workbook(content)).model_dump())
    return _list_page(request, db, user, outcome=outcome, upload=upload)


def _body(form) -> dict:
    data = {name: form.get(name) for name in TEXT_FIELDS}
    data["department_codes"] = [c for c in CODE_SEPARATORS.split(data["department_codes"]) if c]
    data["time_limit"] = {"value": form.get(LIMIT_VALUE), "unit": form.get(LIMIT_UNIT)}
    return data


def _form_page(request: Request, user: WebUser, state: FormState,
               situation: WhistleSituation | None = None, retire_form: FormState | None = None):
    retire_form = retire_form or FormState()
    return admin_page(request, "admin/situation_form.html", {
        "situation": situation, "area_options": AREA_OPTIONS, "unit_options": UNIT_OPTIONS,
        "retire_form": retire_form,
    }, user=user, form=state, status_code=200 if state.ok and retire_form.ok else 422)


def _values(form) -> dict:
    return {name: form.get(name) for name in ("code", *TEXT_FIELDS, LIMIT_VALUE, LIMIT_UNIT)}


@router.get("/new")
def new_situation_form(request: Request, area: str = "", user: WebUser = MANAGE):
    return _form_page(request, user, FormState(values={"area": area, LIMIT_UNIT: "working_hours"}))


@router.post("/new")
def create_situation(request: Request, form: FormDep, db: SessionDep, user: WebUser = MANAGE):
    state = FormState(values=_values(form))
    data = validate(SituationIn, {"code": form.get("code"), **_body(form)}, state)
    if data is not None:
        with shown_on(state, db):
            service.create_situation(db, actor=user.acting(Action.CONFIG_MANAGE).actor, data=data)
            return done(f"/admin/situations/{data.code}", "created")
    return _form_page(request, user, state)


def _stored_values(situation: WhistleSituation) -> dict:
    return {"code": situation.code, "area": situation.area, "name": situation.name,
            "description": situation.description, "start_standard": situation.start_standard,
            "department_codes": "、".join(situation.department_codes),
            "legal_basis": situation.legal_basis, LIMIT_VALUE: situation.limit_value,
            LIMIT_UNIT: situation.limit_unit}


@router.get("/{code}")
def edit_situation_form(request: Request, code: str, db: SessionDep, user: WebUser = MANAGE):
    situation = service.get_situation(db, code=code)
    return _form_page(request, user, FormState(values=_stored_values(situation)), situation)


@router.post("/{code}")
def update_situation(request: Request, code: str, form: FormDep, db: SessionDep,
                     user: WebUser = MANAGE):
    situation = service.get_situation(db, code=code)
    state = FormState(values=_values(form))
    body = {**_body(form), "demo": situation.demo, "active": situation.active}
    data = validate(SituationBody, body, state)
    if data is not None:
        with shown_on(state, db):
            service.update_situation(db, actor=user.acting(Action.CONFIG_MANAGE).actor, code=code,
                                     data=data)
            return done(f"/admin/situations/{code}", "saved")
    return _form_page(request, user, state, situation)


@router.post("/{code}/retire")
def retire_situation(request: Request, code: str, form: FormDep, db: SessionDep,
                     user: WebUser = MANAGE):
    situation = service.get_situation(db, code=code)
    retire_form = FormState(values={"reason": form.get("reason")})
    if not form.get("reason"):
        retire_form.add("reason", "请填写停用原因")
    else:
        with shown_on(retire_form, db):
            service.retire_situation(db, actor=user.acting(Action.CONFIG_MANAGE).actor, code=code,
                                     reason=form.get("reason"))
            return done(f"/admin/situations/{code}", "retired")
    return _form_page(request, user, FormState(values=_stored_values(situation)), situation,
                      retire_form)

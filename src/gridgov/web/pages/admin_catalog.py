"""系统管理 · 事项目录: search the matter types (domain → class → type), a type's versions and
time limits, a new version or a new type, retiring one, and the workbook both ways (the
export is the API's download; the import posts here and shows its report)."""

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request

from gridgov.auth.policy import Action
from gridgov.catalog import excel, service
from gridgov.catalog.excel import LIMIT_UNIT_LABELS, URGENCY_LABELS
from gridgov.catalog.rules import CATEGORY_NAMES, DOMAIN_NAMES, GRADES
from gridgov.catalog.schemas import MatterTypeBody, MatterTypeIn
from gridgov.http import SessionDep
from gridgov.web.forms import FormDep, FormState, shown_on, validate
from gridgov.web.pages.admin import admin_page, done, excel_import, optional, status_of
from gridgov.web.session import WebUser, page_for

router = APIRouter(prefix="/admin/catalog")
MANAGE = page_for(Action.CONFIG_MANAGE)
PAGE_SIZE = 50
TEXT_FIELDS = ("name", "domain", "category", "major_class", "minor_class", "filing_condition",
               "closing_condition", "urgency", "default_grade", "change_note")
LIMIT_VALUE, LIMIT_UNIT = "time_limit.value", "time_limit.unit"
IMPORT_COUNTS = [("types_created", "新建事项"), ("types_versioned", "新版本"),
                 ("types_unchanged", "未变事项"), ("rules_created", "新建规则"),
                 ("rules_updated", "更新规则"), ("rules_unchanged", "未变规则"),
                 ("classes_written", "分类代码"), ("areas_written", "责任区域")]


def choices() -> dict:
    """The select options every catalog form uses."""
    return {
        "domain_options": list(DOMAIN_NAMES.items()),
        "category_options": list(CATEGORY_NAMES.items()),
        "urgency_options": list(URGENCY_LABELS.items()),
        "grade_options": [(grade, grade) for grade in GRADES],
        "unit_options": list(LIMIT_UNIT_LABELS.items()),
    }


def _list_page(request: Request, db, user: WebUser, *, text: str = "", domain: str = "",
               category: str = "", status: str = "current", offset: int = 0, outcome=None,
               upload: FormState | None = None):
    upload = upload or FormState()
    status = status if status in ("current", "retired", "all") else "current"
    items, total = service.list_types(
        db, text=optional(text), domain=domain if domain in DOMAIN_NAMES else None,
        category=category if category in CATEGORY_NAMES else None, status=status,
        limit=PAGE_SIZE, offset=max(offset, 0))
    classes = {(c.domain, c.category, c.code): c.name for c in service.list_classes(db)}
    failed = not upload.ok or (outcome is not None and outcome.refused)
    return admin_page(request, "admin/catalog.html", {
        "items": items, "total": total, "offset": max(offset, 0), "page_size": PAGE_SIZE,
        "filters": {"text": text, "domain": domain, "category": category, "status": status},
        "classes": classes, "domain_names": DOMAIN_NAMES, "category_names": CATEGORY_NAMES,
        "stats": service.stats(db), "outcome": outcome, "import_counts": IMPORT_COUNTS,
    }, user=user, form=upload, status_code=422 if failed else 200)


@router.get("")
def catalog(request: Request, db: SessionDep, text: str = "", domain: str = "",
            category: str = "", status: str = "current", offset: int = 0,
            user: WebUser = MANAGE):
    return _list_page(request, db, user, text=text, domain=domain, category=category,
                      status=status, offset=offset)


@router.post("/import")
def import_catalog(request: Request, form: FormDep, db: SessionDep, user: WebUser = MANAGE):
    actor = user.acting(Action.CONFIG_MANAGE).actor
    upload = FormState()
    outcome = excel_import(form, db, upload, lambda content: service.import_catalog(
        db, actor=actor, data=excel.parse_catalog(content)).model_dump())
    return _list_page(request, db, user, outcome=outcome, upload=upload)


def _type_data(form, state: FormState) -> dict:
    """The form as the API's type body; a time limit that is not a number is marked here."""
    data = {name: form.get(name) for name in TEXT_FIELDS}
    data["change_note"] = optional(data["change_note"])
    data["keywords"] = [w for w in form.get("keywords").replace("，", "、").replace(",", "、")
                        .split("、") if w.strip()]
    value = form.get(LIMIT_VALUE)
    try:
        Decimal(value)
    except InvalidOperation:
        state.add(LIMIT_VALUE, "请填写时长（数字）")
        value = "1"
    data["time_limit"] = {"value": value, "unit": form.get(LIMIT_UNIT)}
    return data


def _values(form) -> dict:
    return {name: form.get(name) for name in (*TEXT_FIELDS, "code", "keywords", LIMIT_VALUE,
                                              LIMIT_UNIT)}


def _version_values(version) -> dict:
    return {"name": version.name, "domain": version.domain, "category": version.category,
            "major_class": version.major_class, "minor_class": version.minor_class,
            "keywords": "、".join(version.keywords), "filing_condition": version.filing_condition,
            "closing_condition": version.closing_condition, "urgency": version.urgency,
            "default_grade": version.default_grade,
            LIMIT_VALUE: f"{version.time_limit.value.normalize():f}",
            LIMIT_UNIT: version.time_limit.unit.value}


def _type_page(request: Request, db, user: WebUser, code: str, state: FormState,
               retire_form: FormState | None = None):
    versions = service.type_history(db, code=code)
    current = versions[0] if versions[0].valid_to is None else None
    if not state.values:
        state.values = _version_values(versions[0])
    retire_form = retire_form or FormState()
    return admin_page(request, "admin/catalog_type.html", {
        "code": code, "versions": versions, "current": current, "retire_form": retire_form,
        "domain_names": DOMAIN_NAMES, "rules": service.list_rules(db, type_code=code)[0],
        **choices(),
    }, user=user, form=state, status_code=422 if not (state.ok and retire_form.ok) else 200)


@router.get("/types/new")
def new_type_form(request: Request, user: WebUser = MANAGE):
    state = FormState(values={"domain": "urban_management", "category": "event",
                              "urgency": "normal", "default_grade": "L2",
                              LIMIT_UNIT: "working_hours"})
    return admin_page(request, "admin/catalog_new.html", choices(), user=user, form=state)


@router.post("/types/new")
def create_type(request: Request, form: FormDep, db: SessionDep, user: WebUser = MANAGE):
    state = FormState(values=_values(form))
    data = validate(MatterTypeIn, {"code": form.get("code"), **_type_data(form, state)}, state)
    if data is not None and state.ok:
        with shown_on(state, db):
            service.create_type(db, actor=user.acting(Action.CONFIG_MANAGE).actor, data=data)
            return done(f"/admin/catalog/types/{data.code}", "created")
    return admin_page(request, "admin/catalog_new.html", choices(), user=user, form=state,
                      status_code=status_of(state))


@router.get("/types/{code}")
def type_detail(request: Request, code: str, db: SessionDep, user: WebUser = MANAGE):
    return _type_page(request, db, user, code, FormState())


@router.post("/types/{code}")
def update_type(request: Request, code: str, form: FormDep, db: SessionDep,
                user: WebUser = MANAGE):
    service.type_history(db, code=code)  # 404 page for an unknown code
    state = FormState(values=_values(form))
    data = validate(MatterTypeBody, _type_data(form, state), state)
    if data is not None and state.ok:
        with shown_on(state, db):
            service.update_type(db, actor=user.acting(Action.CONFIG_MANAGE).actor, code=code,
                                data=data)
            return done(f"/admin/catalog/types/{code}", "saved")
    return _type_page(request, db, user, code, state)


@router.post("/types/{code}/retire")
def retire_type(request: Request, code: str, form: FormDep, db: SessionDep,
                user: WebUser = MANAGE):
    retire_form = FormState(values={"reason": form.get("reason")})
    if not form.get("reason"):
        retire_form.add("reason", "请填写停用原因")
    else:
        with shown_on(retire_form, db):
            service.retire_type(db, actor=user.acting(Action.CONFIG_MANAGE).actor, code=code,
                                reason=form.get("reason"))
            return done(f"/admin/catalog/types/{code}", "retired")
    return _type_page(request, db, user, code, FormState(), retire_form)

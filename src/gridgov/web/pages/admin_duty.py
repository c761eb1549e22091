"""系统管理 · 职责清单: the duty rules (type × street / owner / area → responsible unit) with
filters, creating, changing and deactivating a rule, and asking the duty matrix who handles
a type at a street or grid."""

from fastapi import APIRouter, Request

from gridgov.auth.policy import Action
from gridgov.catalog import service
from gridgov.catalog.models import DutyRuleRow
from gridgov.catalog.schemas import DutyRuleIn, DutyRulePatch
from gridgov.errors import DomainError
from gridgov.http import SessionDep
from gridgov.web.forms import FormDep, FormState, shown_on, validate
from gridgov.web.pages.admin import admin_page, done, optional, status_of
from gridgov.web.session import WebUser, page_for

router = APIRouter(prefix="/admin/duty")
MANAGE = page_for(Action.CONFIG_MANAGE)
PAGE_SIZE = 100
STREET_CODE_LENGTH = 9
RULE_FIELDS = ("type_code", "street_code", "owner_code", "area", "unit_code",
               "per_street_field_unit", "note", "active")
YES_NO = [("false", "否"), ("true", "是")]
ACTIVE_OPTIONS = [("true", "启用"), ("false", "停用")]


def street_of(place: str) -> str:
    """The street code of a street code or of any grid code below it (its first 9 digits)."""
    return place[:STREET_CODE_LENGTH] if place.isdigit() else place


def _ask(db, values: dict) -> tuple[FormState, object]:
    """The duty matrix's answer for the query fields, or the problem next to a field."""
    state = FormState(values=values)
    if not values["ask_type"]:
        state.add("ask_type", "请填写事项编码")
    if not values["place"]:
        state.add("place", "请填写街道编码或网格编码")
    if not state.ok:
        return state, None
    try:
        return state, service.resolve_duty(
            db, type_code=values["ask_type"], street_code=street_of(values["place"]),
            owner_code=optional(values["owner"]), area=optional(values["area"]))
    except DomainError as exc:
        state.add("ask_type" if "事项" in exc.detail else "place", exc.detail)
        return state, None


@router.get("")
def duty(request: Request, db: SessionDep, type_code: str = "", unit_code: str = "",
         active: str = "", offset: int = 0, ask_type: str = "", place: str = "",
         owner: str = "", area: str = "", user: WebUser = MANAGE):
    rules, total = service.list_rules(
        db, type_code=optional(type_code), unit_code=optional(unit_code),
        active={"true": True, "false": False}.get(active), limit=PAGE_SIZE,
        offset=max(offset, 0))
    query = FormState()
    answer = None
    if ask_type or place:
        query, answer = _ask(db, {"ask_type": ask_type, "place": place, "owner": owner,
                                  "area": area})
    return admin_page(request, "admin/duty.html", {
        "rules": rules, "total": total, "offset": max(offset, 0), "page_size": PAGE_SIZE,
        "filters": {"type_code": type_code, "unit_code": unit_code, "active": active},
        "query": query, "answer": answer, "area_options": _area_options(db),
    }, user=user, status_code=status_of(query))


def _area_options(db) -> list[tuple[str, str]]:
    return [("", "（不限）")] + [(a.name, f"{a.name}（{a.street_code}）")
                               for a in service.list_areas(db)]


def _form_page(request: Request, db, user: WebUser, state: FormState,
               rule: DutyRuleRow | None = None):
    return admin_page(request, "admin/duty_form.html", {
        "rule": rule, "yes_no": YES_NO, "active_options": ACTIVE_OPTIONS,
        "area_options": _area_options(db),
    }, user=user, form=state, status_code=status_of(state))


def _rule_values(form) -> dict:
    values = {name: optional(form.get(name)) for name in RULE_FIELDS}
    values["note"] = form.get("note")
    values["per_street_field_unit"] = form.get("per_street_field_unit") == "true"
    values["active"] = form.get("active") != "false"
    return values


def _show_rule_id_problem(state: FormState) -> None:
    """The service names the rule number `id`; the form calls it `rule_id`."""
    if "id" in state.errors:
        state.add("rule_id", state.errors.pop("id"))


@router.get("/new")
def new_rule_form(request: Request, db: SessionDep, type_code: str = "",
                  user: WebUser = MANAGE):
    values = {"type_code": type_code, "per_street_field_unit": "false", "active": "true",
              "rule_id": service.next_rule_id(db)}
    return _form_page(request, db, user, FormState(values=values))


@router.post("/new")
def create_rule(request: Request, form: FormDep, db: SessionDep, user: WebUser = MANAGE):
    state = FormState(values={name: form.get(name) for name in ("rule_id", *RULE_FIELDS)})
    data = validate(DutyRuleIn, {"rule_id": optional(form.get("rule_id")), **_rule_values(form)},
                    state)
    if data is not None:
        with shown_on(state, db):
            created = service.create_rule(db, actor=user.acting(Action.CONFIG_MANAGE).actor,
                                          data=data)
            return done(f"/admin/duty/{created.rule_id}", "created")
        _show_rule_id_problem(state)
    return _form_page(request, db, user, state)


def _stored_values(rule: DutyRuleRow) -> dict:
    values = {name: getattr(rule, name) or "" for name in RULE_FIELDS}
    values["per_street_field_unit"] = "true" if rule.per_street_field_unit else "false"
    values["active"] = "true" if rule.active else "false"
    return values


@router.get("/{rule_id}")
def edit_rule_form(request: Request, rule_id: str, db: SessionDep, user: WebUser = MANAGE):
    rule = service.get_rule(db, rule_id=rule_id)
    return _form_page(request, db, user, FormState(values=_stored_values(rule)), rule)


@router.post("/{rule_id}")
def update_rule(request: Request, rule_id: str, form: FormDep, db: SessionDep,
                user: WebUser = MANAGE):
    rule = service.get_rule(db, rule_id=rule_id)
    state = FormState(values={name: form.get(name) for name in RULE_FIELDS})
    values = _rule_values(form)
    values.pop("type_code")
    patch = validate(DutyRulePatch, values, state)
    if patch is not None:
        with shown_on(state, db):
            service.update_rule(db, actor=user.acting(Action.CONFIG_MANAGE).actor,
                                rule_id=rule_id, patch=patch)
            return done(f"/admin/duty/{rule_id}", "saved")
    state.values["type_code"] = rule.type_code
    return _form_page(request, db, user, state, rule)


@router.post("/{rule_id}/deactivate")
def deactivate_rule(request: Request, rule_id: str, db: SessionDep, user: WebUser = MANAGE):
    rule = service.get_rule(db, rule_id=rule_id)
    state = FormState(values=_stored_values(rule))
    with shown_on(state, db):
        service.deactivate_rule(db, actor=user.acting(Action.CONFIG_MANAGE).actor, rule_id=rule_id)
        return done(f"/admin/duty/{rule_id}", "deactivated")
    return _form_page(request, db, user, state, rule)

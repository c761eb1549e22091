"""系统管理 · 组织机构: the unit tree, creating and changing a unit, and the Excel sheet both
ways (export is the API's download; import posts here and shows the import report)."""

from collections import defaultdict
from dataclasses import dataclass, field

from fastapi import APIRouter, Request

from gridgov import clock
from gridgov.auth.policy import Action
from gridgov.http import SessionDep, SettingsDep
from gridgov.org import excel, service
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.org.schemas import UnitIn, UnitPatch
from gridgov.web.forms import FormDep, FormState, shown_on, validate
from gridgov.web.pages.admin import admin_page, done, excel_import, optional, status_of
from gridgov.web.session import WebUser, page_for

router = APIRouter(prefix="/admin/units")
MANAGE = page_for(Action.UNIT_MANAGE)
KIND_OPTIONS = [(kind.value, kind.label) for kind in UnitKind]
UNIT_FIELDS = ("code", "name", "short_name", "kind", "parent_code", "serves_street_code",
               "valid_from", "valid_to")


@dataclass
class Node:
    unit: Unit
    children: list["Node"] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return UnitKind(self.unit.kind).label


def unit_tree(units: list[Unit]) -> list[Node]:
    """The units as a forest (normally one root, the district centre), children by code."""
    nodes = {unit.id: Node(unit) for unit in units}
    roots: list[Node] = []
    children: dict[int, list[Node]] = defaultdict(list)
    for unit in units:
        (children[unit.parent_id] if unit.parent_id in nodes else roots).append(nodes[unit.id])
    for unit_id, node in nodes.items():
        node.children = children.get(unit_id, [])
    return roots


def _list_page(request: Request, db, user: WebUser, *, outcome=None, upload: FormState | None = None):
    upload = upload or FormState()
    failed = not upload.ok or (outcome is not None and outcome.refused)
    return admin_page(request, "admin/units.html", {
        "tree": unit_tree(list(service.list_units(db))), "today": clock.utcnow().date(),
        "outcome": outcome,
    }, user=user, form=upload, status_code=422 if failed else 200)


@router.get("")
def units(request: Request, db: SessionDep, user: WebUser = MANAGE):
    return _list_page(request, db, user)


@router.post("/import")
def import_units(request: Request, form: FormDep, db: SessionDep, user: WebUser = MANAGE):
    actor = user.acting(Action.UNIT_MANAGE).actor

    def call(content: bytes) -> dict:
        rows, problems = excel.parse_units(content)
        created, updated = service.import_units(db, actor=actor, rows=rows, parse_problems=problems)
        return {"created": created, "updated": updated}

    upload = FormState()
    outcome = excel_import(form, db, upload, call)
    return _list_page(request, db, user, outcome=outcome, upload=upload)


def _form_page(request: Request, db, user: WebUser, state: FormState, unit: Unit | None = None):
    units = list(service.list_units(db))
    return admin_page(request, "admin/unit_form.html", {
        "unit": unit, "kind_options": KIND_OPTIONS,
        "kind_label": UnitKind(unit.kind).label if unit else None,
        "parents": [u for u in units if UnitKind(u.kind) not in (UnitKind.COMMUNITY, UnitKind.PUBLIC)],
        "streets": [u for u in units if u.kind == UnitKind.STREET],
    }, user=user, form=state, status_code=status_of(state))


@router.get("/new")
def new_unit_form(request: Request, db: SessionDep, settings: SettingsDep, parent: str = "",
                  user: WebUser = MANAGE):
    today = clock.utcnow().astimezone(settings.tz).date().isoformat()
    return _form_page(request, db, user, FormState(values={"parent_code": parent,
                                                           "valid_from": today}))


@router.post("/new")
def create_unit(request: Request, form: FormDep, db: SessionDep, user: WebUser = MANAGE):
    state = FormState(values={name: form.get(name) for name in UNIT_FIELDS})
    data = validate(UnitIn, {name: optional(form.get(name)) for name in UNIT_FIELDS}, state)
    if data is not None:
        with shown_on(state, db):
            created = service.create_unit(db, actor=user.acting(Action.UNIT_MANAGE).actor, data=data)
            return done(f"/admin/units/{created.code}", "created")
    return _form_page(request, db, user, state)


@router.get("/{code}")
def edit_unit_form(request: Request, code: str, db: SessionDep, user: WebUser = MANAGE):
    unit = service.get_unit(db, code=code)
    values = {"name": unit.name, "short_name": unit.short_name or "",
              "valid_to": unit.valid_to.isoformat() if unit.valid_to else ""}
    return _form_page(request, db, user, FormState(values=values), unit)


@router.post("/{code}")
def update_unit(request: Request, code: str, form: FormDep, db: SessionDep,
                user: WebUser = MANAGE):
    unit = service.get_unit(db, code=code)
    names = ("name", "short_name", "valid_to")
    state = FormState(values={name: form.get(name) for name in names})
    patch = validate(UnitPatch, {name: optional(form.get(name)) for name in names}, state)
    if patch is not None and not patch.name:
        state.add("name", "必填")
    if patch is not None and state.ok:
        with shown_on(state, db):
            service.update_unit(db, actor=user.acting(Action.UNIT_MANAGE).actor, code=code,
                                patch=patch)
            return done(f"/admin/units/{code}", "saved")
    return _form_page(request, db, user, state, unit)

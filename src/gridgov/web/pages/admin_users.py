"""系统管理 · 用户: list and filter accounts, create one, change its roles and state, unlock it,
reset its password. Every change goes through `gridgov.auth.service` (one transaction with
its audit event)."""

from fastapi import APIRouter, Request
from sqlalchemy import select

from gridgov import clock
from gridgov.auth import service
from gridgov.auth.models import User
from gridgov.auth.policy import ROLE_UNIT_KINDS, Action, Role
from gridgov.auth.rules import is_locked
from gridgov.auth.schemas import UserIn, UserPatch
from gridgov.http import SessionDep, SettingsDep
from gridgov.org import service as org
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.web.forms import FormDep, FormState, shown_on, validate
from gridgov.web.pages.admin import admin_page, done, optional, status_of
from gridgov.web.session import WebUser, page_for

router = APIRouter(prefix="/admin/users")
MANAGE = page_for(Action.USER_MANAGE)
ACTIVE_OPTIONS = [("true", "启用"), ("false", "停用")]


def _roles(form_value: str) -> list[str]:
    return [role for role in form_value.split(",") if role]


def _require_roles(state: FormState, roles: list[str]) -> None:
    if not roles:
        state.errors["roles"] = "至少选择一个角色"


def _role_choices() -> list[dict]:
    """Each role with the unit kinds it may be held in (the page greys out the others)."""
    return [{"value": role.value, "label": role.label,
             "kinds": " ".join(sorted(kind.value for kind in ROLE_UNIT_KINDS[role])),
             "kind_labels": "、".join(sorted(kind.label for kind in ROLE_UNIT_KINDS[role]))}
            for role in Role]


def _unit_options(db) -> list[Unit]:
    return list(org.list_units(db))


def _row(user: User, now) -> dict:
    return {"user": user, "locked": is_locked(user.locked_until, now),
            "role_labels": "、".join(role.label for role in sorted(user.roles))}


@router.get("")
def list_users(request: Request, db: SessionDep, unit: str = "", role: str = "",
               active: str = "", locked: str = "", user: WebUser = MANAGE):
    now = clock.utcnow()
    unit_code = unit if unit and db.scalar(select(Unit.id).where(Unit.code == unit)) else None
    rows = [_row(account, now) for account in service.list_users(db, unit_code=unit_code)]
    if role:
        rows = [r for r in rows if role in r["user"].roles]
    if active in ("true", "false"):
        rows = [r for r in rows if r["user"].active == (active == "true")]
    if locked == "true":
        rows = [r for r in rows if r["locked"]]
    filters = {"unit": unit, "role": role, "active": active, "locked": locked}
    return admin_page(request, "admin/users.html", {
        "rows": rows, "filters": filters, "units": _unit_options(db), "roles": list(Role),
        "unknown_unit": bool(unit) and unit_code is None,
    }, user=user)


def _new_page(request: Request, db, user: WebUser, state: FormState):
    return admin_page(request, "admin/user_new.html", {
        "units": _unit_options(db), "role_choices": _role_choices(),
        "chosen_roles": _roles(state.values.get("roles", "")),
    }, user=user, form=state, status_code=status_of(state))


@router.get("/new")
def new_user_form(request: Request, db: SessionDep, user: WebUser = MANAGE):
    return _new_page(request, db, user, FormState())


@router.post("/new")
def create_user(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
                user: WebUser = MANAGE):
    state = FormState(values={k: form.get(k) for k in
                              ("username", "display_name", "phone", "unit_code", "roles")})
    data = validate(UserIn, {
        "username": form.get("username"), "display_name": form.get("display_name"),
        "password": form.fields.get("password", ""), "unit_code": form.get("unit_code"),
        "roles": _roles(form.get("roles")), "phone": optional(form.get("phone")),
    }, state)
    _require_roles(state, _roles(form.get("roles")))
    if data is not None:
        if db.scalar(select(Unit.id).where(Unit.code == data.unit_code)) is None:
            state.add("unit_code", "请选择单位")
        if db.scalar(select(User.id).where(User.username == data.username)) is not None:
            state.add("username", f"用户名 {data.username} 已被使用")
    if data is not None and state.ok:
        with shown_on(state, db):
            created = service.create_user(db, settings=settings,
                                          actor=user.acting(Action.USER_MANAGE).actor, data=data)
            return done(f"/admin/users/{created.username}", "created")
    return _new_page(request, db, user, state)


def _edit_page(request: Request, db, user: WebUser, account: User, state: FormState,
               password_form: FormState | None = None):
    if not state.values:
        state.values = {"display_name": account.display_name, "phone": account.phone or "",
                        "roles": ",".join(sorted(account.roles)),
                        "active": "true" if account.active else "false"}
    password_form = password_form or FormState()
    failed = not (state.ok and password_form.ok)
    return admin_page(request, "admin/user_edit.html", {
        "account": account, "locked": is_locked(account.locked_until, clock.utcnow()),
        "unit_kind": UnitKind(account.unit.kind), "role_choices": _role_choices(),
        "chosen_roles": _roles(state.values.get("roles", "")), "active_options": ACTIVE_OPTIONS,
        "password_form": password_form,
    }, user=user, form=state, status_code=422 if failed else 200)


@router.get("/{username}")
def edit_user_form(request: Request, username: str, db: SessionDep, user: WebUser = MANAGE):
    return _edit_page(request, db, user, service.get_user(db, username=username), FormState())


@router.post("/{username}")
def update_user(request: Request, username: str, form: FormDep, db: SessionDep,
                settings: SettingsDep, user: WebUser = MANAGE):
    account = service.get_user(db, username=username)
    state = FormState(values={k: form.get(k) for k in ("display_name", "phone", "roles", "active")})
    patch = validate(UserPatch, {
        "display_name": form.get("display_name"), "phone": optional(form.get("phone")),
        "roles": _roles(form.get("roles")), "active": form.get("active") or None,
    }, state)
    _require_roles(state, _roles(form.get("roles")))
    if patch is not None and state.ok:
        with shown_on(state, db):
            service.update_user(db, settings=settings, actor=user.acting(Action.USER_MANAGE).actor,
                                username=username, patch=patch)
            return done(f"/admin/users/{username}", "saved")
    return _edit_page(request, db, user, account, state)


@router.post("/{username}/password")
def reset_password(request: Request, username: str, form: FormDep, db: SessionDep,
                   settings: SettingsDep, user: WebUser = MANAGE):
    account = service.get_user(db, username=username)
    password_form = FormState()
    password = form.fields.get("password", "")
    if not password:
        password_form.add("password", "请输入新密码")
    else:
        with shown_on(password_form, db):
            service.update_user(db, settings=settings, actor=user.acting(Action.USER_MANAGE).actor,
                                username=username, patch=UserPatch(password=password))
            return done(f"/admin/users/{username}", "password")
    return _edit_page(request, db, user, account, FormState(), password_form)


@router.post("/{username}/unlock")
def unlock_user(username: str, db: SessionDep, user: WebUser = MANAGE):
    service.unlock_user(db, actor=user.acting(Action.USER_MANAGE).actor, username=username)
    return done(f"/admin/users/{username}", "unlocked")

"""Who is calling: bearer tokens (API, integrations) or a session cookie with CSRF (web)."""

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from gridgov.audit.rules import Actor
from gridgov.auth import service
from gridgov.auth.policy import Action, Principal, Role, decide
from gridgov.auth.rules import TokenKind
from gridgov.errors import NotAuthenticated, PermissionDenied
from gridgov.config import Settings
from gridgov.http import SAFE_METHODS, SettingsDep

SESSION_COOKIE = "gridgov_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"


async def presented_csrf_token(request: Request) -> str | None:
    """The CSRF token sent with a changing request: header, or form field of a plain HTML form.

    Async because reading a form is; it touches no database, so the event loop never waits
    on a database lock (the principal itself is resolved in the thread pool)."""
    if request.method in SAFE_METHODS:
        return None
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FORM_FIELD)
        presented = value if isinstance(value, str) else None
    return presented


def current_principal(
    request: Request, settings: SettingsDep,
    csrf_token: Annotated[str | None, Depends(presented_csrf_token)],
) -> Principal:
    """Who is calling, read in a short read session of its own: resolving a caller never holds
    the request's write transaction (on SQLite, the database's single write lock)."""
    with request.app.state.database.read() as db:
        return _resolve_principal(request, db, settings, csrf_token)


def _resolve_principal(request: Request, db: Session, settings: Settings, csrf_token: str | None) -> Principal:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Authorization 头的格式应为：Bearer <token>")
        caller = service.resolve_caller(db, settings=settings, token=token.strip(),
                                        kinds={TokenKind.ACCESS, TokenKind.INTEGRATION})
    elif cookie := request.cookies.get(SESSION_COOKIE):
        caller = service.resolve_caller(db, settings=settings, token=cookie, kinds={TokenKind.WEB})
        if request.method not in SAFE_METHODS and not (
            csrf_token and hmac.compare_digest(csrf_token, caller.csrf_token or "")
        ):
            raise PermissionDenied("缺少或错误的 CSRF 令牌，请刷新页面后重试")
    else:
        raise NotAuthenticated("请先登录")
    request.state.principal = caller.principal
    request.state.caller = caller
    return caller.principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@dataclass(frozen=True)
class Authorization:
    """A principal allowed an action, and the role in which they act (for the audit trail)."""

    principal: Principal
    role: Role

    @property
    def actor(self) -> Actor:
        p = self.principal
        return Actor(id=p.user_id, name=p.username, role=self.role, unit_id=p.unit.id)


def require(action: Action):
    """Dependency: the caller may perform `action` (on some rows, for row-level actions)."""

    def dependency(principal: CurrentPrincipal) -> Authorization:
        decision = decide(principal, action)
        if not decision.allowed or decision.role is None:
            held = "、".join(role.label for role in sorted(principal.roles)) or "无角色"
            raise PermissionDenied(f"当前角色（{held}）无权执行此操作：{action.value}")
        return Authorization(principal, decision.role)

    return Depends(dependency)

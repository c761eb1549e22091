"""Who is calling: bearer tokens (API, integrations) or a session cookie with CSRF (web)."""

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from gridgov.audit.rules import Actor
from gridgov.auth import service
from gridgov.auth.service import Caller
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


@dataclass(frozen=True)
class Credential:
    """What a request presents as who it is, read from its headers without the database: a
    bearer token (API, integrations) or a web session cookie with the CSRF token it carries."""

    token: str
    kinds: frozenset[TokenKind]
    csrf_token: str | None = None
    csrf_required: bool = False


def credential_of(request: Request, csrf_token: str | None) -> Credential:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Authorization 头的格式应为：Bearer <token>")
        return Credential(token.strip(), frozenset({TokenKind.ACCESS, TokenKind.INTEGRATION}))
    if cookie := request.cookies.get(SESSION_COOKIE):
        return Credential(cookie, frozenset({TokenKind.WEB}), csrf_token,
                          csrf_required=request.method not in SAFE_METHODS)
    raise NotAuthenticated("请先登录")


async def presented_credential(
    request: Request, csrf_token: Annotated[str | None, Depends(presented_csrf_token)],
) -> Credential:
    """Dependency: the request's credential, not yet checked (see `resolve`)."""
    return credential_of(request, csrf_token)


PresentedCredential = Annotated[Credential, Depends(presented_credential)]


def resolve(db: Session, *, settings: Settings, credential: Credential) -> Caller:
    """The caller behind a credential, or NotAuthenticated / PermissionDenied (CSRF)."""
    caller = service.resolve_caller(db, settings=settings, token=credential.token, kinds=set(credential.kinds))
    if credential.csrf_required and not (
        credential.csrf_token and hmac.compare_digest(credential.csrf_token, caller.csrf_token or "")
    ):
        raise PermissionDenied("缺少或错误的 CSRF 令牌，请刷新页面后重试")
    return caller


def current_principal(request: Request, settings: SettingsDep, credential: PresentedCredential) -> Principal:
    """Who is calling, read in a short read session of its own: resolving a caller never holds
    the request's write transaction (on SQLite, the database's single write lock)."""
    with request.app.state.database.read() as db:
        caller = resolve(db, settings=settings, credential=credential)
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
        return authorize(principal, action)

    return Depends(dependency)


def authorize(principal: Principal, action: Action) -> Authorization:
    """The principal's authorization for `action` (on some rows), or PermissionDenied."""
    decision = decide(principal, action)
    if not decision.allowed or decision.role is None:
        held = "、".join(role.label for role in sorted(principal.roles)) or "无角色"
        raise PermissionDenied(f"当前角色（{held}）无权执行此操作：{action.value}")
    return Authorization(principal, decision.role)

"""Who is calling: bearer tokens (API, integrations) or a session cookie with CSRF (web)."""

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from gridgov.audit.rules import Actor
from gridgov.auth import service
from gridgov.auth.policy import Action, Principal, Role, decide
from gridgov.auth.rules import TokenKind
from gridgov.errors import NotAuthenticated, PermissionDenied
from gridgov.http import SAFE_METHODS, SessionDep, SettingsDep

SESSION_COOKIE = "gridgov_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"


async def current_principal(request: Request, db: SessionDep, settings: SettingsDep) -> Principal:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Authorization 头的格式应为：Bearer <token>")
        record = service.resolve_token(db, settings=settings, token=token.strip(),
                                       kinds={TokenKind.ACCESS, TokenKind.INTEGRATION})
    elif cookie := request.cookies.get(SESSION_COOKIE):
        record = service.resolve_token(db, settings=settings, token=cookie, kinds={TokenKind.WEB})
        if request.method not in SAFE_METHODS:
            await _check_csrf(request, expected=record.csrf_token or "")
    else:
        raise NotAuthenticated("请先登录")
    principal = service.principal_for(db, record.user)
    request.state.principal = principal
    request.state.token_id = record.id
    return principal


async def _check_csrf(request: Request, *, expected: str) -> None:
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        presented = (await request.form()).get(CSRF_FORM_FIELD)
    if not presented or not hmac.compare_digest(str(presented), expected):
        raise PermissionDenied("缺少或错误的 CSRF 令牌，请刷新页面后重试")


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

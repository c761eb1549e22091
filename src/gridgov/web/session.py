"""Who is using a page: the signed-in web user (session cookie + CSRF), or nobody (public pages)."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from gridgov.auth.deps import (
    SESSION_COOKIE, Authorization, credential_of, current_principal, presented_csrf_token,
)
from gridgov.auth.policy import Action, Principal, Role, Target, decide
from gridgov.auth.rules import TokenKind
from gridgov.errors import DomainError, NotAuthenticated, PermissionDenied
from gridgov.http import SettingsDep


@dataclass(frozen=True)
class WebUser:
    principal: Principal
    username: str
    display_name: str
    unit_code: str
    unit_name: str
    csrf_token: str

    @property
    def roles(self) -> frozenset[Role]:
        return self.principal.roles

    def may(self, action: Action, target: Target | None = None) -> bool:
        return decide(self.principal, action, target).allowed

    def acting(self, action: Action, target: Target | None = None) -> Authorization:
        """The user's authorization for `action` (on `target`), or PermissionDenied."""
        decision = decide(self.principal, action, target)
        if not decision.allowed or decision.role is None:
            raise PermissionDenied(f"当前账号无权执行此操作：{action.value}")
        return Authorization(self.principal, decision.role)


def web_user(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> WebUser:
    caller = request.state.caller
    if caller.kind is not TokenKind.WEB:
        raise NotAuthenticated("页面须通过登录页登录")
    return WebUser(principal=principal, username=principal.username, display_name=caller.display_name,
                   unit_code=caller.unit_code, unit_name=caller.unit_name, csrf_token=caller.csrf_token or "")


async def _maybe_csrf(request: Request) -> str | None:
    return await presented_csrf_token(request) if request.cookies.get(SESSION_COOKIE) else None


def optional_web_user(request: Request, settings: SettingsDep,
                      csrf_token: Annotated[str | None, Depends(_maybe_csrf)]) -> WebUser | None:
    """The signed-in user if there is a valid session, else None (for public pages)."""
    if not request.cookies.get(SESSION_COOKIE):
        return None
    try:
        principal = current_principal(request, settings, credential_of(request, csrf_token))
        return web_user(request, principal)
    except DomainError:
        return None


WebUserDep = Annotated[WebUser, Depends(web_user)]
OptionalWebUserDep = Annotated[WebUser | None, Depends(optional_web_user)]


def page_for(*actions: Action):
    """Dependency: a signed-in user allowed at least one of `actions` (on some rows)."""

    def dependency(user: WebUserDep) -> WebUser:
        if not any(user.may(action) for action in actions):
            held = "、".join(role.label for role in sorted(user.roles)) or "无角色"
            raise PermissionDenied(f"当前角色（{held}）不能使用此页面")
        return user

    return Depends(dependency)

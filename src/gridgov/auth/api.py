"""Sign-in (bearer token or browser session), integration tokens, and who am I."""

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from gridgov.auth import service
from gridgov.auth.deps import SESSION_COOKIE, Authorization, CurrentPrincipal, require
from gridgov.auth.models import ApiToken, User
from gridgov.auth.policy import Action, decide
from gridgov.auth.rules import TokenKind
from gridgov.auth.schemas import (
    AccessToken, Credentials, IntegrationTokenIn, IntegrationTokenOut, IssuedIntegrationToken, Me,
    UserOut, WebSession,
)
from gridgov.http import SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/auth", tags=["auth 登录与凭证"])


def user_out(user: User) -> UserOut:
    roles = sorted(user.roles)
    return UserOut(
        id=user.id, username=user.username, display_name=user.display_name, phone=user.phone,
        unit_code=user.unit.code, unit_name=user.unit.name, roles=roles,
        role_labels=[r.label for r in roles], active=user.active, locked_until=user.locked_until,
    )


def _token_out(record: ApiToken) -> IntegrationTokenOut:
    return IntegrationTokenOut(id=record.id, username=record.user.username, label=record.label,
                               created_at=record.created_at, expires_at=record.expires_at,
                               revoked_at=record.revoked_at)


@router.post("/token", response_model=AccessToken)
def sign_in_for_token(credentials: Credentials, db: SessionDep, settings: SettingsDep) -> AccessToken:
    """Exchange username and password for a bearer token that expires."""
    user = service.authenticate(db, settings=settings, username=credentials.username,
                                password=credentials.password)
    token, record = service.issue_token(
        db, settings=settings, actor=service.actor_for(user, None), user=user,
        kind=TokenKind.ACCESS, lifetime=timedelta(minutes=settings.access_token_minutes))
    return AccessToken(access_token=token, expires_at=record.expires_at)


@router.post("/session", response_model=WebSession)
def sign_in_for_session(
    credentials: Credentials, response: Response, db: SessionDep, settings: SettingsDep
) -> WebSession:
    """Browser sign-in: sets the HttpOnly session cookie and returns the CSRF token that every
    changing request of the session must send (header X-CSRF-Token or form field csrf_token)."""
    user = service.authenticate(db, settings=settings, username=credentials.username,
                                password=credentials.password)
    lifetime = timedelta(minutes=settings.web_session_minutes)
    token, record = service.issue_token(db, settings=settings, actor=service.actor_for(user, None),
                                        user=user, kind=TokenKind.WEB, lifetime=lifetime)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(lifetime.total_seconds()), httponly=True,
                        samesite="lax", secure=settings.cookie_secure, path="/")
    return WebSession(csrf_token=record.csrf_token or "", expires_at=record.expires_at)


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(request: Request, principal: CurrentPrincipal, db: SessionDep) -> Response:
    """End the current session or revoke the bearer token used for this request."""
    record = service.revoke_token(db, actor=service.actor_for(db.get(User, principal.user_id), None),
                                  token_id=request.state.caller.token_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if record.kind == TokenKind.WEB:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me)
def who_am_i(principal: CurrentPrincipal, db: SessionDep) -> Me:
    user = db.get(User, principal.user_id)
    allowed = [action.value for action in Action if decide(principal, action).allowed]
    return Me(**user_out(user).model_dump(), permissions=allowed)


@router.post("/integration-tokens", response_model=IssuedIntegrationToken, status_code=201)
def issue_integration_token(
    body: IntegrationTokenIn, db: SessionDep, settings: SettingsDep,
    auth: Authorization = require(Action.TOKEN_MANAGE),
) -> IssuedIntegrationToken:
    """A long-lived token for a channel or system account; shown once, revocable."""
    user = service.get_user(db, username=body.username)
    lifetime = timedelta(days=body.valid_days) if body.valid_days else None
    token, record = service.issue_token(db, settings=settings, actor=auth.actor, user=user,
                                        kind=TokenKind.INTEGRATION, lifetime=lifetime, label=body.label)
    return IssuedIntegrationToken(token=token, **_token_out(record).model_dump())


@router.get("/integration-tokens", response_model=list[IntegrationTokenOut])
def list_integration_tokens(db: SessionDep, auth: Authorization = require(Action.TOKEN_MANAGE)) -> list[IntegrationTokenOut]:
    return [_token_out(record) for record in service.list_integration_tokens(db)]


@router.delete("/integration-tokens/{token_id}", response_model=IntegrationTokenOut)
def revoke_integration_token(
    token_id: int, db: SessionDep, auth: Authorization = require(Action.TOKEN_MANAGE)
) -> IntegrationTokenOut:
    return _token_out(service.revoke_token(db, actor=auth.actor, token_id=token_id))

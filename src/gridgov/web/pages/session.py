"""Sign-in, sign-out, and the home page that sends each role to its workbench."""

from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from gridgov.auth import service
from gridgov.auth.deps import SESSION_COOKIE
from gridgov.auth.models import User
from gridgov.auth.rules import TokenKind
from gridgov.http import SessionDep, SettingsDep
from gridgov.web.forms import FormDep, FormState, shown_on
from gridgov.web.nav import links_for
from gridgov.web.redirects import local_path
from gridgov.web.session import OptionalWebUserDep, WebUserDep
from gridgov.web.templating import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this site may be the place to go after sign-in."""
    return local_path(target) or "/"


@router.get("/")
def home(request: Request, user: OptionalWebUserDep) -> Response:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    links = links_for(user.roles)
    if links and len(user.roles) == 1:
        return RedirectResponse(links[0].path, status_code=303)
    return render(request, "home.html", user=user)


@router.get("/login")
def login_page(request: Request, user: OptionalWebUserDep, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next)})


@router.post("/login")
def login(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep) -> Response:
    state = FormState(values={"username": form.get("username")})
    target = _safe_next(form.get("next"))
    if not form.get("username"):
        state.add("username", "请输入用户名")
    if not form.fields.get("password"):
        state.add("password", "请输入密码")
    if state.ok:
        with shown_on(state, db):
            user = service.authenticate(db, settings=settings, username=form.get("username"),
                                        password=form.fields["password"])
            lifetime = timedelta(minutes=settings.web_session_minutes)
            token, _ = service.issue_token(db, settings=settings, actor=service.actor_for(user, None),
                                           user=user, kind=TokenKind.WEB, lifetime=lifetime)
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(SESSION_COOKIE, token, max_age=int(lifetime.total_seconds()),
                                httponly=True, samesite="lax", secure=settings.cookie_secure, path="/")
            return response
    return render(request, "login.html", {"next": target}, form=state, status_code=422)


@router.post("/logout")
def logout(user: WebUserDep, request: Request, db: SessionDep) -> Response:
    service.revoke_token(db, actor=service.actor_for(db.get(User, user.principal.user_id), None),
                         token_id=request.state.caller.token_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

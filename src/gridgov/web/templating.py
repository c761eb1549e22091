"""Jinja2 rendering for every page: the layout's context, asset URLs and display filters."""

import hashlib
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.responses import HTMLResponse

from gridgov.config import get_settings
from gridgov.web.forms import FormState
from gridgov.web.nav import links_for
from gridgov.web.session import WebUser

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=WEB_DIR / "templates")


@lru_cache(maxsize=256)
def _fingerprint(path: str) -> str:
    try:
        return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    except FileNotFoundError:
        raise RuntimeError(f"静态资源缺失：{path}（先运行 make assets）") from None


def asset(path: str) -> str:
    """URL of a static file with its content hash, so browsers may cache it for good."""
    return f"/static/{path}?v={_fingerprint(path)}"


@pass_context
def local_time(context: Any, value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC instant in the deployment's time zone (Asia/Shanghai by default)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    request = context.get("request")  # absent in a macro imported without context
    settings = request.app.state.settings if request is not None else get_settings()
    return value.astimezone(settings.tz).strftime(fmt)


def iso(value: datetime | None) -> str:
    """An instant for a data-* attribute that scripts read (live clocks)."""
    if value is None:
        return ""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


templates.env.globals["asset"] = asset
templates.env.filters.update(local=local_time, iso=iso, percent=percent)


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           user: WebUser | None = None, form: FormState | None = None, status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    """Render a page (or an htmx fragment) with the layout's context."""
    settings = request.app.state.settings
    return templates.TemplateResponse(request, name, {
        "user": user,
        "nav": links_for(user.roles) if user else [],
        "csrf_token": user.csrf_token if user else "",
        "form": form or FormState(),
        "tile_url": settings.map_tile_url,
        "is_htmx": request.headers.get("HX-Request") == "true",
        **(context or {}),
    }, status_code=status_code, headers=headers)

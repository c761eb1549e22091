"""Where a page sends the browser after a change, and which targets it may send it to."""

import json

from fastapi import Request
from starlette.responses import RedirectResponse, Response


def local_path(target: str | None) -> str | None:
    """A path on this site (never //host or a scheme), else None."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def done(request: Request, location: str, toast: str) -> Response:
    """After a change: go to `location` (htmx: HX-Redirect, with a toast)."""
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=200, headers={
            "HX-Redirect": location, "HX-Trigger": json.dumps({"toast": toast}, ensure_ascii=True)})
    return RedirectResponse(location, status_code=303)

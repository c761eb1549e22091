"""Errors on pages are pages: a readable explanation, or the sign-in page when signed out.

The JSON API keeps its problem+json bodies: `gridgov.problems` offers every error to
`page_error` first (installed on app.state by `gridgov.web.install`), which answers only for
requests to pages."""

from urllib.parse import quote

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from gridgov.web.templating import render

# Not pages: the JSON API, static files, docs, probes, and the JSON that pages' scripts read.
NOT_PAGES = ("/api/", "/static/", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz",
             "/dashboard/data/")


def is_page_request(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def sign_in_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/login?next={quote(target, safe='')}"
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def page_error(request: Request, *, status: int, title: str, detail: str,
               headers: dict | None = None) -> Response | None:
    """The error as a page, or None when the request is not for a page."""
    if not is_page_request(request):
        return None
    if status == 401:
        return sign_in_redirect(request)
    return render(request, "error.html", {"status": status, "title": title, "detail": detail},
                  status_code=status, headers=headers)

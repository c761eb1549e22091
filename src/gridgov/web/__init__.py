"""The web workbench: server-rendered pages (Jinja2 + htmx) for every role and the public.

Pages live in `gridgov.web.pages`, one module per workbench, each exposing a `router`;
`gridgov.web.api` includes them all. Pages call the feature services directly (never the
JSON API over HTTP) and render a feature's domain errors next to the fields they concern.
"""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def install(app: FastAPI) -> None:
    """Serve the static files and let errors on pages render as pages."""
    from gridgov.web.errors import page_error
    from gridgov.web.templating import STATIC_DIR

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.page_error = page_error

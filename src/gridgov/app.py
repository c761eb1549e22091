"""The ASGI application: routers, request ids, problem+json errors, health probes."""

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridgov import __version__, web
from gridgov.calendar import service as calendar_service
from gridgov.cases import api as cases_api
from gridgov.config import Settings, get_settings
from gridgov.db import Database
from gridgov.errors import DomainError
from gridgov.features import api_modules
from gridgov.grid import service as grid_service
from gridgov.observability import REQUEST_ID_HEADER, new_request_id, request_id_var
from gridgov.problems import install_problem_handlers, problem_response

access_log = logging.getLogger("gridgov.access")
log = logging.getLogger("gridgov.app")


class RequestIdMiddleware:
    """Gives every request an id (or keeps a sane incoming one), echoes it, logs the request."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
        request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isalnum() else new_request_id()
        request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (REQUEST_ID_HEADER.lower().encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info("request", extra={"fields": {
                "method": scope["method"], "path": scope["path"], "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2)}})


def preload(database: Database, settings: Settings) -> None:
    """Build what a process keeps in memory — the grid index (~1 s for Dongcheng's 2,322 unit
    grids) and the working calendar — before it takes requests, so that no request waits for
    it. A database that is not ready yet (not migrated, no grid) is left to the requests."""
    try:
        with database.read() as db:
            calendar_service.working_calendar(db, settings=settings)
            grid_service.grid_snapshot(db)
    except (DomainError, SQLAlchemyError) as exc:
        log.warning("preload skipped: %s", exc)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # uvicorn starts serving a process only after this: with several processes, one still
        # building its index leaves the requests to the others.
        await asyncio.to_thread(preload, app.state.database, settings)
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="gridgov 网格化城市管理平台",
        version=__version__,
        description="街道吹哨、部门报到 — grid-based urban governance. All errors are RFC 9457 "
        "problem+json; authenticate with `Authorization: Bearer <token>` from /api/v1/auth/token.",
    )
    app.state.settings = settings
    app.state.database = database or Database(settings.resolved_database_url,
                                              pool_size=settings.database_pool_size, max_overflow=10)
    install_problem_handlers(app)
    web.install(app)
    app.add_middleware(RequestIdMiddleware)
    # FastAPI tries the routes in order, each included router route by route: the cases router,
    # whose intake endpoint takes most requests (every channel's reports), is tried first.
    for module in sorted(api_modules(), key=lambda module: module.router is not cases_api.router):
        app.include_router(module.router)

    @app.get("/healthz", tags=["ops 运维"])
    def healthz() -> dict:
        """The process is up (and which server process answered)."""
        return {"status": "ok", "version": __version__, "process": os.getpid()}

    @app.get("/readyz", tags=["ops 运维"])
    def readyz(request: Request) -> JSONResponse:
        """The database answers."""
        try:
            with app.state.database.read() as db:
                db.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means "not ready"
            return problem_response(request, status=503, code="not-ready", title="服务未就绪",
                                    detail=f"数据库不可用：{type(exc).__name__}")
        return JSONResponse({"status": "ready", "database": app.state.database.dialect})

    return app

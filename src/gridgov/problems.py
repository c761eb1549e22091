"""Every error leaves as RFC 9457 problem+json; refused sign-ins and accesses are audited."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from gridgov.audit import service as audit
from gridgov.audit.rules import ANONYMOUS_ACTOR, Actor
from gridgov.errors import DomainError
from gridgov.observability import current_request_id

log = logging.getLogger("gridgov.problems")

PROBLEM_JSON = "application/problem+json"
_HTTP_TITLES = {404: "对象不存在", 405: "不支持该请求方法", 413: "请求内容过大", 429: "请求过于频繁"}


def problem_response(
    request: Request, *, status: int, code: str, title: str, detail: str,
    errors: list | None = None, extra: dict | None = None, headers: dict | None = None,
) -> Response:
    page_error = getattr(request.app.state, "page_error", None)
    if page_error is not None:
        page = page_error(request, status=status, title=title, detail=detail, headers=headers)
        if page is not None:
            return page
    body = {
        "type": f"urn:gridgov:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": current_request_id(),
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _audit_refusal(request: Request, exc: DomainError) -> None:
    """Record a refused request. The request's own session is rolled back first: nothing it
    did stands, and on SQLite it must let go of the write lock before the audit can write."""
    session = getattr(request.state, "db_session", None)
    if session is not None:
        session.rollback()
    principal = getattr(request.state, "principal", None)
    actor = ANONYMOUS_ACTOR if principal is None else Actor(
        id=principal.user_id, name=principal.username, role=None, unit_id=principal.unit.id)
    with request.app.state.database.write() as db:
        audit.record(db, actor=actor, action="access.denied", object_type="request",
                     object_id=f"{request.method} {request.url.path}"[:64],
                     reason=f"{exc.status} {exc.code}: {exc.detail}")
        db.commit()


async def _domain_error(request: Request, exc: DomainError) -> Response:
    if exc.status in (401, 403) and not exc.audited:
        await run_in_threadpool(_audit_refusal, request, exc)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem_response(request, status=exc.status, code=exc.code, title=exc.title,
                            detail=exc.detail, errors=exc.errors, extra=exc.extra, headers=headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"], "type": e["type"]}
        for e in exc.errors()
    ]
    return problem_response(request, status=422, code="invalid-input", title="输入不符合要求",
                            detail=f"{len(errors)} 处输入错误", errors=errors)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    return problem_response(request, status=exc.status_code, code=f"http-{exc.status_code}",
                            title=_HTTP_TITLES.get(exc.status_code, "请求失败"), detail=str(exc.detail),
                            headers=getattr(exc, "headers", None))


# Seconds a client is asked to wait before retrying a request the database could not serve.
DATABASE_RETRY_AFTER_SECONDS = 5


async def _database_unavailable(request: Request, exc: OperationalError) -> Response:
    """The database could not be reached or ended the connection (a restart, a failover, a
    timeout). The request's transaction did not commit, or, lost in the very commit, cannot be
    told. Sending the same request again is safe where the request says what it is: a report's
    (channel, reference) answers with its case, a transition names the case version it saw."""
    log.error("database unavailable: %s", exc.orig or exc, exc_info=exc)
    return problem_response(request, status=503, code="database-unavailable", title="数据库暂时不可用",
                            detail="数据库暂时无法处理请求，请稍后重试",
                            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(request, status=500, code="internal-error", title="服务器内部错误",
                            detail="服务器处理请求时出错，请凭请求编号联系管理员")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)

"""The catalog (事项目录) and duty matrix (职责清单): read by everyone signed in, changed by admins."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, UploadFile
from fastapi.responses import Response
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from gridgov.auth.deps import Authorization, CurrentPrincipal, require
from gridgov.auth.policy import Action
from gridgov.catalog import excel, service
from gridgov.catalog.schemas import (
    AreaOut,
    CatalogStats,
    ClassOut,
    DomainOut,
    DutyAnswer,
    DutyRuleIn,
    DutyRuleOut,
    DutyRulePage,
    DutyRulePatch,
    ImportReport,
    MatterTypeBody,
    MatterTypeDetail,
    MatterTypeIn,
    MatterTypePage,
    MatterTypeVersionOut,
    RetireIn,
)
from gridgov.errors import InvalidInput
from gridgov.excel import XLSX_MEDIA_TYPE
from gridgov.http import SessionDep

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog 事项目录"])

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/types", response_model=MatterTypePage)
def list_types(
    db: SessionDep, principal: CurrentPrincipal,
    text: Annotated[str | None, Query(max_length=100, description="编码、名称或关键词的片段")] = None,
    domain: str | None = None, category: str | None = None, grade: str | None = None,
    urgency: str | None = None,
    status: Literal["current", "retired", "all"] = "current",
    limit: Limit = 50, offset: Offset = 0,
) -> MatterTypePage:
    """Types by code, filtered; `status=retired` lists retired types with their last version."""
    items, total = service.list_types(db, text=text, domain=domain, category=category,
                                      grade=grade, urgency=urgency, status=status,
                                      limit=limit, offset=offset)
    return MatterTypePage(items=[service.version_out(v) for v in items], total=total,
                          limit=limit, offset=offset)


@router.get("/types/search", response_model=list[MatterTypeVersionOut])
def search_types(
    db: SessionDep, principal: CurrentPrincipal,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=service.SEARCH_LIMIT_MAX)] = 20,
) -> list[MatterTypeVersionOut]:
    """Type-ahead: exact code, code prefix, then name and keyword matches."""
    return [service.version_out(v) for v in service.search_types(db, text=q, limit=limit)]


@router.get("/types/{code}", response_model=MatterTypeDetail)
def get_type(code: str, db: SessionDep, principal: CurrentPrincipal) -> MatterTypeDetail:
    """A type with its version history, newest first."""
    versions = service.type_history(db, code=code)
    current = versions[0] if versions[0].valid_to is None else None
    return MatterTypeDetail(
        code=code, retired=current is None,
        current=service.version_out(current) if current else None,
        versions=[service.version_out(v) for v in versions])


@router.get("/types/{code}/at", response_model=MatterTypeVersionOut)
def get_type_at(code: str, at: Annotated[AwareDatetime, Query()], db: SessionDep,
                principal: CurrentPrincipal) -> MatterTypeVersionOut:
    """The version in force at an instant (ISO 8601 with an offset)."""
    return service.version_out(service.get_type(db, code=code, at=at))


@router.get("/versions/{version_id}", response_model=MatterTypeVersionOut)
def get_version(version_id: int, db: SessionDep,
                principal: CurrentPrincipal) -> MatterTypeVersionOut:
    """One version by id — the standard a case was dispatched under."""
    return service.version_out(service.get_version(db, version_id=version_id))


@router.post("/types", response_model=MatterTypeVersionOut, status_code=201)
def create_type(body: MatterTypeIn, db: SessionDep,
                auth: Authorization = require(Action.CONFIG_MANAGE)) -> MatterTypeVersionOut:
    return service.version_out(service.create_type(db, actor=auth.actor, data=body))


@router.put("/types/{code}", response_model=MatterTypeVersionOut)
def update_type(code: str, body: MatterTypeBody, db: SessionDep,
                auth: Authorization = require(Action.CONFIG_MANAGE)) -> MatterTypeVersionOut:
    """A changed type gets a new version from now; cases keep the version they had."""
    return service.version_out(service.update_type(db, actor=auth.actor, code=code, data=body))


@router.post("/types/{code}/retire", response_model=MatterTypeVersionOut)
def retire_type(code: str, db: SessionDep, body: RetireIn | None = None,
                auth: Authorization = require(Action.CONFIG_MANAGE)) -> MatterTypeVersionOut:
    """End the version in force; returns it with its `valid_to`."""
    reason = body.reason if body else None
    return service.version_out(service.retire_type(db, actor=auth.actor, code=code, reason=reason))


@router.get("/domains", response_model=list[DomainOut])
def list_domains(db: SessionDep, principal: CurrentPrincipal) -> list[DomainOut]:
    return [DomainOut.model_validate(d) for d in service.list_domains(db)]


@router.get("/classes", response_model=list[ClassOut])
def list_classes(db: SessionDep, principal: CurrentPrincipal, domain: str | None = None,
                 category: str | None = None) -> list[ClassOut]:
    return [ClassOut.model_validate(c)
            for c in service.list_classes(db, domain=domain, category=category)]


@router.get("/areas", response_model=list[AreaOut])
def list_areas(db: SessionDep, principal: CurrentPrincipal) -> list[AreaOut]:
    return [AreaOut.model_validate(a) for a in service.list_areas(db)]


@router.get("/stats", response_model=CatalogStats)
def stats(db: SessionDep, principal: CurrentPrincipal) -> CatalogStats:
    return service.stats(db)


@router.get("/rules", response_model=DutyRulePage)
def list_rules(
    db: SessionDep, type_code: str | None = None, unit_code: str | None = None,
    active: bool | None = None, limit: Limit = 100, offset: Offset = 0,
    auth: Authorization = require(Action.UNIT_READ),
) -> DutyRulePage:
    items, total = service.list_rules(db, type_code=type_code, unit_code=unit_code,
                                      active=active, limit=limit, offset=offset)
    return DutyRulePage(items=[DutyRuleOut.model_validate(r) for r in items], total=total,
                        limit=limit, offset=offset)


@router.get("/rules/{rule_id}", response_model=DutyRuleOut)
def get_rule(rule_id: str, db: SessionDep,
             auth: Authorization = require(Action.UNIT_READ)) -> DutyRuleOut:
    return DutyRuleOut.model_validate(service.get_rule(db, rule_id=rule_id))


@router.post("/rules", response_model=DutyRuleOut, status_code=201)
def create_rule(body: DutyRuleIn, db: SessionDep,
                auth: Authorization = require(Action.CONFIG_MANAGE)) -> DutyRuleOut:
    """`rule_id` may be omitted: the next free R#### is used."""
    return DutyRuleOut.model_validate(service.create_rule(db, actor=auth.actor, data=body))


@router.patch("/rules/{rule_id}", response_model=DutyRuleOut)
def update_rule(rule_id: str, body: DutyRulePatch, db: SessionDep,
                auth: Authorization = require(Action.CONFIG_MANAGE)) -> DutyRuleOut:
    return DutyRuleOut.model_validate(
        service.update_rule(db, actor=auth.actor, rule_id=rule_id, patch=body))


@router.post("/rules/{rule_id}/deactivate", response_model=DutyRuleOut)
def deactivate_rule(rule_id: str, db: SessionDep,
                    auth: Authorization = require(Action.CONFIG_MANAGE)) -> DutyRuleOut:
    return DutyRuleOut.model_validate(
        service.deactivate_rule(db, actor=auth.actor, rule_id=rule_id))


@router.get("/duty", response_model=DutyAnswer)
def resolve_duty(
    db: SessionDep, type_code: str, street_code: str, owner_code: str | None = None,
    area: str | None = None, auth: Authorization = require(Action.UNIT_READ),
) -> DutyAnswer:
    """Who handles a case of this type in this street, and which rule says so."""
    return service.resolve_duty(db, type_code=type_code, street_code=street_code,
                                owner_code=owner_code, area=area)


@router.get("/export.xlsx", response_class=Response)
def export_catalog(db: SessionDep, auth: Authorization = require(Action.UNIT_READ)) -> Response:
    return Response(
        excel.export_catalog(service.snapshot(db)), media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition":
                 "attachment; filename*=UTF-8''%E4%BA%8B%E9%A1%B9%E7%9B%AE%E5%BD%95.xlsx"},
    )


@router.post("/import", response_model=ImportReport)
async def import_catalog(
    file: UploadFile, db: SessionDep, auth: Authorization = require(Action.CONFIG_MANAGE),
) -> ImportReport:
    """All rows or none: a single bad row refuses the file, with every problem listed
    (sheet, row, field, message). Changed types get a new version; unchanged rows write nothing."""
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB")

    def run() -> ImportReport:  # seconds of work for a large file: off the event loop
        return service.import_catalog(db, actor=auth.actor, data=excel.parse_catalog(content))

    return await run_in_threadpool(run)

"""Organisation units: the tree, its changes, and Excel import/export."""

from datetime import date

from fastapi import APIRouter, UploadFile
from fastapi.responses import Response

from gridgov.auth.deps import Authorization, require
from gridgov.auth.policy import Action
from gridgov.errors import InvalidInput
from gridgov.excel import XLSX_MEDIA_TYPE
from gridgov.http import SessionDep
from gridgov.org import excel, service
from gridgov.org.rules import UnitKind
from gridgov.org.schemas import ImportReport, UnitIn, UnitOut, UnitPatch

router = APIRouter(prefix="/api/v1/units", tags=["units 组织机构"])

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@router.get("", response_model=list[UnitOut])
def list_units(
    db: SessionDep, kind: UnitKind | None = None, parent_code: str | None = None,
    active_on: date | None = None, auth: Authorization = require(Action.UNIT_READ),
) -> list[UnitOut]:
    units = service.list_units(db, kind=kind, parent_code=parent_code, active_on=active_on)
    return [service.unit_out(unit) for unit in units]


@router.get("/export.xlsx", response_class=Response)
def export_units(db: SessionDep, auth: Authorization = require(Action.UNIT_READ)) -> Response:
    return Response(
        excel.export_units(service.list_units(db)), media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": "attachment; filename*=UTF-8''%E7%BB%84%E7%BB%87%E6%9C%BA%E6%9E%84.xlsx"},
    )


@router.post("/import", response_model=ImportReport)
async def import_units(
    file: UploadFile, db: SessionDep, auth: Authorization = require(Action.UNIT_MANAGE)
) -> ImportReport:
    """All rows or none: a single bad row refuses the file, with every problem listed."""
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    rows, problems = excel.parse_units(content)
    created, updated = service.import_units(db, actor=auth.actor, rows=rows, parse_problems=problems)
    return ImportReport(created=created, updated=updated)


@router.get("/{code}", response_model=UnitOut)
def get_unit(code: str, db: SessionDep, auth: Authorization = require(Action.UNIT_READ)) -> UnitOut:
    return service.unit_out(service.get_unit(db, code=code))


@router.post("", response_model=UnitOut, status_code=201)
def create_unit(body: UnitIn, db: SessionDep, auth: Authorization = require(Action.UNIT_MANAGE)) -> UnitOut:
    return service.unit_out(service.create_unit(db, actor=auth.actor, data=body))


@router.patch("/{code}", response_model=UnitOut)
def update_unit(code: str, body: UnitPatch, db: SessionDep,
                auth: Authorization = require(Action.UNIT_MANAGE)) -> UnitOut:
    return service.unit_out(service.update_unit(db, actor=auth.actor, code=code, patch=body))

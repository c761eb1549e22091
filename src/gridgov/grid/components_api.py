"""Components (部件): list, get, nearest, import and export.

Reads need `unit.read` (every staff role); imports need `config.manage` (administrators).
Positions are stored in GCJ-02; `crs` converts them on the way out (and in, for nearest).
"""

import json
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gridgov.auth.deps import Authorization, require
from gridgov.auth.policy import Action
from gridgov.errors import InvalidInput
from gridgov.grid import components, service
from gridgov.grid.api import GEOJSON, UPLOAD_OPENAPI, CrsQuery, read_upload
from gridgov.grid.components import ComponentStatus, component_classes
from gridgov.grid.crs import CRS, from_gcj02
from gridgov.grid.models import Component
from gridgov.grid.schemas import (
    ComponentClassOut,
    ComponentImportOut,
    ComponentOut,
    ComponentPage,
    Latitude,
    Longitude,
    NearestComponentOut,
)
from gridgov.excel import XLSX_MEDIA_TYPE
from gridgov.http import SessionDep

router = APIRouter(prefix="/api/v1/components", tags=["components 部件"])

MAX_NEAREST_API = 100

GridCodeQuery = Annotated[str | None, Query(
    description="网格编码：街道 9 位、社区 12 位、基础网格 14 位或单元网格 15 位")]
ClassQuery = Annotated[str | None, Query(description="部件大类（2 位）或小类（4 位），如 01、0101")]
OwnerQuery = Annotated[str | None, Query(description="权属单位编码，如 W002")]


class ExportFormat(StrEnum):
    GEOJSON = "geojson"
    XLSX = "xlsx"


def component_out(component: Component, crs: CRS) -> ComponentOut:
    cls = component_classes().get(component.minor_class)
    lng, lat = from_gcj02(component.lng, component.lat, crs)
    status = ComponentStatus(component.status)
    return ComponentOut(
        code=component.code, name=component.name, major_class=component.major_class,
        minor_class=component.minor_class, class_name=cls.name if cls else None,
        owner_code=component.owner.code if component.owner else None,
        owner_name=component.owner.name if component.owner else None, status=status,
        status_label=status.label, lng=round(lng, 7), lat=round(lat, 7), crs=crs,
        unit_grid_code=component.unit_grid_code, grid_version=component.grid_version)


@router.get("", response_model=ComponentPage)
def list_components(
    db: SessionDep, grid_code: GridCodeQuery = None, class_code: ClassQuery = None,
    owner_code: OwnerQuery = None, status: ComponentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=components.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0, crs: CrsQuery = CRS.GCJ02,
    auth: Authorization = require(Action.UNIT_READ),
) -> ComponentPage:
    """按网格、类别、权属单位、状态筛选部件，按编码分页。"""
    items, total = components.list_components(
        db, grid_code=grid_code, class_code=class_code, owner_code=owner_code, status=status,
        limit=limit, offset=offset)
    return ComponentPage(total=total, limit=limit, offset=offset,
                         items=[component_out(c, crs) for c in items])


@router.get("/classes", response_model=list[ComponentClassOut])
def list_classes(auth: Authorization = require(Action.UNIT_READ)) -> list[ComponentClassOut]:
    """部件小类（目录中的部件类别）。"""
    return [ComponentClassOut(code=c.code, name=c.name, major_code=c.major_code,
                              major_name=c.major_name) for c in component_classes().values()]


@router.get("/nearest", response_model=list[NearestComponentOut])
def nearest(
    db: SessionDep, lng: Longitude, lat: Latitude, crs: CrsQuery = CRS.GCJ02,
    class_code: ClassQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_NEAREST_API)] = 10,
    auth: Authorization = require(Action.UNIT_READ),
) -> list[NearestComponentOut]:
    """离一个位置最近的部件（可限定类别），由近到远，距离为米。"""
    found = components.nearest(db, lng=lng, lat=lat, crs=crs, major_minor=class_code,
                               limit=limit)
    classes = component_classes()
    out = []
    for item in found:
        x, y = from_gcj02(item.lng, item.lat, crs)
        cls = classes.get(item.minor_class)
        out.append(NearestComponentOut(
            code=item.code, name=item.name, minor_class=item.minor_class,
            class_name=cls.name if cls else None, owner_code=item.owner_code,
            status=item.status, status_label=item.status.label, lng=round(x, 7),
            lat=round(y, 7), crs=crs, unit_grid_code=item.unit_grid_code,
            distance_m=item.distance_m))
    return out


@router.get("/export", response_class=Response,
            responses={200: {"content": {GEOJSON: {}, XLSX_MEDIA_TYPE: {}}}})
def export_components(
    db: SessionDep, format: ExportFormat = ExportFormat.GEOJSON, crs: CrsQuery = CRS.GCJ02,
    grid_code: GridCodeQuery = None, class_code: ClassQuery = None,
    owner_code: OwnerQuery = None, status: ComponentStatus | None = None,
    auth: Authorization = require(Action.UNIT_READ),
) -> Response:
    """导出部件：GeoJSON（默认）或 Excel，可按条件筛选；导出的文件可直接再导入。"""
    selected = components.all_components(db, grid_code=grid_code, class_code=class_code,
                                         owner_code=owner_code, status=status)
    if format is ExportFormat.XLSX:
        return Response(components.export_excel(selected, crs=crs), media_type=XLSX_MEDIA_TYPE, headers={
            "Content-Disposition": "attachment; filename*=UTF-8''%E9%83%A8%E4%BB%B6.xlsx"})
    body = json.dumps(components.export_geojson(selected, crs=crs), ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")
    return Response(body, media_type=GEOJSON, headers={
        "Content-Disposition": "attachment; filename*=UTF-8''%E9%83%A8%E4%BB%B6.geojson"})


@router.post("/import", response_model=ComponentImportOut, openapi_extra=UPLOAD_OPENAPI)
async def import_components(
    request: Request, db: SessionDep,
    crs: Annotated[CRS | None, Query(description="文件未注明坐标系时必须指定")] = None,
    auth: Authorization = require(Action.CONFIG_MANAGE),
) -> ComponentImportOut:
    """导入部件（GeoJSON 点或 Excel .xlsx，最大 50 MB）：新编码新增，已有编码更新。

    全部或全不：任何一行有错则不写入，422 列出每个问题（errors，按行号和编码）。
    """
    content, name = await read_upload(request)
    if content[:2] == b"PK":  # a zip container: .xlsx
        rows, problems = components.parse_excel(content)
    else:
        rows, problems, declared = components.parse_geojson(service.parse_geojson(content))
        if declared is not None and crs is not None and declared is not crs:
            raise InvalidInput(f"文件声明的坐标系 {declared.value} 与导入参数 {crs.value} 矛盾")
        crs = crs or declared
    result = components.import_components(db, actor=auth.actor, rows=rows, crs=crs,
                                          parse_problems=problems, source_name=name)
    return ComponentImportOut(created=result.created, updated=result.updated,
                              unchanged=result.unchanged)


@router.get("/{code}", response_model=ComponentOut)
def get_component(code: str, db: SessionDep, crs: CrsQuery = CRS.GCJ02,
                  auth: Authorization = require(Action.UNIT_READ)) -> ComponentOut:
    return component_out(components.get_component(db, code=code), crs)

"""The grid: statistics, GeoJSON layers for maps, cells, locating, versioned imports.

Who may do what:
- locate one position (GET /locate): any signed-in principal, the public role included —
  the reporting app shows a citizen which grid their photo falls in; grid codes are not
  confidential;
- everything else that reads (stats, layers, cells, versions, batch locate): `unit.read`,
  i.e. every staff role, not the public (batch locating is a staff and integration tool);
- imports: `config.manage` (administrators).

The layers are cacheable: a strong ETag derived from the grid revision and the parameters
(`If-None-Match` → 304), `Cache-Control: private, no-cache` (revalidate, never stale), and
gzip when the client accepts it.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gridgov.auth.deps import Authorization, CurrentPrincipal, require
from gridgov.auth.policy import Action
from gridgov.errors import InvalidInput
from gridgov.grid import service
from gridgov.grid.crs import CRS
from gridgov.grid.rules import GridLevel
from gridgov.grid.schemas import (
    CellOut,
    GridImportOut,
    GridLocationOut,
    GridStatsOut,
    GridVersionOut,
    LevelStatsOut,
    LocateBatchIn,
    LocateBatchOut,
    LocatedPointOut,
    Latitude,
    Longitude,
)
from gridgov.http import SessionDep

router = APIRouter(prefix="/api/v1/grids", tags=["grid 网格"])

GEOJSON = "application/geo+json"
MAX_ORPHANS_LISTED = 100
# Multipart framing around the file: boundaries, part headers, other fields.
_MULTIPART_ALLOWANCE = 64 * 1024

CrsQuery = Annotated[CRS, Query(description="坐标系：wgs84（GPS）、gcj02（高德、腾讯）、bd09（百度）")]
DecimalsQuery = Annotated[int, Query(ge=5, le=7, description="坐标小数位数（6 位约 0.1 米）")]


async def read_upload(request: Request) -> tuple[bytes, str | None]:
    """The uploaded file: a multipart form field `file`, or the raw request body
    (Content-Type application/geo+json or application/json). Refused above 50 MB, from the
    Content-Length before anything is parsed, or while reading a body sent without one."""
    limit = service.MAX_UPLOAD_BYTES
    too_large = service.PayloadTooLarge(f"文件超过 {limit // 1024 // 1024} MB")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit + _MULTIPART_ALLOWANCE:
        raise too_large
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("缺少上传文件（表单字段 file）",
                               errors=[{"field": "file", "message": "缺少上传文件"}])
        content = await upload.read(limit + 1)
        name = upload.filename
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        content, name = b"".join(chunks), None
    if len(content) > limit:
        raise too_large
    return content, name


UPLOAD_OPENAPI = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}},
    GEOJSON: {"schema": {"type": "object"}},
}}}


@router.get("/stats", response_model=GridStatsOut)
def grid_stats(db: SessionDep, auth: Authorization = require(Action.UNIT_READ)) -> GridStatsOut:
    """各层级现行网格的数量与面积。"""
    stats = service.stats(db)
    levels = [
        LevelStatsOut(level=s.level, label=s.level.label, count=s.count,
                      area_km2=round(s.area_m2 / 1e6, 4), version=s.version,
                      effective_at=s.effective_at)
        for s in stats.levels
    ]
    return GridStatsOut(grid_version=stats.grid_version,
                        total_area_km2=max((s.area_km2 for s in levels), default=0.0),
                        levels=levels)


@router.get("/versions", response_model=list[GridVersionOut])
def grid_versions(db: SessionDep,
                  auth: Authorization = require(Action.UNIT_READ)) -> list[GridVersionOut]:
    """每次导入一个版本：层级、生效时间、增改删数量。"""
    return [
        GridVersionOut(version=v.id, level=GridLevel(v.level), effective_at=v.effective_at,
                       imported_at=v.imported_at, source_name=v.source_name,
                       source_crs=CRS(v.source_crs), cells=v.cells, added=v.added,
                       changed=v.changed, unchanged=v.unchanged, retired=v.retired,
                       actor_name=v.actor_name)
        for v in service.list_versions(db)
    ]


def _location_out(location: service.GridLocation) -> GridLocationOut:
    return GridLocationOut(
        unit_code=location.unit_code, basic_code=location.basic_code,
        community_code=location.community_code, street_code=location.street_code,
        grid_version=location.grid_version, lng=location.lng, lat=location.lat)


@router.get("/locate", response_model=GridLocationOut)
def locate(principal: CurrentPrincipal, db: SessionDep, lng: Longitude, lat: Latitude,
           crs: CrsQuery = CRS.GCJ02) -> GridLocationOut:
    """定位一个点所在的单元网格（及基础网格、社区、街道）。不在管辖范围内：422。"""
    return _location_out(service.locate(db, lng=lng, lat=lat, crs=crs))


@router.post("/locate", response_model=LocateBatchOut)
def locate_batch(body: LocateBatchIn, db: SessionDep,
                 auth: Authorization = require(Action.UNIT_READ)) -> LocateBatchOut:
    """批量定位（最多 10,000 个点）；不在范围内的点 inside 为 false，不报错。"""
    lngs = [p[0] for p in body.points]
    lats = [p[1] for p in body.points]
    batch = service.locate_many(db, lngs=lngs, lats=lats, crs=body.crs)
    results = []
    xs, ys = batch.lngs.tolist(), batch.lats.tolist()
    for i, inside in enumerate(batch.inside.tolist()):
        results.append(LocatedPointOut(
            index=i, inside=inside,
            unit_code=str(batch.unit_codes[i]) if inside else None,
            basic_code=str(batch.basic_codes[i]) if inside else None,
            community_code=str(batch.community_codes[i]) if inside else None,
            street_code=str(batch.street_codes[i]) if inside else None,
            lng=xs[i], lat=ys[i]))
    inside_count = int(batch.inside.sum())
    return LocateBatchOut(grid_version=batch.grid_version, inside=inside_count,
                          outside=len(batch) - inside_count, results=results)


@router.get("/cells/{code}", response_model=CellOut)
def get_cell(code: str, db: SessionDep, version: Annotated[int | None, Query(ge=1)] = None,
             crs: CrsQuery = CRS.GCJ02, decimals: DecimalsQuery = 7,
             auth: Authorization = require(Action.UNIT_READ)) -> CellOut:
    """一个网格：现行或最后一版；带 version 时为该网格版本中的样子（案件按立案时的版本查）。"""
    row = service.get_cell(db, code=code, version=version)
    level = GridLevel(row.level)
    return CellOut(
        code=row.code, name=row.name, level=level, level_label=level.label,
        parent_code=row.parent_code, basic_code=row.basic_code, area_m2=round(row.area_m2, 1),
        point=service.point_in(row, crs), version_from=row.version_from,
        version_to=row.version_to, valid_from=row.valid_from, valid_to=row.valid_to,
        active=row.version_to is None, crs=crs,
        geometry=service.geometry_geojson(row, crs=crs, decimals=decimals))


@router.get("/{level}", response_class=Response,
            responses={200: {"content": {GEOJSON: {}}, "description": "GeoJSON FeatureCollection"},
                       304: {"description": "未变化（If-None-Match）"}})
def level_layer(level: GridLevel, request: Request, db: SessionDep,
                parent_code: Annotated[str | None, Query(
                    description="上级编码：街道、社区（或单元网格的所属基础网格）")] = None,
                crs: CrsQuery = CRS.GCJ02, decimals: DecimalsQuery = 6,
                auth: Authorization = require(Action.UNIT_READ)) -> Response:
    """一个层级的现行网格，GeoJSON FeatureCollection；可按上级筛选、按坐标系输出。"""
    gzip_ok = "gzip" in request.headers.get("accept-encoding", "").lower()
    etag = service.geojson_etag(service.revision_token(db), level, parent_code, crs, decimals)
    headers = {"Cache-Control": "private, no-cache", "Vary": "Accept-Encoding"}
    presented = {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}
    gzip_etag = etag[:-1] + '-gz"'
    if presented & {etag, gzip_etag, f"W/{etag}", f"W/{gzip_etag}", "*"}:
        return Response(status_code=304, headers={**headers, "ETag": gzip_etag if gzip_ok
                                                  else etag})
    document = service.level_geojson(db, level=level, parent_code=parent_code, crs=crs,
                                     decimals=decimals)
    if gzip_ok:
        return Response(document.gzipped, media_type=GEOJSON, headers={
            **headers, "ETag": document.gzip_etag, "Content-Encoding": "gzip"})
    return Response(document.body, media_type=GEOJSON, headers={**headers, "ETag": document.etag})


@router.post("/{level}/import", response_model=GridImportOut, openapi_extra=UPLOAD_OPENAPI)
async def import_level(
    level: GridLevel, request: Request, db: SessionDep,
    crs: Annotated[CRS | None, Query(description="文件未注明坐标系时必须指定")] = None,
    effective_at: Annotated[datetime | None, Query(description="生效时间（带时区），默认为现在")] = None,
    auth: Authorization = require(Action.CONFIG_MANAGE),
) -> GridImportOut:
    """导入一个层级的全部网格（GeoJSON，最大 50 MB），成为新的网格版本。

    上传方式：表单字段 file，或请求体本身（Content-Type: application/geo+json）。

    全部或全不：任何一个要素有错则不写入，422 列出每个问题（errors，按要素序号和编码）。
    文件中没有的现行网格注销；注销的编码不得再次使用。
    """
    content, name = await read_upload(request)
    collection = service.parse_geojson(content)
    result = service.import_level(db, actor=auth.actor, level=level, collection=collection,
                                  crs=crs, effective_at=effective_at, source_name=name)
    return GridImportOut(
        version=result.version, level=result.level, effective_at=result.effective_at,
        source_crs=result.source_crs, cells=result.cells, added=result.added,
        changed=result.changed, unchanged=result.unchanged, retired=result.retired,
        retired_codes=list(result.retired_codes), orphaned=len(result.orphaned_codes),
        orphaned_codes=list(result.orphaned_codes[:MAX_ORPHANS_LISTED]),
        components_relocated=result.components_relocated)

"""The grid as the public may see it, without signing in: the district's street outlines
(simplified; code and name only) for the 随手拍 map, and which street a position lies in.

Nothing below the street level is exposed. The outlines are built once per grid revision
(about 400 vertices for Dongcheng) and cached by browsers and proxies, revalidated by ETag.
"""

import gzip
import hashlib
import json
from typing import Annotated

import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from gridgov.grid import service
from gridgov.grid.crs import CRS, to_gcj02
from gridgov.grid.rules import GridLevel, OutsideManagedArea
from gridgov.grid.schemas import Latitude, Longitude
from gridgov.http import SessionDep

router = APIRouter(prefix="/api/v1/public/grids", tags=["public 公众"])

GEOJSON = "application/geo+json"
# Simplification keeps shared edges shared (a coverage), to about 10 m; 5 decimals ≈ 1 m.
SIMPLIFY_TOLERANCE_DEG = 0.0001
PRECISION_DEG = 1e-5
CACHE_CONTROL = "public, max-age=3600, must-revalidate"

_latest: tuple[str | None, service.GeoJSONDocument] | None = None


class PublicPlaceOut(BaseModel):
    """Where a position lies: inside the district or not, its street, the point in GCJ-02."""

    inside: bool
    street_code: str | None
    street_name: str | None
    lng: float
    lat: float


def street_outlines(db: Session) -> service.GeoJSONDocument:
    """The active streets as GeoJSON (GCJ-02, simplified), cached per grid revision."""
    global _latest
    token = service.revision_token(db)
    if _latest is not None and _latest[0] == token:
        return _latest[1]
    rows = service.list_cells(db, level=GridLevel.STREET)
    polygons = shapely.coverage_simplify(shapely.from_wkb([row.geometry for row in rows]),
                                         SIMPLIFY_TOLERANCE_DEG)
    features = [
        {"type": "Feature", "properties": {"code": row.code, "name": row.name},
         "geometry": json.loads(shapely.to_geojson(shapely.set_precision(polygon, PRECISION_DEG)))}
        for row, polygon in zip(rows, polygons, strict=True)]
    body = json.dumps({"type": "FeatureCollection", "coordinate_system": CRS.GCJ02.value,
                       "features": features}, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
    document = service.GeoJSONDocument(etag, body, gzip.compress(body, mtime=0))
    _latest = (token, document)
    return document


@router.get("/streets", response_class=Response,
            responses={200: {"content": {GEOJSON: {}}, "description": "GeoJSON FeatureCollection"},
                       304: {"description": "未变化（If-None-Match）"}})
def streets(request: Request, db: SessionDep) -> Response:
    """东城区各街道的轮廓（简化，GCJ-02），仅含街道编码和名称；供随手拍地图使用，无需登录。"""
    document = street_outlines(db)
    gzip_ok = "gzip" in request.headers.get("accept-encoding", "").lower()
    etag = document.gzip_etag if gzip_ok else document.etag
    headers = {"Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding", "ETag": etag}
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    if gzip_ok:
        return Response(document.gzipped, media_type=GEOJSON,
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(document.body, media_type=GEOJSON, headers=headers)


@router.get("/place", response_model=PublicPlaceOut)
def place(db: SessionDep, lng: Longitude, lat: Latitude,
          crs: Annotated[CRS, Query(description="坐标系：wgs84（GPS）、gcj02、bd09")] = CRS.GCJ02,
          ) -> PublicPlaceOut:
    """一个位置是否在东城区内、属于哪个街道（及其 GCJ-02 坐标，用于在地图上标出）。"""
    try:
        found = service.locate(db, lng=lng, lat=lat, crs=crs)
    except OutsideManagedArea:
        x, y = to_gcj02(lng, lat, CRS(crs))
        return PublicPlaceOut(inside=False, street_code=None, street_name=None, lng=x, lat=y)
    name = service.get_cell(db, code=found.street_code).name
    return PublicPlaceOut(inside=True, street_code=found.street_code, street_name=name,
                          lng=found.lng, lat=found.lat)

"""The grid in the database: versioned imports, the cached locate index, cells and GeoJSON.

Imports. Each import replaces one level as a whole and is one new grid version (numbers
run across levels: version N is the grid after the N-th import) with an effective instant.
The file is validated completely first (`validate.validate_features`, against the active
level above); one bad feature refuses the whole file with every problem listed, and nothing
is written. Then, in one transaction with one audit event: new codes are added, cells whose
name, parents or polygon changed close their row and open a new one under the same code,
cells missing from the file are retired. Codes of retired cells can never be imported again.
Old rows stay: `get_cell(db, code=..., version=v)` answers for any version a case was filed in.

Locating. The unit grids are indexed once per process (`locate.GridIndex`, ~0.5 s for
Dongcheng) and reused until the grid changes: every import writes a fresh random token into
the `grid_revisions` row "grid", and each call compares that token (one primary-key read)
with the one the cached index was built at, so several server processes sharing a database
see an import as soon as it commits. Building is serialised by a lock; lookups are lock-free.
"""

import gzip
import hashlib
import json
import threading
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely import Polygon
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from gridgov.audit import service as audit
from gridgov import clock
from gridgov.audit.rules import Actor
from gridgov.db import database_key, insert_rows
from gridgov.errors import Conflict, DomainError, InvalidInput, NotFound
from gridgov.grid.crs import (
    CRS,
    from_gcj02,
    geometry_from_gcj02,
    geometry_to_local_metric,
    to_gcj02,
    to_gcj02_array,
)
from gridgov.grid.locate import OUTSIDE, GridIndex
from gridgov.grid.models import GridCellRecord, GridRevision, GridVersion
from gridgov.grid.rules import (
    CODE_LENGTHS,
    COMMUNITY_CODE_LENGTH,
    COUNTY_CODE_LENGTH,
    GridCell,
    GridLevel,
    OutsideManagedArea,
    code_problem,
)
from gridgov.grid.validate import validate_features

GRID_REVISION = "grid"
COMPONENTS_REVISION = "components"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# An effective instant may lie this far ahead of the server clock (clients' clocks drift).
EFFECTIVE_AT_SKEW = timedelta(minutes=5)
# Key of the PostgreSQL advisory lock that serialises grid and component writes.
_GRID_LOCK_KEY = 0x67726931  # "gri1"
_STREET_CODE_LENGTH = CODE_LENGTHS[GridLevel.STREET]
_PARENT_LEVEL: dict[GridLevel, GridLevel | None] = {
    GridLevel.STREET: None,
    GridLevel.COMMUNITY: GridLevel.STREET,
    GridLevel.BASIC: GridLevel.COMMUNITY,
    GridLevel.UNIT: GridLevel.BASIC,
}


class GridNotLoaded(Conflict):
    code = "grid-not-loaded"
    title = "尚未导入网格"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload-too-large"
    title = "请求内容过大"


# --- results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GridLocation:
    """Where a position (or a grid code) lies. `lng`/`lat` are GCJ-02, as stored."""

    unit_code: str
    basic_code: str
    community_code: str
    street_code: str
    grid_version: int
    lng: float
    lat: float


@dataclass(frozen=True)
class GridBatch:
    """`locate_many`: per point its codes ("" when outside) and its GCJ-02 position."""

    grid_version: int
    lngs: NDArray[np.float64]
    lats: NDArray[np.float64]
    inside: NDArray[np.bool_]
    unit_codes: NDArray[np.str_]
    basic_codes: NDArray[np.str_]
    community_codes: NDArray[np.str_]
    street_codes: NDArray[np.str_]

    def __len__(self) -> int:
        return len(self.lngs)

    def location(self, i: int) -> GridLocation | None:
        if not self.inside[i]:
            return None
        return GridLocation(str(self.unit_codes[i]), str(self.basic_codes[i]),
                            str(self.community_codes[i]), str(self.street_codes[i]),
                            self.grid_version, float(self.lngs[i]), float(self.lats[i]))


@dataclass(frozen=True)
class GridImportResult:
    version: int
    level: GridLevel
    effective_at: datetime
    source_crs: CRS
    cells: int
    added: int
    changed: int
    unchanged: int
    retired: int
    retired_codes: tuple[str, ...]
    # Active cells of other levels whose parent (or basic grid) is no longer active: import
    # the levels below next, top-down.
    orphaned_codes: tuple[str, ...]
    components_relocated: int


@dataclass(frozen=True)
class LevelStats:
    level: GridLevel
    count: int
    area_m2: float
    version: int | None
    effective_at: datetime | None


@dataclass(frozen=True)
class GridStats:
    grid_version: int
    levels: tuple[LevelStats, ...]


@dataclass(frozen=True)
class GeoJSONDocument:
    """GeoJSON bytes and their gzip encoding; `etag` is for the plain bytes, the gzip
    encoding answers to the same tag with "-gz" inside the quotes (RFC 9110 8.8.3.3)."""

    etag: str
    body: bytes
    gzipped: bytes

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gz"'


# --- revisions ---------------------------------------------------------------------------


def revision_token(db: Session, name: str = GRID_REVISION) -> str | None:
    """The token of the current grid (or component register); None before the first change."""
    return db.scalar(select(GridRevision.token).where(GridRevision.name == name))


def bump_revision(db: Session, name: str) -> str:
    row = db.get(GridRevision, name, populate_existing=True)
    if row is None:
        row = GridRevision(name=name, revision=0)
        db.add(row)
    row.revision += 1
    row.token = uuid.uuid4().hex
    row.changed_at = clock.utcnow()
    db.flush()
    return row.token


def lock_grid(db: Session) -> None:
    """Serialise grid and component writes (SQLite: the write session's BEGIN IMMEDIATE)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _GRID_LOCK_KEY})


def current_version(db: Session) -> int:
    """The current grid version: the number of the latest import (0 before any)."""
    return db.scalar(select(func.max(GridVersion.id))) or 0


# --- the cached index --------------------------------------------------------------------


@dataclass(frozen=True)
class GridSnapshot:
    """The unit grids of one grid revision, indexed for point location."""

    token: str | None
    version: int
    index: GridIndex

    def locate(self, lng: float, lat: float, crs: CRS = CRS.GCJ02) -> GridLocation:
        """See `locate`."""
        x, y = to_gcj02(float(lng), float(lat), CRS(crs))
        try:
            found = self.index.locate(x, y, CRS.GCJ02)
        except OutsideManagedArea:
            raise OutsideManagedArea(lng, lat) from None
        return GridLocation(found.unit_code, found.basic_code, found.community_code,
                            found.street_code, self.version, x, y)


_MAX_CACHED_DATABASES = 4
_snapshots: "OrderedDict[str, GridSnapshot]" = OrderedDict()
_snapshot_lock = threading.Lock()


def _remember(key: str, snapshot: GridSnapshot) -> None:
    _snapshots[key] = snapshot
    _snapshots.move_to_end(key)
    while len(_snapshots) > _MAX_CACHED_DATABASES:
        _snapshots.popitem(last=False)


def grid_snapshot(db: Session) -> GridSnapshot:
    """The current unit grids, indexed; built once per grid revision and process.

    Thread-safe. Raises GridNotLoaded when no unit grid is active.
    """
    key = database_key(db)
    token = revision_token(db)
    cached = _snapshots.get(key)
    if cached is not None and cached.token == token:
        return cached
    with _snapshot_lock:
        cached = _snapshots.get(key)
        token = revision_token(db)
        if cached is not None and cached.token == token:
            return cached
        snapshot = _load_snapshot(db)
        _remember(key, snapshot)
        return snapshot


def _load_snapshot(db: Session) -> GridSnapshot:
    # On PostgreSQL (read committed) every statement sees the latest commit: read the token
    # again after the rows, and start over if an import committed in between.
    for _ in range(5):
        token = revision_token(db)
        version = current_version(db)
        rows = db.execute(
            select(GridCellRecord.code, GridCellRecord.name, GridCellRecord.parent_code,
                   GridCellRecord.basic_code, GridCellRecord.geometry)
            .where(GridCellRecord.level == GridLevel.UNIT.value,
                   GridCellRecord.version_to.is_(None))
        ).all()
        if revision_token(db) == token:
            break
    else:  # pragma: no cover - five imports during one build
        raise Conflict("网格正在频繁变更，请稍后重试")
    if not rows:
        raise GridNotLoaded("尚未导入单元网格，无法定位；请先导入四级网格")
    polygons = shapely.from_wkb(np.array([r.geometry for r in rows], dtype=object))
    cells = [GridCell(GridLevel.UNIT, r.code, r.name, r.parent_code, r.basic_code, p)
             for r, p in zip(rows, polygons, strict=True)]
    return GridSnapshot(token, version, GridIndex.from_cells(cells))


# --- locating ----------------------------------------------------------------------------


def locate(db: Session, *, lng: float, lat: float, crs: CRS = CRS.GCJ02) -> GridLocation:
    """The unit grid (and basic grid, community, street) at a position given in `crs`.

    Raises OutsideManagedArea (422) when it lies in no unit grid, GridNotLoaded (409) when
    no grid has been imported. The returned position is converted to GCJ-02.
    """
    return grid_snapshot(db).locate(lng, lat, crs)


def locate_code(db: Session, *, unit_grid_code: str) -> GridLocation:
    """A case placed by unit grid code: the cell's codes and its representative point.

    Raises InvalidInput for a malformed or retired code, NotFound for an unknown one.
    """
    if (problem := code_problem(GridLevel.UNIT, unit_grid_code)) is not None:
        raise InvalidInput(problem, errors=[{"field": "unit_grid_code", "message": problem}])
    row = _latest_row(db, unit_grid_code)
    if row is None or row.level != GridLevel.UNIT.value:
        raise NotFound(f"单元网格“{unit_grid_code}”不存在")
    if row.version_to is not None:
        detail = f"单元网格“{unit_grid_code}”已于版本 {row.version_to} 注销，不能再用于定位"
        raise InvalidInput(detail, errors=[{"field": "unit_grid_code", "message": detail}])
    assert row.basic_code is not None
    return GridLocation(row.code, row.basic_code, row.code[:COMMUNITY_CODE_LENGTH],
                        row.code[:_STREET_CODE_LENGTH], current_version(db),
                        row.point_lng, row.point_lat)


def locate_many(
    db: Session, *, lngs: ArrayLike, lats: ArrayLike, crs: CRS = CRS.GCJ02
) -> GridBatch:
    """Vectorised `locate`: points outside come back with inside=False and "" codes."""
    snapshot = grid_snapshot(db)
    x, y = to_gcj02_array(lngs, lats, CRS(crs))
    found = snapshot.index.locate_many(x, y, CRS.GCJ02)
    return GridBatch(snapshot.version, x, y, found.rows != OUTSIDE, found.unit_codes(),
                     found.basic_codes(), found.community_codes(), found.street_codes())


# --- reading cells -----------------------------------------------------------------------


def _latest_row(db: Session, code: str) -> GridCellRecord | None:
    return db.scalar(select(GridCellRecord).where(GridCellRecord.code == code)
                     .order_by(GridCellRecord.version_from.desc()).limit(1))


def get_cell(db: Session, *, code: str, version: int | None = None) -> GridCellRecord:
    """The cell with `code`: as at grid `version` when given (what a case filed in that
    version refers to), else its latest row (active, or retired with version_to set)."""
    if version is None:
        row = _latest_row(db, code)
    else:
        row = db.scalar(select(GridCellRecord).where(
            GridCellRecord.code == code, GridCellRecord.version_from <= version,
            (GridCellRecord.version_to.is_(None)) | (GridCellRecord.version_to > version)))
    if row is None:
        at = "" if version is None else f"在版本 {version} 中"
        raise NotFound(f"网格“{code}”{at}不存在")
    return row


def cell_history(db: Session, *, code: str) -> Sequence[GridCellRecord]:
    return db.scalars(select(GridCellRecord).where(GridCellRecord.code == code)
                      .order_by(GridCellRecord.version_from)).all()


def cell_polygon(row: GridCellRecord) -> Polygon:
    return shapely.from_wkb(row.geometry)


def _code_range(prefix: str):
    # Codes are digit strings: every code starting with `prefix` sorts in [prefix, prefix + ':')
    # (':' follows '9' in ASCII), a range both backends answer from the index.
    return (GridCellRecord.code >= prefix) & (GridCellRecord.code < prefix + ":")


def within_problem(level: GridLevel, within: str) -> str | None:
    """Why `within` cannot select cells of `level`: the code of any enclosing cell (county,
    street, community) or, for unit grids, a basic grid."""
    allowed = [COUNTY_CODE_LENGTH] + [
        length for lv, length in CODE_LENGTHS.items()
        if lv in (GridLevel.STREET, GridLevel.COMMUNITY) and length < level.code_length]
    if level is GridLevel.UNIT:
        allowed.append(CODE_LENGTHS[GridLevel.BASIC])
    if not within.isascii() or not within.isdigit() or len(within) not in allowed:
        lengths = "、".join(str(n) for n in allowed)
        return f"上级编码“{within}”无效：{level.label}可按 {lengths} 位的上级编码筛选"
    return None


def list_cells(
    db: Session, *, level: GridLevel, parent_code: str | None = None
) -> Sequence[GridCellRecord]:
    """Active cells of a level, by code; `parent_code` keeps those inside that enclosing cell."""
    level = GridLevel(level)
    query = select(GridCellRecord).where(
        GridCellRecord.level == level.value, GridCellRecord.version_to.is_(None)
    ).order_by(GridCellRecord.code)
    if parent_code is not None:
        if (problem := within_problem(level, parent_code)) is not None:
            raise InvalidInput(problem, errors=[{"field": "parent_code", "message": problem}])
        if len(parent_code) == CODE_LENGTHS[GridLevel.BASIC]:
            query = query.where(GridCellRecord.basic_code == parent_code)
        else:
            query = query.where(_code_range(parent_code))
    return db.scalars(query).all()


def list_versions(db: Session) -> Sequence[GridVersion]:
    return db.scalars(select(GridVersion).order_by(GridVersion.id)).all()


def stats(db: Session) -> GridStats:
    counts = {
        level: (count, area or 0.0)
        for level, count, area in db.execute(
            select(GridCellRecord.level, func.count(), func.sum(GridCellRecord.area_m2))
            .where(GridCellRecord.version_to.is_(None)).group_by(GridCellRecord.level))
    }
    latest = {
        row.level: row for row in db.scalars(
            select(GridVersion).where(GridVersion.id.in_(
                select(func.max(GridVersion.id)).group_by(GridVersion.level))))
    }
    levels = []
    for level in GridLevel:
        count, area = counts.get(level.value, (0, 0.0))
        version = latest.get(level.value)
        levels.append(LevelStats(level, count, float(area), version.id if version else None,
                                 version.effective_at if version else None))
    return GridStats(current_version(db), tuple(levels))


# --- GeoJSON for maps and export ---------------------------------------------------------

OUTPUT_DECIMALS = (5, 6, 7)
_MAX_CACHED_DOCUMENTS = 32
_documents: "OrderedDict[tuple, GeoJSONDocument]" = OrderedDict()
_documents_lock = threading.Lock()


def geojson_etag(
    token: str | None, level: GridLevel, parent_code: str | None, crs: CRS, decimals: int
) -> str:
    """A strong ETag: the same grid revision and parameters give the same bytes."""
    seed = f"{token}|{GridLevel(level).value}|{parent_code}|{CRS(crs).value}|{decimals}"
    return '"' + hashlib.sha256(seed.encode()).hexdigest()[:24] + '"'


def level_geojson(
    db: Session, *, level: GridLevel, parent_code: str | None = None, crs: CRS = CRS.GCJ02,
    decimals: int = 6,
) -> GeoJSONDocument:
    """The active cells of a level as GeoJSON bytes (cached per grid revision)."""
    level, crs = GridLevel(level), CRS(crs)
    if decimals not in OUTPUT_DECIMALS:
        raise InvalidInput(f"坐标小数位数应为 {OUTPUT_DECIMALS[0]}–{OUTPUT_DECIMALS[-1]}")
    token = revision_token(db)
    key = (database_key(db), token, level, parent_code, crs, decimals)
    with _documents_lock:
        if (document := _documents.get(key)) is not None:
            _documents.move_to_end(key)
            return document
    rows = list_cells(db, level=level, parent_code=parent_code)
    collection = feature_collection(rows, crs=crs, decimals=decimals)
    collection["grid_version"] = current_version(db)
    collection["level"] = level.value
    body = json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    document = GeoJSONDocument(geojson_etag(token, level, parent_code, crs, decimals), body,
                               gzip.compress(body, compresslevel=6, mtime=0))
    with _documents_lock:
        _documents[key] = document
        while len(_documents) > _MAX_CACHED_DOCUMENTS:
            _documents.popitem(last=False)
    return document


def feature_collection(
    rows: Sequence[GridCellRecord], *, crs: CRS = CRS.GCJ02, decimals: int = 7
) -> dict[str, Any]:
    """Cells as a FeatureCollection in `crs`, labelled so that it imports back as it is."""
    polygons = shapely.from_wkb(np.array([r.geometry for r in rows], dtype=object))
    polygons = geometry_from_gcj02(polygons, CRS(crs))
    features = []
    for row, polygon in zip(rows, polygons, strict=True):
        features.append({
            "type": "Feature",
            "id": row.code,
            "properties": {
                "code": row.code, "name": row.name, "level": row.level,
                "parent_code": row.parent_code, "basic_code": row.basic_code,
                "area_m2": round(row.area_m2, 1), "version": row.version_from,
            },
            "geometry": {"type": "Polygon", "coordinates": _rings(polygon, decimals)},
        })
    return {"type": "FeatureCollection", "coordinate_system": CRS(crs).value,
            "features": features}


def _rings(polygon: Polygon, decimals: int) -> list[list[list[float]]]:
    rings = [polygon.exterior, *polygon.interiors]
    # Python's round() is correctly rounded, so each number prints with at most `decimals`
    # digits; numpy.round may print 116.40123450000001.
    return [[[round(x, decimals), round(y, decimals)]
             for x, y in shapely.get_coordinates(ring).tolist()] for ring in rings]


def geometry_geojson(row: GridCellRecord, *, crs: CRS = CRS.GCJ02, decimals: int = 7) -> dict:
    polygon = geometry_from_gcj02(cell_polygon(row), CRS(crs))
    return {"type": "Polygon", "coordinates": _rings(polygon, decimals)}


def point_in(row: GridCellRecord, crs: CRS) -> tuple[float, float]:
    return from_gcj02(row.point_lng, row.point_lat, CRS(crs))


# --- importing ---------------------------------------------------------------------------


def parse_geojson(content: bytes) -> object:
    """The JSON document of an uploaded file (validation of its content comes later)."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    try:
        return json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InvalidInput("文件不是 UTF-8 编码的 GeoJSON") from None
    except json.JSONDecodeError as exc:
        detail = f"文件不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列 {exc.msg}"
        raise InvalidInput(detail, errors=[{"field": "file", "message": detail}]) from None


def import_level(
    db: Session,
    *,
    actor: Actor,
    level: GridLevel,
    collection: object,
    crs: CRS | None = None,
    effective_at: datetime | None = None,
    source_name: str | None = None,
) -> GridImportResult:
    """Replace the active cells of `level` by the GeoJSON FeatureCollection `collection`
    (see the module docstring). All or nothing; one audit event; commits."""
    level = GridLevel(level)
    lock_grid(db)
    now = clock.utcnow()
    effective_at = _effective_at(db, level, effective_at, now)
    history = db.execute(
        select(GridCellRecord.id, GridCellRecord.code, GridCellRecord.version_to)
        .where(GridCellRecord.level == level.value)
    ).all()
    active_ids = {r.code: r.id for r in history if r.version_to is None}
    retired_codes = {r.code for r in history} - set(active_ids)
    parents = _parents(db, level)
    report = validate_features(collection, level=level, crs=crs, parents=parents,
                               existing_codes=retired_codes)
    if not report.ok:
        problems = [p.as_dict() for p in report.problems]
        raise InvalidInput(f"{len(problems)} 处错误，未写入任何数据", errors=problems)
    if not report.cells:
        raise InvalidInput(f"文件中没有任何{level.label}：导入一个层级须包含该层级的全部网格")
    assert report.crs is not None

    token_before = revision_token(db)
    version_id = current_version(db) + 1
    cells = report.cells
    polygons = np.array([c.polygon for c in cells], dtype=object)
    areas = shapely.area(geometry_to_local_metric(polygons)).tolist()
    points = shapely.get_coordinates(shapely.point_on_surface(polygons)).tolist()
    wkbs = shapely.to_wkb(polygons).tolist()
    active_rows = {
        row.code: row for row in db.scalars(select(GridCellRecord).where(
            GridCellRecord.level == level.value, GridCellRecord.version_to.is_(None)))
    }

    new_rows: list[dict[str, Any]] = []
    close_ids: list[int] = []
    added = changed = unchanged = 0
    for cell, wkb, area, (px, py) in zip(cells, wkbs, areas, points, strict=True):
        old = active_rows.get(cell.code)
        if old is not None and _same_cell(old, cell):
            unchanged += 1
            continue
        if old is None:
            added += 1
        else:
            changed += 1
            close_ids.append(old.id)
        new_rows.append({
            "level": level.value, "code": cell.code, "name": cell.name,
            "parent_code": cell.parent_code, "basic_code": cell.basic_code, "geometry": wkb,
            "area_m2": area, "point_lng": px, "point_lat": py, "version_from": version_id,
            "version_to": None, "valid_from": effective_at, "valid_to": None,
        })
    incoming = {c.code for c in cells}
    retired = sorted(code for code in active_rows if code not in incoming)
    close_ids.extend(active_rows[code].id for code in retired)

    db.add(GridVersion(
        id=version_id, level=level.value, effective_at=effective_at, imported_at=now,
        source_name=(source_name or None) and source_name[:200], source_crs=report.crs.value,
        cells=len(cells), added=added, changed=changed, unchanged=unchanged,
        retired=len(retired), actor_name=actor.name[:100]))
    db.flush()
    for chunk in _chunks(close_ids, 500):
        db.execute(update(GridCellRecord).where(GridCellRecord.id.in_(chunk))
                   .values(version_to=version_id, valid_to=effective_at))
    insert_rows(db.connection(), GridCellRecord.__table__, new_rows)
    db.expire_all()

    relocated = 0
    index = None
    if level is GridLevel.UNIT:
        from gridgov.grid import components  # components import this module

        index = GridIndex.from_cells(cells)
        relocated = components.relocate_all(db, index=index, version=version_id)
    orphans = _orphans(db)
    token = bump_revision(db, GRID_REVISION)
    audit.record(db, actor=actor, action="grid.import", object_type="grid_version",
                 object_id=version_id, after={
                     "level": level.value, "version": version_id,
                     "effective_at": effective_at, "crs": report.crs.value,
                     "source": source_name, "cells": len(cells), "added": added,
                     "changed": changed, "unchanged": unchanged, "retired": len(retired),
                     "orphaned": len(orphans), "components_relocated": relocated})
    db.commit()
    _after_import(db, token_before, token, version_id, index)
    return GridImportResult(version_id, level, effective_at, report.crs, len(cells), added,
                            changed, unchanged, len(retired), tuple(retired), tuple(orphans),
                            relocated)


def _after_import(db: Session, token_before: str | None, token: str, version: int,
                  index: GridIndex | None) -> None:
    """Seed this process's cache: a new unit layer with the index just built, an import of
    another level with the unchanged unit index of the previous revision."""
    key = database_key(db)
    with _snapshot_lock:
        if index is not None:
            _remember(key, GridSnapshot(token, version, index))
            return
        cached = _snapshots.get(key)
        if cached is not None and cached.token == token_before:
            _remember(key, GridSnapshot(token, version, cached.index))
        else:
            _snapshots.pop(key, None)


def _chunks(items: Sequence[int], size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _same_cell(row: GridCellRecord, cell: GridCell) -> bool:
    if (row.name, row.parent_code, row.basic_code) != (cell.name, cell.parent_code,
                                                       cell.basic_code):
        return False
    stored = shapely.normalize(shapely.from_wkb(row.geometry))
    return bool(shapely.equals_exact(stored, shapely.normalize(cell.polygon), tolerance=1e-9))


def _effective_at(db: Session, level: GridLevel, effective_at: datetime | None,
                  now: datetime) -> datetime:
    if effective_at is None:
        effective_at = now
    if effective_at.utcoffset() is None:
        raise InvalidInput("生效时间必须带时区，如 2026-01-01T00:00+08:00")
    if effective_at > now + EFFECTIVE_AT_SKEW:
        raise InvalidInput("生效时间不能晚于当前时间：新版本在导入时生效，请到时再导入")
    previous = db.scalar(select(func.max(GridVersion.effective_at))
                         .where(GridVersion.level == level.value))
    if previous is not None and effective_at < previous:
        raise InvalidInput(f"生效时间不能早于该层级上一版本的生效时间（{previous.isoformat()}）")
    return effective_at


def _parents(db: Session, level: GridLevel) -> dict[str, Polygon] | None:
    """The active cells of the level above, which the imported level must tile. Streets have
    none: the street layer itself defines the managed area."""
    parent_level = _PARENT_LEVEL[level]
    if parent_level is None:
        return None
    rows = db.execute(select(GridCellRecord.code, GridCellRecord.geometry).where(
        GridCellRecord.level == parent_level.value, GridCellRecord.version_to.is_(None))).all()
    if not rows:
        detail = f"尚无{parent_level.label}：请按街道、社区、基础网格、单元网格的顺序导入"
        raise InvalidInput(detail, errors=[{"field": "level", "message": detail}])
    polygons = shapely.from_wkb(np.array([r.geometry for r in rows], dtype=object))
    return dict(zip([r.code for r in rows], polygons, strict=True))


def _orphans(db: Session) -> list[str]:
    """Active cells whose parent (or, for a unit grid, basic grid) is not active."""
    rows = db.execute(select(GridCellRecord.level, GridCellRecord.code,
                             GridCellRecord.parent_code, GridCellRecord.basic_code)
                      .where(GridCellRecord.version_to.is_(None))).all()
    active: Mapping[str, set[str]] = defaultdict(set)
    for row in rows:
        active[row.level].add(row.code)
    orphans = []
    for row in rows:
        parent_level = {GridLevel.COMMUNITY.value: GridLevel.STREET,
                        GridLevel.BASIC.value: GridLevel.COMMUNITY,
                        GridLevel.UNIT.value: GridLevel.COMMUNITY}.get(row.level)
        if parent_level is not None and row.parent_code not in active[parent_level.value]:
            orphans.append(row.code)
        elif row.basic_code is not None and row.basic_code not in active[GridLevel.BASIC.value]:
            orphans.append(row.code)
    return sorted(orphans)

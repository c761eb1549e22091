"""Components (部件): the register of located objects, its imports and the nearest search.

A component code has 16 digits: county (6, GB/T 2260) + major class (2) + minor class (2)
+ sequence (6), e.g. 1101010101000001 = Dongcheng, 01 公用设施, 0101 上水井盖, number 1.
Classes are the catalog's component classes (CJ/T 214 style, `gridgov/data/catalog_demo.json`);
the county must be the managed district's (the county code of the active streets).

Imports (GeoJSON points or an Excel sheet) create new codes and update existing ones; the
register is incremental, so components absent from a file stay as they are (retire one by
setting its status to 废弃). All or nothing: every bad row is listed and nothing is written.
Every component is located in its unit grid on import, and again whenever the unit grid
layer is re-imported (`relocate_all`, called by the grid import in the same transaction).

`nearest` answers "the nearest components (of this class)" with exact distances in the local
metric plane (a transverse Mercator centred on the district, scale error < 1e-6): per class
an STRtree of points, built once per register revision and process like the grid index.
"""

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from gridgov.audit import service as audit
from gridgov import clock
from gridgov.audit.rules import Actor
from gridgov.db import database_key, insert_rows
from gridgov.errors import InvalidInput, NotFound
from gridgov.excel import SheetSpec, read_rows, write_workbook
from gridgov.grid import service
from gridgov.grid.crs import (
    CRS,
    from_gcj02_array,
    in_china_array,
    lnglat_to_local_metric,
    to_gcj02,
    to_gcj02_array,
)
from gridgov.grid.locate import OUTSIDE, GridIndex
from gridgov.grid.models import Component, GridCellRecord
from gridgov.grid.rules import COUNTY_CODE_LENGTH, GridLevel
from gridgov.grid.validate import CRS_ALIASES, WGS84_CRS_NAMES
from gridgov.org.models import Unit

CODE_LENGTH = 16
MAX_NEAREST = 1000
MAX_PAGE = 1000
COORDINATE_DECIMALS = 7


class ComponentStatus(StrEnum):
    INTACT = "intact"
    DAMAGED = "damaged"
    MISSING = "missing"
    OCCUPIED = "occupied"
    ABANDONED = "abandoned"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @classmethod
    def parse(cls, value: object) -> "ComponentStatus":
        """From the value or the Chinese label; ValueError otherwise."""
        text = str(value).strip()
        if text not in _STATUS_BY_TEXT:
            raise ValueError(text)
        return _STATUS_BY_TEXT[text]


STATUS_LABELS: dict[ComponentStatus, str] = {
    ComponentStatus.INTACT: "完好",
    ComponentStatus.DAMAGED: "损坏",
    ComponentStatus.MISSING: "丢失",
    ComponentStatus.OCCUPIED: "占用",
    ComponentStatus.ABANDONED: "废弃",
}
_STATUS_BY_TEXT = {text: status for status, label in STATUS_LABELS.items()
                   for text in (status.value, label)}


@dataclass(frozen=True)
class ComponentClass:
    code: str  # minor class, 4 digits: major (2) + minor (2)
    name: str
    major_code: str
    major_name: str


@cache
def component_classes() -> dict[str, ComponentClass]:
    """Minor component classes by 4-digit code, from the packaged demo catalog."""
    text = resources.files("gridgov").joinpath("data", "catalog_demo.json").read_text("utf-8")
    classes = {}
    for major in json.loads(text)["classes"]:
        if major["category"] != "component":
            continue
        for minor in major["minor_classes"]:
            classes[minor["code"]] = ComponentClass(minor["code"], minor["name"], major["code"],
                                                    major["name"])
    return classes


def major_classes() -> dict[str, str]:
    return {c.major_code: c.major_name for c in component_classes().values()}


def code_problem(code: object, counties: Iterable[str]) -> str | None:
    """Why `code` is not a component code of the managed county; None when it is."""
    if code is None or code == "":
        return "缺少部件编码"
    if not isinstance(code, str):
        return f"部件编码必须是数字字符串，收到 {type(code).__name__}"
    if not code.isascii() or not code.isdigit():
        return f"部件编码“{code}”只能包含数字 0-9"
    if len(code) != CODE_LENGTH:
        return f"部件编码“{code}”应为 {CODE_LENGTH} 位，实际 {len(code)} 位"
    counties = set(counties)
    if code[:COUNTY_CODE_LENGTH] not in counties:
        expected = "、".join(sorted(counties)) or "（尚无网格）"
        return f"部件编码“{code}”的前 6 位“{code[:6]}”不是本区县代码 {expected}"
    minor = code[6:10]
    if minor not in component_classes():
        return f"部件编码“{code}”中的大类、小类“{minor}”不是目录中的部件小类"
    if int(code[10:]) == 0:
        return f"部件编码“{code}”的顺序号不能为 000000"
    return None


def class_filter_problem(class_code: str) -> str | None:
    if class_code in major_classes() or class_code in component_classes():
        return None
    return f"部件类别“{class_code}”不存在：应为 2 位大类或 4 位小类编码，如 01 或 0101"


# --- rows in -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentRow:
    """One component to import; `line` is the sheet row or the feature number (from 1)."""

    line: int
    code: str | None
    name: str | None
    owner_code: str | None
    status: str | None
    lng: float | None
    lat: float | None
    crs: CRS | None = None  # the row's own coordinate system (Excel column 坐标系)


@dataclass(frozen=True)
class ComponentImportResult:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def _problem(line: int, code: object, field: str, message: str) -> dict[str, Any]:
    return {"row": line, "code": code, "field": field, "message": message}


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _crs_alias(value: object) -> CRS | None:
    return CRS_ALIASES.get(str(value).strip().lower())


def parse_geojson(collection: object) -> tuple[list[ComponentRow], list[dict], CRS | None]:
    """Point features → rows, problems of features that cannot become rows, and the
    coordinate system the file declares (`coordinate_system`, or a CRS84 `crs` member)."""
    if not (isinstance(collection, dict) and collection.get("type") == "FeatureCollection"
            and isinstance(collection.get("features"), list)):
        raise InvalidInput("文件不是 GeoJSON FeatureCollection（需要 type 为 FeatureCollection"
                           " 且含 features 数组）")
    declared: CRS | None = None
    if "coordinate_system" in collection:
        declared = _crs_alias(collection["coordinate_system"])
        if declared is None:
            raise InvalidInput(f"coordinate_system“{collection['coordinate_system']}”无法识别，"
                               "应为 gcj02、wgs84 或 bd09")
    elif isinstance(collection.get("crs"), dict):
        name = collection["crs"].get("properties", {}).get("name")
        if not isinstance(name, str) or name.strip().lower() not in WGS84_CRS_NAMES:
            raise InvalidInput(f"crs“{name}”不受支持：只接受经纬度坐标（CRS84 / EPSG:4326，"
                               "或用 coordinate_system 注明 gcj02、bd09）")
        declared = CRS.WGS84
    rows: list[ComponentRow] = []
    problems: list[dict] = []
    for index, feature in enumerate(collection["features"]):
        line = index + 1
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(_problem(line, None, "feature", "不是 GeoJSON Feature"))
            continue
        properties = feature.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        code = _text(properties.get("code", feature.get("id")))
        geometry = feature.get("geometry")
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point" or not (
            isinstance(coordinates, list) and 2 <= len(coordinates) <= 3
        ):
            problems.append(_problem(line, code, "geometry", "几何必须是 Point [经度, 纬度]"))
            continue
        rows.append(ComponentRow(
            line, code, _text(properties.get("name")),
            _text(properties.get("owner_code")), _text(properties.get("status")),
            _number(coordinates[0]), _number(coordinates[1])))
    return rows, problems, declared


EXCEL_HEADERS = ("编码", "名称", "大类", "小类", "权属单位编码", "权属单位", "状态",
                 "经度", "纬度", "坐标系", "单元网格")
REQUIRED_HEADERS = ("编码", "名称", "权属单位编码", "状态", "经度", "纬度")


def parse_excel(content: bytes) -> tuple[list[ComponentRow], list[dict]]:
    """Sheet rows → rows (columns 大类, 小类, 权属单位, 单元网格 are ignored on import: the
    class comes from the code, the grid from the position)."""
    rows: list[ComponentRow] = []
    problems: list[dict] = []
    for line, row in read_rows(content, required_headers=REQUIRED_HEADERS):
        crs = None
        if row.get("坐标系") is not None:
            crs = _crs_alias(row["坐标系"])
            if crs is None:
                problems.append(_problem(line, _text(row.get("编码")), "坐标系",
                                         f"坐标系“{row['坐标系']}”无法识别，应为 gcj02、wgs84 或 bd09"))
                continue
        rows.append(ComponentRow(
            line, _text(row.get("编码")), _text(row.get("名称")), _text(row.get("权属单位编码")),
            _text(row.get("状态")), _number(row.get("经度")), _number(row.get("纬度")), crs))
    return rows, problems


# --- import ------------------------------------------------------------------------------


def import_components(
    db: Session,
    *,
    actor: Actor,
    rows: Sequence[ComponentRow],
    crs: CRS | None = None,
    parse_problems: Sequence[dict] = (),
    source_name: str | None = None,
) -> ComponentImportResult:
    """Create or update every row, or none (see the module docstring). `crs` is the system of
    rows that do not name their own; a row naming another one is a problem. Commits."""
    service.lock_grid(db)
    snapshot = service.grid_snapshot(db)
    counties = _counties(db)
    owners = dict(db.execute(select(Unit.code, Unit.id)).all())
    problems = list(parse_problems)
    seen: dict[str, int] = {}
    good: list[tuple[ComponentRow, ComponentStatus, CRS]] = []
    in_china = in_china_array(
        np.array([np.nan if row.lng is None else row.lng for row in rows], dtype=np.float64),
        np.array([np.nan if row.lat is None else row.lat for row in rows], dtype=np.float64))
    for row, row_in_china in zip(rows, in_china.tolist(), strict=True):
        before = len(problems)

        def add(field: str, message: str, row: ComponentRow = row) -> None:
            problems.append(_problem(row.line, row.code, field, message))

        if (problem := code_problem(row.code, counties)) is not None:
            add("code", problem)
        elif row.code in seen:
            add("code", f"编码“{row.code}”与第 {seen[row.code]} 行重复")
        else:
            seen[row.code] = row.line  # type: ignore[index]
        if not row.name:
            add("name", "缺少名称")
        elif len(row.name) > 100:
            add("name", "名称不能超过 100 个字")
        if row.owner_code is not None and row.owner_code not in owners:
            add("owner_code", f"权属单位编码“{row.owner_code}”不存在")
        status = ComponentStatus.INTACT
        if row.status is not None:
            try:
                status = ComponentStatus.parse(row.status)
            except ValueError:
                labels = "、".join(STATUS_LABELS.values())
                add("status", f"状态“{row.status}”无效，应为 {labels}")
        row_crs = _row_crs(row, crs, add)
        if row.lng is None or row.lat is None:
            add("coordinates", "经度、纬度必须是有限数值")
        elif not row_in_china:
            add("coordinates", f"坐标（{row.lng}, {row.lat}）不在中国范围内（经纬度是否颠倒？）")
        if len(problems) == before:
            assert row_crs is not None
            good.append((row, status, row_crs))

    lngs, lats = _gcj02_positions(good)
    located = snapshot.index.locate_many(lngs, lats, CRS.GCJ02)
    for (row, _, _), row_index in zip(good, located.rows.tolist(), strict=True):
        if row_index == OUTSIDE:
            problems.append(_problem(row.line, row.code, "coordinates",
                                     f"位置（{row.lng}, {row.lat}）不在任何单元网格内"))
    if problems:
        problems.sort(key=lambda p: (p["row"], p["field"]))
        raise InvalidInput(f"{len(problems)} 处错误，未写入任何数据", errors=problems)

    unit_codes = located.unit_codes().tolist()
    basic_codes = located.basic_codes().tolist()
    existing = {c.code: c for c in db.execute(
        select(Component.id, Component.code, Component.name, Component.owner_unit_id,
               Component.status, Component.lng, Component.lat)).all()}
    now = clock.utcnow()
    creates: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    for i, (row, status, _) in enumerate(good):
        values = {
            "name": row.name, "owner_unit_id": owners.get(row.owner_code or ""),
            "status": status.value, "lng": round(float(lngs[i]), COORDINATE_DECIMALS),
            "lat": round(float(lats[i]), COORDINATE_DECIMALS),
        }
        code = str(row.code)  # checked above
        old = existing.get(code)
        if old is None:
            creates.append({**values, "code": code, "minor_class": code[6:10],
                            "unit_grid_code": unit_codes[i], "basic_code": basic_codes[i],
                            "grid_version": snapshot.version, "created_at": now,
                            "updated_at": now})
        elif all(getattr(old, key) == value for key, value in values.items()):
            unchanged += 1
        else:
            updates.append({**values, "id": old.id, "unit_grid_code": unit_codes[i],
                            "basic_code": basic_codes[i], "grid_version": snapshot.version,
                            "updated_at": now})
    insert_rows(db.connection(), Component.__table__, creates)
    if updates:
        db.execute(update(Component), updates)
    service.bump_revision(db, service.COMPONENTS_REVISION)
    result = ComponentImportResult(len(creates), len(updates), unchanged)
    audit.record(db, actor=actor, action="component.import", object_type="component",
                 after={"created": result.created, "updated": result.updated,
                        "unchanged": result.unchanged, "source": source_name,
                        "grid_version": snapshot.version})
    db.commit()
    return result


def _row_crs(row: ComponentRow, flag: CRS | None, add) -> CRS | None:
    if row.crs is not None and flag is not None and row.crs is not flag:
        add("crs", f"本行坐标系为 {row.crs.value}，与导入参数 {flag.value} 矛盾")
        return None
    crs = row.crs or flag
    if crs is None:
        add("crs", "未声明坐标系：请在文件中注明（GeoJSON 的 coordinate_system，Excel 的“坐标系”列）"
                   "或在导入时指定 gcj02 / wgs84 / bd09")
    return crs


def _gcj02_positions(
    good: Sequence[tuple[ComponentRow, ComponentStatus, CRS]],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lngs = np.array([row.lng for row, _, _ in good], dtype=np.float64)
    lats = np.array([row.lat for row, _, _ in good], dtype=np.float64)
    systems = np.array([crs.value for _, _, crs in good])
    for crs in CRS:
        mask = systems == crs.value
        if crs is not CRS.GCJ02 and mask.any():
            lngs[mask], lats[mask] = to_gcj02_array(lngs[mask], lats[mask], crs)
    return lngs, lats


def _counties(db: Session) -> set[str]:
    codes = db.scalars(select(GridCellRecord.code).where(
        GridCellRecord.level == GridLevel.STREET.value, GridCellRecord.version_to.is_(None)))
    return {code[:COUNTY_CODE_LENGTH] for code in codes}


def relocate_all(db: Session, *, index: GridIndex, version: int) -> int:
    """Give every component the unit grid of `index` it lies in (None when outside all);
    returns how many changed. Runs inside the caller's transaction (a unit grid import)."""
    rows = db.execute(select(Component.id, Component.lng, Component.lat,
                             Component.unit_grid_code, Component.basic_code)).all()
    if not rows:
        return 0
    located = index.locate_many([r.lng for r in rows], [r.lat for r in rows], CRS.GCJ02)
    units, basics = located.unit_codes().tolist(), located.basic_codes().tolist()
    changes = [
        {"id": row.id, "unit_grid_code": unit or None, "basic_code": basic or None,
         "grid_version": version}
        for row, unit, basic in zip(rows, units, basics, strict=True)
        if (row.unit_grid_code, row.basic_code) != (unit or None, basic or None)
    ]
    if changes:
        db.execute(update(Component), changes)
        service.bump_revision(db, service.COMPONENTS_REVISION)
    return len(changes)


# --- reading -----------------------------------------------------------------------------


def get_component(db: Session, *, code: str) -> Component:
    component = db.scalar(select(Component).options(joinedload(Component.owner))
                          .where(Component.code == code))
    if component is None:
        raise NotFound(f"部件编码 {code} 不存在")
    return component


def _grid_filter(grid_code: str):
    if not grid_code.isascii() or not grid_code.isdigit() or len(grid_code) not in (
            9, 12, 14, 15):
        raise InvalidInput(f"网格编码“{grid_code}”无效：应为街道（9 位）、社区（12 位）、"
                           "基础网格（14 位）或单元网格（15 位）编码")
    if len(grid_code) == 15:
        return Component.unit_grid_code == grid_code
    if len(grid_code) == 14:
        return Component.basic_code == grid_code
    return (Component.unit_grid_code >= grid_code) & (Component.unit_grid_code < grid_code + ":")


def _class_filter(class_code: str):
    if (problem := class_filter_problem(class_code)) is not None:
        raise InvalidInput(problem, errors=[{"field": "class_code", "message": problem}])
    if len(class_code) == 4:
        return Component.minor_class == class_code
    return (Component.minor_class >= class_code) & (Component.minor_class < class_code + ":")


def _filtered(query, db: Session, *, grid_code: str | None, class_code: str | None,
              owner_code: str | None, status: ComponentStatus | None):
    if grid_code is not None:
        query = query.where(_grid_filter(grid_code))
    if class_code is not None:
        query = query.where(_class_filter(class_code))
    if owner_code is not None:
        owner_id = db.scalar(select(Unit.id).where(Unit.code == owner_code))
        if owner_id is None:
            raise NotFound(f"单位编码 {owner_code} 不存在")
        query = query.where(Component.owner_unit_id == owner_id)
    if status is not None:
        query = query.where(Component.status == ComponentStatus(status).value)
    return query


def list_components(
    db: Session, *, grid_code: str | None = None, class_code: str | None = None,
    owner_code: str | None = None, status: ComponentStatus | None = None, limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[Component], int]:
    """One page of components by code, and how many match in all."""
    limit = max(1, min(limit, MAX_PAGE))
    filters = {"grid_code": grid_code, "class_code": class_code, "owner_code": owner_code,
               "status": status}
    total = db.scalar(_filtered(select(func.count()).select_from(Component), db, **filters))
    items = db.scalars(_filtered(select(Component), db, **filters)
                       .options(joinedload(Component.owner))
                       .order_by(Component.code).limit(limit).offset(max(offset, 0))).all()
    return items, total or 0


def all_components(
    db: Session, *, grid_code: str | None = None, class_code: str | None = None,
    owner_code: str | None = None, status: ComponentStatus | None = None,
) -> Sequence[Component]:
    query = _filtered(select(Component), db, grid_code=grid_code, class_code=class_code,
                      owner_code=owner_code, status=status)
    return db.scalars(query.options(joinedload(Component.owner)).order_by(Component.code)).all()


# --- export ------------------------------------------------------------------------------


def _positions(components: Sequence[Component], crs: CRS) -> list[tuple[float, float]]:
    if not components:
        return []
    lngs, lats = from_gcj02_array([c.lng for c in components], [c.lat for c in components],
                                  CRS(crs))
    return [(round(x, COORDINATE_DECIMALS), round(y, COORDINATE_DECIMALS))
            for x, y in zip(lngs.tolist(), lats.tolist(), strict=True)]


def export_geojson(components: Sequence[Component], *, crs: CRS = CRS.GCJ02) -> dict[str, Any]:
    """Components as GeoJSON points in `crs`, labelled so that the file imports back."""
    classes = component_classes()
    features = []
    for component, (x, y) in zip(components, _positions(components, crs), strict=True):
        cls = classes.get(component.minor_class)
        features.append({
            "type": "Feature", "id": component.code,
            "properties": {
                "code": component.code, "name": component.name,
                "minor_class": component.minor_class, "class_name": cls.name if cls else None,
                "owner_code": component.owner.code if component.owner else None,
                "status": ComponentStatus(component.status).label,
                "unit_grid_code": component.unit_grid_code,
            },
            "geometry": {"type": "Point", "coordinates": [x, y]},
        })
    return {"type": "FeatureCollection", "coordinate_system": CRS(crs).value,
            "features": features}


def export_excel(components: Sequence[Component], *, crs: CRS = CRS.GCJ02) -> bytes:
    classes = component_classes()

    def rows():
        for component, (x, y) in zip(components, _positions(components, crs), strict=True):
            cls = classes.get(component.minor_class)
            yield (component.code, component.name, cls.major_name if cls else None,
                   cls.name if cls else component.minor_class,
                   component.owner.code if component.owner else None,
                   component.owner.name if component.owner else None,
                   ComponentStatus(component.status).label, x, y, CRS(crs).value,
                   component.unit_grid_code)

    return write_workbook([SheetSpec("部件", EXCEL_HEADERS, rows(),
                                     {"经度": "0.0000000", "纬度": "0.0000000"})])


# --- nearest -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NearestComponent:
    code: str
    name: str
    minor_class: str
    owner_code: str | None
    status: ComponentStatus
    lng: float  # GCJ-02
    lat: float
    unit_grid_code: str | None
    distance_m: float


@dataclass(frozen=True)
class _Register:
    """All components of one register revision, as arrays, with a point tree per class."""

    token: str | None
    codes: NDArray
    names: NDArray
    minors: NDArray
    owners: NDArray
    statuses: NDArray
    lngs: NDArray[np.float64]
    lats: NDArray[np.float64]
    units: NDArray
    xy: NDArray[np.float64]
    trees: dict[str | None, tuple[shapely.STRtree, NDArray[np.intp]]]


_registers: "OrderedDict[str, _Register]" = OrderedDict()
_register_lock = threading.Lock()


def _register(db: Session) -> _Register:
    key = database_key(db)
    token = service.revision_token(db, service.COMPONENTS_REVISION)
    cached = _registers.get(key)
    if cached is not None and cached.token == token:
        return cached
    with _register_lock:
        token = service.revision_token(db, service.COMPONENTS_REVISION)
        cached = _registers.get(key)
        if cached is not None and cached.token == token:
            return cached
        register = _load_register(db)
        _registers[key] = register
        _registers.move_to_end(key)
        while len(_registers) > 4:
            _registers.popitem(last=False)
        return register


def _load_register(db: Session) -> _Register:
    for _ in range(5):
        token = service.revision_token(db, service.COMPONENTS_REVISION)
        rows = db.execute(
            select(Component.code, Component.name, Component.minor_class, Unit.code,
                   Component.status, Component.lng, Component.lat, Component.unit_grid_code)
            .outerjoin(Unit, Unit.id == Component.owner_unit_id).order_by(Component.code)
        ).all()
        if service.revision_token(db, service.COMPONENTS_REVISION) == token:
            break
    columns = list(zip(*rows, strict=True)) if rows else [()] * 8
    codes, names, minors, owners, statuses, lngs, lats, units = (
        np.array(c, dtype=object) for c in columns)
    lngs = np.asarray(lngs, dtype=np.float64)
    lats = np.asarray(lats, dtype=np.float64)
    x, y = lnglat_to_local_metric(lngs, lats) if len(lngs) else (lngs, lats)
    xy = np.column_stack([x, y]) if len(lngs) else np.empty((0, 2))
    points = shapely.points(xy) if len(xy) else np.empty(0, dtype=object)
    trees: dict[str | None, tuple[shapely.STRtree, NDArray[np.intp]]] = {}
    groups: dict[str | None, list[int]] = {None: list(range(len(codes)))}
    for i, minor in enumerate(minors.tolist()):
        groups.setdefault(minor, []).append(i)
        groups.setdefault(minor[:2], []).append(i)
    for key, members in groups.items():
        rows_of = np.asarray(members, dtype=np.intp)
        trees[key] = (shapely.STRtree(points[rows_of]), rows_of)
    return _Register(token, codes, names, minors, owners, statuses, lngs, lats, units, xy, trees)


def nearest(
    db: Session, *, lng: float, lat: float, crs: CRS = CRS.GCJ02,
    major_minor: str | None = None, limit: int = 10,
) -> list[NearestComponent]:
    """The `limit` components nearest to a position (of one major or minor class when
    `major_minor` is its 2- or 4-digit code), nearest first; ties by code."""
    if major_minor is not None and (problem := class_filter_problem(major_minor)) is not None:
        raise InvalidInput(problem, errors=[{"field": "class_code", "message": problem}])
    if not (math.isfinite(lng) and math.isfinite(lat)):
        raise InvalidInput("经度、纬度必须是有限数值")
    limit = max(1, min(int(limit), MAX_NEAREST))
    register = _register(db)
    if major_minor not in register.trees:
        return []
    tree, members = register.trees[major_minor]
    gx, gy = to_gcj02(lng, lat, CRS(crs))
    qx, qy = (float(v[0]) for v in lnglat_to_local_metric([gx], [gy]))
    candidates = _within_reach(tree, shapely.Point(qx, qy), limit, len(members))
    rows = members[candidates]
    distances = np.hypot(register.xy[rows, 0] - qx, register.xy[rows, 1] - qy)
    order = np.lexsort((register.codes[rows].astype(str), distances))[:limit]
    return [
        NearestComponent(
            str(register.codes[r]), str(register.names[r]), str(register.minors[r]),
            register.owners[r], ComponentStatus(register.statuses[r]),
            float(register.lngs[r]), float(register.lats[r]), register.units[r],
            round(float(d), 2))
        for r, d in zip(rows[order].tolist(), distances[order].tolist(), strict=True)
    ]


def _within_reach(tree: shapely.STRtree, point: shapely.Point, limit: int,
                  size: int) -> NDArray[np.intp]:
    """Tree positions of a set of points that surely holds the `limit` nearest: every point
    within a radius that holds at least `limit` of them (all points when there are fewer)."""
    if size <= limit:
        return np.arange(size)
    first = tree.query_nearest(point, return_distance=True)
    radius = max(float(first[1][0]) * 2, 25.0)
    while True:
        found = tree.query(point, predicate="dwithin", distance=radius)
        if len(found) >= limit:
            return found
        radius *= 2

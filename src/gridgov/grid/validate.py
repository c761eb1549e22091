"""Validation of an imported grid layer, before anything is written. Pure: no I/O.

`validate_features` checks everything and lists every problem (Chinese message plus a
machine-readable `kind`), by feature index and id; it never repairs anything. Only when
the report is clean does it return the cells, converted to GCJ-02, for the caller to store.

Decisions:
- **Coordinate system.** GeoJSON coordinates are always lng, lat. The system is taken from
  the file, either the custom member `"coordinate_system": "gcj02" | "wgs84" | "bd09"`
  (what `generate.geojson_features` writes) or the GeoJSON 2008 `crs` member whose name is
  CRS84 / EPSG:4326 (= WGS-84), or from the caller's `crs` flag; a flag that contradicts the
  file is a problem. A file that states no system and no flag is refused, although RFC 7946
  presumes WGS-84: in China an unlabelled file is as often GCJ-02 (exported from Amap or
  Tencent), and guessing wrong shifts every grid by hundreds of metres without any error.
- **Single polygons.** A grid must be one Polygon (holes allowed). A MultiPolygon of exactly
  one part is the same shape and is accepted; one of several parts is refused: a unit grid
  is one patch a supervisor patrols, numbered by position, and a detached piece is either a
  digitising sliver or land of another grid (a place with no clear owner falls to the
  street, 属地兜底, not to a far-off fragment).
- **Parents.** `parents` maps each parent code to its polygon (GCJ-02) for the layer above:
  the district (county code) for streets, streets for communities, communities for basic
  grids, basic grids (by `basic_code`) for unit grids. Every parent given must be covered;
  pass only the parents this file is meant to tile. Without `parents` the geometric checks
  against the level above (unknown parent, sticking out, gaps) are skipped.
- **Tolerances.** An overlap, gap or overhang counts when its area (m², local metric plane)
  exceeds the area tolerance *and* it is wider than the seam tolerance somewhere. Slivers
  a few millimetres wide and hundreds of metres long are digitising and rounding noise: a
  straight edge drawn between 7-decimal lng/lat vertices wanders by up to ~1 cm from the
  same edge in another file, which over a long district boundary adds up to square metres.
"""

import math
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import shapely
from shapely import Polygon

from gridgov.grid.crs import CRS, geometry_to_local_metric, in_china_array, to_gcj02_array
from gridgov.grid.rules import (
    GridCell,
    GridLevel,
    basic_code_problem,
    code_problem,
    parent_problem,
)

DEFAULT_OVERLAP_TOLERANCE_M2 = 1.0
DEFAULT_PARENT_TOLERANCE_M2 = 1.0
DEFAULT_SEAM_TOLERANCE_M = 0.05

WGS84_CRS_NAMES = frozenset({
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:ogc::crs84",
    "crs84",
    "epsg:4326",
    "urn:ogc:def:crs:epsg::4326",
})
CRS_ALIASES: dict[str, CRS] = {
    "gcj02": CRS.GCJ02, "gcj-02": CRS.GCJ02, "gcj_02": CRS.GCJ02,
    "wgs84": CRS.WGS84, "wgs-84": CRS.WGS84, "wgs_84": CRS.WGS84,
    "bd09": CRS.BD09, "bd-09": CRS.BD09, "bd_09": CRS.BD09,
}


class ProblemKind(StrEnum):
    NOT_FEATURE_COLLECTION = "not_feature_collection"
    CRS_MISSING = "crs_missing"
    CRS_UNKNOWN = "crs_unknown"
    CRS_CONFLICT = "crs_conflict"
    NOT_FEATURE = "not_feature"
    GEOMETRY_MISSING = "geometry_missing"
    GEOMETRY_TYPE = "geometry_type"
    COORDINATES_MALFORMED = "coordinates_malformed"
    RING_TOO_SHORT = "ring_too_short"
    RING_NOT_CLOSED = "ring_not_closed"
    COORDINATE_OUT_OF_RANGE = "coordinate_out_of_range"
    INVALID_GEOMETRY = "invalid_geometry"
    PROPERTIES_MISSING = "properties_missing"
    LEVEL_MISMATCH = "level_mismatch"
    CODE_MALFORMED = "code_malformed"
    NAME_MISSING = "name_missing"
    PARENT_MISMATCH = "parent_mismatch"
    BASIC_CODE_INVALID = "basic_code_invalid"
    UNKNOWN_PARENT = "unknown_parent"
    DUPLICATE_CODE = "duplicate_code"
    CODE_TAKEN = "code_taken"
    OVERLAP = "overlap"
    OUTSIDE_PARENT = "outside_parent"
    GAP = "gap"


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    message: str
    index: int | None = None  # position in `features`; None for the file or a parent
    feature_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        if self.index is None:
            return self.message
        name = f"（{self.feature_id}）" if self.feature_id else ""
        return f"第 {self.index + 1} 个要素{name}：{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "message": self.describe(), "index": self.index,
                "feature_id": self.feature_id, **self.detail}


@dataclass(frozen=True)
class ValidationReport:
    problems: tuple[Problem, ...]
    cells: tuple[GridCell, ...]  # GCJ-02; empty unless the report is clean
    crs: CRS | None

    @property
    def ok(self) -> bool:
        return not self.problems

    def kinds(self) -> set[ProblemKind]:
        return {p.kind for p in self.problems}


@dataclass
class _Feature:
    index: int
    feature_id: str | None
    code: str | None = None
    name: str | None = None
    parent_code: str | None = None
    basic_code: str | None = None
    rings: list[np.ndarray] | None = None  # lng/lat as given, structurally sound
    polygon: Polygon | None = None  # GCJ-02 and valid


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, kind: ProblemKind, message: str, feature: _Feature | None = None,
            **detail: Any) -> None:
        index = feature.index if feature else None
        feature_id = feature.feature_id if feature else None
        self.problems.append(Problem(kind, message, index, feature_id, detail))


def validate_features(
    fc: object,
    *,
    level: GridLevel,
    crs: CRS | None = None,
    parents: Mapping[str, Polygon] | None = None,
    existing_codes: Collection[str] = (),
    overlap_tolerance_m2: float = DEFAULT_OVERLAP_TOLERANCE_M2,
    parent_tolerance_m2: float = DEFAULT_PARENT_TOLERANCE_M2,
    seam_tolerance_m: float = DEFAULT_SEAM_TOLERANCE_M,
) -> ValidationReport:
    """Check a GeoJSON FeatureCollection of one grid level; see the module docstring.

    `existing_codes` are codes already stored (active or retired) that must not be reused.
    `parent_tolerance_m2` applies to gaps in a parent and to children sticking out of it.
    """
    level = GridLevel(level)
    out = _Collector()
    if not _is_feature_collection(fc):
        out.add(ProblemKind.NOT_FEATURE_COLLECTION,
                "文件不是 GeoJSON FeatureCollection"
                "（需要 type 为 FeatureCollection 且含 features 数组）")
        return ValidationReport(tuple(out.problems), (), None)

    source_crs = _resolve_crs(fc, crs, out)
    features = [_parse_feature(i, raw, level, out) for i, raw in enumerate(fc["features"])]
    for feature in features:
        if feature.rings is not None:
            feature.polygon = _gcj02_polygon(feature, source_crs or CRS.GCJ02, out)
    _check_codes(features, level, existing_codes, parents, out)
    _check_overlaps(features, _Tolerance(overlap_tolerance_m2, seam_tolerance_m), out)
    if parents is not None and source_crs is not None:
        _check_against_parents(
            features, level, parents, _Tolerance(parent_tolerance_m2, seam_tolerance_m), out
        )

    if out.problems:
        return ValidationReport(tuple(out.problems), (), source_crs)
    return ValidationReport((), tuple(_cell(f, level) for f in features), source_crs)


def _is_feature_collection(fc: object) -> bool:
    return (isinstance(fc, dict) and fc.get("type") == "FeatureCollection"
            and isinstance(fc.get("features"), list))


def _cell(feature: _Feature, level: GridLevel) -> GridCell:
    # Only called on a clean report, where every field has been filled in.
    assert feature.code and feature.name and feature.parent_code and feature.polygon
    basic_code = feature.basic_code if level is GridLevel.UNIT else None
    return GridCell(level, feature.code, feature.name, feature.parent_code, basic_code,
                    feature.polygon)


# --- coordinate system -------------------------------------------------------------------


def _resolve_crs(fc: dict, flag: CRS | None, out: _Collector) -> CRS | None:
    declared: list[tuple[str, CRS]] = []
    if "coordinate_system" in fc:
        value = fc["coordinate_system"]
        found = CRS_ALIASES.get(str(value).strip().lower())
        if found is None:
            out.add(ProblemKind.CRS_UNKNOWN,
                    f"coordinate_system“{value}”无法识别，应为 gcj02、wgs84 或 bd09")
            return None
        declared.append(("coordinate_system", found))
    if fc.get("crs") is not None:
        crs_member = fc["crs"]
        name = crs_member.get("properties", {}).get("name") if isinstance(crs_member, dict) \
            else None
        if not isinstance(name, str) or name.strip().lower() not in WGS84_CRS_NAMES:
            out.add(ProblemKind.CRS_UNKNOWN,
                    f"crs“{name}”不受支持：只接受经纬度坐标（CRS84 / EPSG:4326，"
                    "或用 coordinate_system 注明 gcj02、bd09）")
            return None
        declared.append(("crs", CRS.WGS84))
    if flag is not None:
        declared.append(("导入参数", CRS(flag)))
    if not declared:
        out.add(ProblemKind.CRS_MISSING,
                "未声明坐标系：请在文件中注明 coordinate_system（gcj02 / wgs84 / bd09）"
                "或在导入时指定；不按 WGS-84 猜测，以免整体偏移数百米")
        return None
    systems = {c for _, c in declared}
    if len(systems) > 1:
        stated = "、".join(f"{source}为 {c.value}" for source, c in declared)
        out.add(ProblemKind.CRS_CONFLICT, f"坐标系声明互相矛盾：{stated}")
        return None
    return declared[0][1]


# --- one feature -------------------------------------------------------------------------


def _parse_feature(index: int, raw: object, level: GridLevel, out: _Collector) -> _Feature:
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        feature = _Feature(index, None)
        out.add(ProblemKind.NOT_FEATURE, "不是 GeoJSON Feature", feature)
        return feature
    properties = raw.get("properties")
    properties = properties if isinstance(properties, dict) else None
    raw_id = raw.get("id", properties.get("code") if properties else None)
    feature = _Feature(index, None if raw_id is None else str(raw_id))
    _parse_properties(feature, properties, level, out)
    feature.rings = _parse_geometry(feature, raw.get("geometry"), out)
    return feature


def _parse_properties(
    feature: _Feature, properties: dict | None, level: GridLevel, out: _Collector
) -> None:
    if properties is None:
        out.add(ProblemKind.PROPERTIES_MISSING, "缺少 properties（编码、名称、上级编码）", feature)
        return
    if "level" in properties and properties["level"] not in (level.value, level.label):
        out.add(ProblemKind.LEVEL_MISMATCH,
                f"层级为“{properties['level']}”，本次导入的是{level.label}（{level.value}）",
                feature)
    code = properties.get("code")
    if (problem := code_problem(level, code)) is not None:
        out.add(ProblemKind.CODE_MALFORMED, problem, feature, code=code)
    else:
        feature.code = code
    name = properties.get("name")
    if not isinstance(name, str) or not name.strip():
        out.add(ProblemKind.NAME_MISSING, "缺少名称（name）", feature)
    else:
        feature.name = name.strip()
    parent_code = properties.get("parent_code")
    if feature.code is not None:
        if (problem := parent_problem(level, feature.code, parent_code)) is not None:
            out.add(ProblemKind.PARENT_MISMATCH, problem, feature, parent_code=parent_code)
        else:
            feature.parent_code = parent_code
    basic_code = properties.get("basic_code")
    if level is GridLevel.UNIT:
        if feature.code is not None:
            if (problem := basic_code_problem(feature.code, basic_code)) is not None:
                out.add(ProblemKind.BASIC_CODE_INVALID, problem, feature, basic_code=basic_code)
            else:
                feature.basic_code = basic_code
    elif basic_code is not None:
        out.add(ProblemKind.BASIC_CODE_INVALID,
                f"只有单元网格带所属基础网格编码（basic_code），{level.label}不应带", feature)


def _parse_geometry(
    feature: _Feature, geometry: object, out: _Collector
) -> list[np.ndarray] | None:
    if not isinstance(geometry, dict):
        out.add(ProblemKind.GEOMETRY_MISSING, "缺少几何（geometry）", feature)
        return None
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "MultiPolygon" and isinstance(coordinates, list):
        if len(coordinates) != 1:
            out.add(ProblemKind.GEOMETRY_TYPE,
                    f"MultiPolygon 有 {len(coordinates)} 个部分：网格必须是一个连续的多边形",
                    feature, parts=len(coordinates))
            return None
        coordinates = coordinates[0]
    elif kind != "Polygon":
        out.add(ProblemKind.GEOMETRY_TYPE, f"几何类型为 {kind}，网格必须是 Polygon", feature)
        return None
    if not isinstance(coordinates, list) or not coordinates:
        out.add(ProblemKind.COORDINATES_MALFORMED, "多边形坐标为空或不是数组", feature)
        return None
    rings = []
    sound = True
    for r, ring in enumerate(coordinates):
        array = _ring_array(ring)
        where = "外环" if r == 0 else f"第 {r} 个内环"
        if array is None:
            out.add(ProblemKind.COORDINATES_MALFORMED,
                    f"{where}的坐标格式错误：每个点应为 [经度, 纬度] 两个有限数值", feature, ring=r)
            sound = False
            continue
        if len(array) < 4:
            out.add(ProblemKind.RING_TOO_SHORT,
                    f"{where}只有 {len(array)} 个点，闭合环至少需要 4 个点", feature, ring=r)
            sound = False
        if len(array) and not np.array_equal(array[0], array[-1]):
            out.add(ProblemKind.RING_NOT_CLOSED, f"{where}未闭合：首点与末点不同", feature, ring=r)
            sound = False
        if len(array) and not in_china_array(array[:, 0], array[:, 1]).all():
            out.add(ProblemKind.COORDINATE_OUT_OF_RANGE,
                    f"{where}有坐标不在中国范围内（经纬度是否颠倒？）", feature, ring=r)
            sound = False
        rings.append(array)
    return rings if sound else None


def _ring_array(ring: object) -> np.ndarray | None:
    if not isinstance(ring, list):
        return None
    points = []
    for position in ring:
        if not isinstance(position, list | tuple) or not 2 <= len(position) <= 3:
            return None
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                   for v in position):
            return None
        points.append((float(position[0]), float(position[1])))
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def _gcj02_polygon(feature: _Feature, source: CRS, out: _Collector) -> Polygon | None:
    assert feature.rings is not None
    converted = [np.column_stack(to_gcj02_array(r[:, 0], r[:, 1], source))
                 for r in feature.rings]
    polygon = Polygon(converted[0], converted[1:])
    reason = shapely.is_valid_reason(polygon)
    if reason != "Valid Geometry":
        out.add(ProblemKind.INVALID_GEOMETRY, f"几何无效：{reason}", feature, reason=reason)
        return None
    return polygon


# --- across features ---------------------------------------------------------------------


def _check_codes(
    features: list[_Feature],
    level: GridLevel,
    existing_codes: Collection[str],
    parents: Mapping[str, Polygon] | None,
    out: _Collector,
) -> None:
    by_code: dict[str, list[_Feature]] = defaultdict(list)
    for feature in features:
        if feature.code is not None:
            by_code[feature.code].append(feature)
    existing = set(existing_codes)
    for code, same in by_code.items():
        if len(same) > 1:
            positions = "、".join(str(f.index + 1) for f in same)
            for feature in same:
                out.add(ProblemKind.DUPLICATE_CODE,
                        f"编码“{code}”重复出现在第 {positions} 个要素", feature,
                        code=code, indices=[f.index for f in same])
        if code in existing:
            for feature in same:
                out.add(ProblemKind.CODE_TAKEN,
                        f"编码“{code}”已被使用（编码唯一且注销后不得复用）", feature, code=code)
    if parents is None:
        return
    for feature in features:
        key = _parent_key(feature, level)
        if key is not None and key not in parents:
            what = "所属基础网格" if level is GridLevel.UNIT else "上级"
            out.add(ProblemKind.UNKNOWN_PARENT, f"{what}“{key}”不存在", feature, parent_code=key)


def _parent_key(feature: _Feature, level: GridLevel) -> str | None:
    return feature.basic_code if level is GridLevel.UNIT else feature.parent_code


@dataclass(frozen=True)
class _Tolerance:
    area_m2: float
    seam_m: float

    def significant(self, region_m: shapely.Geometry, area_m2: float) -> bool:
        """Larger than the area tolerance and not merely a sliver along a seam."""
        if area_m2 <= self.area_m2:
            return False
        return not shapely.buffer(region_m, -self.seam_m / 2).is_empty


def _metric(polygons: list[Polygon]) -> np.ndarray:
    return geometry_to_local_metric(np.asarray(polygons, dtype=object))


def _check_overlaps(features: list[_Feature], tolerance: _Tolerance, out: _Collector) -> None:
    placed = [f for f in features if f.polygon is not None]
    if len(placed) < 2:
        return
    metric = _metric([f.polygon for f in placed])  # type: ignore[misc]
    left, right = shapely.STRtree(metric).query(metric, predicate="intersects")
    once = left < right
    left, right = left[once], right[once]
    overlaps = shapely.intersection(metric[left], metric[right])
    areas = shapely.area(overlaps)
    pairs = zip(left.tolist(), right.tolist(), overlaps, areas.tolist(), strict=True)
    for i, j, overlap, area in pairs:
        if tolerance.significant(overlap, area):
            a, b = placed[i], placed[j]
            out.add(ProblemKind.OVERLAP,
                    f"与第 {b.index + 1} 个要素（{b.feature_id}）重叠 {area:.1f} 平方米", a,
                    other_index=b.index, other_id=b.feature_id, area_m2=round(area, 3))


def _check_against_parents(
    features: list[_Feature],
    level: GridLevel,
    parents: Mapping[str, Polygon],
    tolerance: _Tolerance,
    out: _Collector,
) -> None:
    parent_codes = sorted(parents)
    parents_m = dict(zip(parent_codes, _metric([parents[c] for c in parent_codes]), strict=True))
    children: dict[str, list[Polygon]] = defaultdict(list)
    placed = [f for f in features if f.polygon is not None]
    placed_m = _metric([f.polygon for f in placed])  # type: ignore[misc]
    for feature, polygon_m in zip(placed, placed_m, strict=True):
        key = _parent_key(feature, level)
        if key is None or key not in parents_m:
            continue
        children[key].append(polygon_m)
        overhang = shapely.difference(polygon_m, parents_m[key])
        outside = shapely.area(overhang)
        if tolerance.significant(overhang, outside):
            out.add(ProblemKind.OUTSIDE_PARENT,
                    f"超出上级“{key}”范围 {outside:.1f} 平方米", feature,
                    parent_code=key, area_m2=round(float(outside), 3))
    for code in parent_codes:
        covered = shapely.union_all(np.asarray(children.get(code, []), dtype=object))
        uncovered = shapely.difference(parents_m[code], covered)
        gap = shapely.area(uncovered)
        if tolerance.significant(uncovered, gap):
            out.add(ProblemKind.GAP,
                    f"上级“{code}”有 {gap:.1f} 平方米未被本级网格覆盖（缝隙或缺失）",
                    parent_code=code, area_m2=round(float(gap), 3))

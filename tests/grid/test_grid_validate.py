import copy
import re
from collections import defaultdict

import numpy as np
import pytest
import shapely

from gridgov.demo.dongcheng import COUNTY_CODE
from gridgov.grid.crs import CRS, from_gcj02_array
from gridgov.grid.generate import demo_grid, geojson_features, load_dongcheng_boundary
from gridgov.grid.rules import GridLevel
from gridgov.grid.validate import ProblemKind as K
from gridgov.grid.validate import validate_features

CJK = re.compile(r"[\u4e00-\u9fff]")
COMMUNITY = "110101001001"  # 多福巷社区


@pytest.fixture(scope="module")
def by_level():
    grouped = defaultdict(list)
    for cell in demo_grid():
        grouped[cell.level].append(cell)
    return grouped


@pytest.fixture(scope="module")
def parents(by_level):
    """The polygons each level must tile, keyed as validate_features expects."""
    return {
        GridLevel.STREET: {COUNTY_CODE: load_dongcheng_boundary()},
        GridLevel.COMMUNITY: {c.code: c.polygon for c in by_level[GridLevel.STREET]},
        GridLevel.BASIC: {c.code: c.polygon for c in by_level[GridLevel.COMMUNITY]},
        GridLevel.UNIT: {c.code: c.polygon for c in by_level[GridLevel.BASIC]},
    }


@pytest.fixture(scope="module")
def community_units(by_level):
    """The unit grids of one community and the basic grids they tile."""
    units = [c for c in by_level[GridLevel.UNIT] if c.parent_code == COMMUNITY]
    basics = {c.code: c.polygon for c in by_level[GridLevel.BASIC] if c.parent_code == COMMUNITY}
    return geojson_features(units), basics


def _units(community_units):
    fc, basics = community_units
    return copy.deepcopy(fc), basics


def _validate_units(fc, basics, **options):
    return validate_features(fc, level=GridLevel.UNIT, parents=basics, **options)


def _assert_refused(report, *kinds):
    assert not report.ok
    assert report.cells == ()
    assert set(kinds) <= report.kinds(), report.kinds()
    for problem in report.problems:
        assert CJK.search(problem.describe())
        assert problem.as_dict()["kind"] == problem.kind.value


# --- clean imports -----------------------------------------------------------------------


@pytest.mark.parametrize("level", list(GridLevel))
def test_generated_layers_import_cleanly(by_level, parents, level):
    report = validate_features(geojson_features(by_level[level]), level=level,
                               parents=parents[level])
    assert report.ok, [p.describe() for p in report.problems[:5]]
    assert report.crs is CRS.GCJ02
    assert [c.code for c in report.cells] == [c.code for c in by_level[level]]
    original = {c.code: c for c in by_level[level]}
    for cell in report.cells:
        assert cell.polygon.equals_exact(original[cell.code].polygon, tolerance=0)
        assert cell.basic_code == original[cell.code].basic_code


def test_wgs84_file_is_converted_to_gcj02(community_units):
    fc, basics = _units(community_units)
    del fc["coordinate_system"]
    fc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    originals = {}
    for feature in fc["features"]:
        ring = np.array(feature["geometry"]["coordinates"][0])
        originals[feature["id"]] = shapely.Polygon(ring)
        lng, lat = from_gcj02_array(ring[:, 0], ring[:, 1], CRS.WGS84)
        feature["geometry"]["coordinates"] = [np.column_stack([lng, lat]).tolist()]
    report = _validate_units(fc, basics)
    assert report.ok, [p.describe() for p in report.problems]
    assert report.crs is CRS.WGS84
    for cell in report.cells:
        assert shapely.hausdorff_distance(cell.polygon, originals[cell.code]) < 1e-7


def test_the_flag_may_state_what_the_file_does_not(community_units):
    fc, basics = _units(community_units)
    del fc["coordinate_system"]
    assert _validate_units(fc, basics, crs=CRS.GCJ02).ok


def test_single_part_multipolygon_is_the_same_polygon(community_units):
    fc, basics = _units(community_units)
    geometry = fc["features"][0]["geometry"]
    fc["features"][0]["geometry"] = {"type": "MultiPolygon",
                                     "coordinates": [geometry["coordinates"]]}
    assert _validate_units(fc, basics).ok


def test_seam_slivers_below_a_few_centimetres_are_noise(community_units):
    fc, basics = _units(community_units)
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    ring[1] = [ring[1][0] + 1e-7, ring[1][1]]  # one vertex moved by ~1 cm
    assert _validate_units(fc, basics).ok


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("fc", [[], {"type": "Feature"}, {"type": "FeatureCollection"},
                                {"type": "FeatureCollection", "features": {}}])
def test_not_a_feature_collection(fc):
    _assert_refused(validate_features(fc, level=GridLevel.UNIT), K.NOT_FEATURE_COLLECTION)


def test_undeclared_coordinate_system_is_refused_not_guessed(community_units):
    fc, basics = _units(community_units)
    del fc["coordinate_system"]
    _assert_refused(_validate_units(fc, basics), K.CRS_MISSING)


@pytest.mark.parametrize("declaration", [
    {"coordinate_system": "mars"},
    {"crs": {"type": "name", "properties": {"name": "EPSG:3857"}}},
])
def test_unknown_coordinate_system(community_units, declaration):
    fc, basics = _units(community_units)
    del fc["coordinate_system"]
    fc.update(declaration)
    _assert_refused(_validate_units(fc, basics), K.CRS_UNKNOWN)


def test_contradicting_coordinate_systems(community_units):
    fc, basics = _units(community_units)
    _assert_refused(_validate_units(fc, basics, crs=CRS.WGS84), K.CRS_CONFLICT)
    fc["crs"] = {"type": "name", "properties": {"name": "EPSG:4326"}}
    _assert_refused(_validate_units(fc, basics), K.CRS_CONFLICT)


def test_one_bad_feature_lists_every_problem_and_nothing_is_accepted(community_units):
    fc, basics = _units(community_units)
    feature = fc["features"][3]
    feature["properties"].update(code="1101010010010", name=" ", level="basic")
    feature["geometry"]["coordinates"][0].pop()  # ring no longer closed
    report = _validate_units(fc, basics)
    _assert_refused(report, K.CODE_MALFORMED, K.NAME_MISSING, K.LEVEL_MISMATCH,
                    K.RING_NOT_CLOSED)
    assert {p.index for p in report.problems if p.index is not None} == {3}
    assert report.problems[0].feature_id == fc["features"][3]["id"]
    assert K.GAP in report.kinds()  # its basic grid is no longer covered
    assert "第 4 个要素" in report.problems[0].describe()


def test_every_feature_is_reported_not_only_the_first(community_units):
    fc, basics = _units(community_units)
    for feature in fc["features"][:3]:
        feature["properties"]["name"] = ""
    report = _validate_units(fc, basics)
    assert [p.index for p in report.problems if p.kind is K.NAME_MISSING] == [0, 1, 2]


@pytest.mark.parametrize(("geometry", "kind"), [
    (None, K.GEOMETRY_MISSING),
    ({"type": "Point", "coordinates": [116.4, 39.9]}, K.GEOMETRY_TYPE),
    ({"type": "Polygon", "coordinates": []}, K.COORDINATES_MALFORMED),
    ({"type": "Polygon", "coordinates": [[["a", 1], [1, 2], [2, 2], ["a", 1]]]},
     K.COORDINATES_MALFORMED),
    ({"type": "Polygon", "coordinates": [[[116.4, 39.9], [116.41, 39.9], [116.4, 39.9]]]},
     K.RING_TOO_SHORT),
    ({"type": "Polygon", "coordinates": [[[39.9, 116.4], [39.9, 116.41], [39.91, 116.41],
                                          [39.9, 116.4]]]}, K.COORDINATE_OUT_OF_RANGE),
    ({"type": "Polygon", "coordinates": [[[116.40, 39.90], [116.41, 39.91], [116.41, 39.90],
                                          [116.40, 39.91], [116.40, 39.90]]]},
     K.INVALID_GEOMETRY),
])
def test_geometry_problems(community_units, geometry, kind):
    fc, basics = _units(community_units)
    fc["features"][0]["geometry"] = geometry
    report = _validate_units(fc, basics)
    _assert_refused(report, kind)
    problem = next(p for p in report.problems if p.kind is kind)
    assert problem.index == 0


def test_invalid_geometry_names_the_reason_and_is_not_repaired(community_units):
    fc, basics = _units(community_units)
    fc["features"][0]["geometry"]["coordinates"] = [[[116.40, 39.90], [116.41, 39.91],
                                                     [116.41, 39.90], [116.40, 39.91],
                                                     [116.40, 39.90]]]
    report = _validate_units(fc, basics)
    problem = next(p for p in report.problems if p.kind is K.INVALID_GEOMETRY)
    assert "Self-intersection" in problem.message
    assert problem.detail["reason"].startswith("Self-intersection")


def test_multipart_grid_is_refused(community_units):
    fc, basics = _units(community_units)
    coordinates = fc["features"][0]["geometry"]["coordinates"]
    far = [[[116.40, 39.90], [116.401, 39.90], [116.401, 39.901], [116.40, 39.90]]]
    fc["features"][0]["geometry"] = {"type": "MultiPolygon", "coordinates": [coordinates, far]}
    _assert_refused(_validate_units(fc, basics), K.GEOMETRY_TYPE)


@pytest.mark.parametrize(("change", "kind"), [
    ({"code": "110101001001A01"}, K.CODE_MALFORMED),
    ({"code": None}, K.CODE_MALFORMED),
    ({"name": None}, K.NAME_MISSING),
    ({"level": "community"}, K.LEVEL_MISMATCH),
    ({"parent_code": "110101001002"}, K.PARENT_MISMATCH),
    ({"parent_code": None}, K.PARENT_MISMATCH),
    ({"basic_code": "11010100100201"}, K.BASIC_CODE_INVALID),
    ({"basic_code": None}, K.BASIC_CODE_INVALID),
    ({"basic_code": "11010100100199"}, K.UNKNOWN_PARENT),
])
def test_property_problems(community_units, change, kind):
    fc, basics = _units(community_units)
    fc["features"][0]["properties"].update(change)
    _assert_refused(_validate_units(fc, basics), kind)


def test_missing_properties(community_units):
    fc, basics = _units(community_units)
    fc["features"][0]["properties"] = None
    _assert_refused(_validate_units(fc, basics), K.PROPERTIES_MISSING)


def test_not_a_feature(community_units):
    fc, basics = _units(community_units)
    fc["features"].append({"type": "Polygon"})
    report = _validate_units(fc, basics)
    _assert_refused(report, K.NOT_FEATURE)
    assert report.problems[0].index == len(fc["features"]) - 1


def test_basic_code_only_on_unit_grids(by_level, parents):
    fc = geojson_features(by_level[GridLevel.STREET])
    fc["features"][0]["properties"]["basic_code"] = "11010100100101"
    report = validate_features(fc, level=GridLevel.STREET, parents=parents[GridLevel.STREET])
    _assert_refused(report, K.BASIC_CODE_INVALID)


def test_duplicate_codes_are_reported_at_every_occurrence(community_units):
    fc, basics = _units(community_units)
    fc["features"][2]["properties"]["code"] = fc["features"][1]["properties"]["code"]
    report = _validate_units(fc, basics)
    _assert_refused(report, K.DUPLICATE_CODE)
    duplicates = [p for p in report.problems if p.kind is K.DUPLICATE_CODE]
    assert [p.index for p in duplicates] == [1, 2]
    assert duplicates[0].detail["indices"] == [1, 2]


def test_codes_already_in_use_are_not_reused(community_units):
    fc, basics = _units(community_units)
    taken = fc["features"][0]["properties"]["code"]
    report = _validate_units(fc, basics, existing_codes={taken})
    _assert_refused(report, K.CODE_TAKEN)


def test_unknown_parent(by_level, parents):
    fc = geojson_features([c for c in by_level[GridLevel.COMMUNITY]
                           if c.parent_code == "110101001"])
    some_streets = {"110101002": parents[GridLevel.COMMUNITY]["110101002"]}
    report = validate_features(fc, level=GridLevel.COMMUNITY, parents=some_streets)
    _assert_refused(report, K.UNKNOWN_PARENT)


def _replace_polygon(feature, polygon):
    feature["geometry"] = {"type": "Polygon",
                           "coordinates": [[list(p) for p in polygon.exterior.coords]]}


def test_overlap_names_both_features_and_the_area(community_units):
    fc, basics = _units(community_units)
    first = shapely.Polygon(fc["features"][0]["geometry"]["coordinates"][0])
    _replace_polygon(fc["features"][0], shapely.affinity.translate(first, 0.0002, 0.0))
    report = _validate_units(fc, basics)
    _assert_refused(report, K.OVERLAP)
    overlaps = [p for p in report.problems if p.kind is K.OVERLAP]
    assert all(p.detail["area_m2"] > 1.0 for p in overlaps)
    assert all(0 in (p.index, p.detail["other_index"]) for p in overlaps)
    assert "平方米" in overlaps[0].message


def test_child_sticking_out_of_its_parent(community_units):
    fc, basics = _units(community_units)
    first = shapely.Polygon(fc["features"][0]["geometry"]["coordinates"][0])
    _replace_polygon(fc["features"][0], first.buffer(0.0003, join_style="mitre"))
    report = _validate_units(fc, basics)
    _assert_refused(report, K.OUTSIDE_PARENT, K.OVERLAP)
    outside = next(p for p in report.problems if p.kind is K.OUTSIDE_PARENT)
    assert outside.index == 0
    assert outside.detail["parent_code"] == fc["features"][0]["properties"]["basic_code"]
    assert outside.detail["area_m2"] > 100


def test_gap_names_the_parent_and_its_uncovered_area(community_units):
    fc, basics = _units(community_units)
    dropped = fc["features"].pop(5)
    report = _validate_units(fc, basics)
    _assert_refused(report, K.GAP)
    (gap,) = [p for p in report.problems if p.kind is K.GAP]
    assert gap.index is None
    assert gap.detail["parent_code"] == dropped["properties"]["basic_code"]
    assert 5_000 < gap.detail["area_m2"] < 40_000  # one unit grid
    assert dropped["properties"]["basic_code"] in gap.message


def test_a_parent_without_any_child_is_a_gap(community_units, by_level):
    fc, basics = _units(community_units)
    other = next(c for c in by_level[GridLevel.BASIC] if c.parent_code != COMMUNITY)
    report = _validate_units(fc, {**basics, other.code: other.polygon})
    _assert_refused(report, K.GAP)

"""The demo grid. Generation takes a few seconds, so it runs once per process (demo_grid)."""

import hashlib
import inspect
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

import numpy as np
import pytest
import shapely

from gridgov.demo.dongcheng import COUNTY_CODE, STREETS
from gridgov.grid.crs import geometry_to_local_metric
from gridgov.grid.generate import (
    SHAPE_BOUNDS,
    apportion,
    band_height_for,
    demo_grid,
    geojson_features,
    load_dongcheng_boundary,
    reading_order,
)
from gridgov.grid.rules import GridLevel, cell_problems

OVERLAP_TOLERANCE_M2 = 0.01


def _digest(cells) -> str:
    digest = hashlib.sha256()
    for cell in cells:
        digest.update(f"{cell.level}|{cell.code}|{cell.name}|{cell.parent_code}|"
                      f"{cell.basic_code}|".encode())
        digest.update(cell.polygon.wkb)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def cells():
    return demo_grid()


@pytest.fixture(scope="module")
def by_level(cells):
    grouped = defaultdict(list)
    for cell in cells:
        grouped[cell.level].append(cell)
    return grouped


def _polygons(cells) -> np.ndarray:
    return np.array([c.polygon for c in cells], dtype=object)


def _metric(cells) -> np.ndarray:
    return geometry_to_local_metric(_polygons(cells))


# --- pure helpers ------------------------------------------------------------------------


def test_apportion_follows_weights_with_a_minimum_and_exact_total():
    assert apportion([1, 1, 1, 1], 10) == [3, 3, 2, 2]  # ties to the lower index
    assert apportion([100, 1, 1], 10) == [8, 1, 1]  # at least one each
    assert apportion([0.6, 0.3, 0.1], 10) == [6, 3, 1]
    shares = apportion(list(range(1, 178)), 592)
    assert sum(shares) == 592 and min(shares) >= 1
    with pytest.raises(ValueError):
        apportion([1, 1, 1], 2)


def test_reading_order_goes_west_to_east_then_north_to_south():
    rng = np.random.default_rng(3)
    # A 3×3 lattice 1 apart, rows jittered by far less than the band height, shuffled.
    lngs, lats, expected = [], [], []
    for row in range(3):
        for col in range(3):
            lngs.append(col + rng.uniform(-0.3, 0.3))
            lats.append(-row + rng.uniform(-0.1, 0.0))
            expected.append((row, col))
    shuffled = rng.permutation(9)
    order = reading_order([lngs[i] for i in shuffled], [lats[i] for i in shuffled], 0.5)
    assert [expected[shuffled[i]] for i in order] == [(r, c) for r in range(3) for c in range(3)]


# --- the generated grid ------------------------------------------------------------------


def test_counts_match_dongcheng(by_level):
    assert {level: len(by_level[level]) for level in GridLevel} == {
        GridLevel.STREET: 17, GridLevel.COMMUNITY: 177, GridLevel.BASIC: 592,
        GridLevel.UNIT: 2322,
    }


def test_streets_and_communities_are_the_reference_ones(by_level):
    streets = {c.code: c for c in by_level[GridLevel.STREET]}
    for street in STREETS:
        assert streets[street.code].name == f"{street.name}街道"
        assert streets[street.code].parent_code == COUNTY_CODE
        communities = sorted((c for c in by_level[GridLevel.COMMUNITY]
                              if c.parent_code == street.code), key=lambda c: c.code)
        assert [c.name for c in communities] == [f"{n}社区" for n in street.communities]
        assert [c.code for c in communities] == [
            street.community_code(i) for i in range(len(street.communities))
        ]


def test_every_cell_is_one_valid_polygon_with_consistent_codes(cells):
    polygons = _polygons(cells)
    assert all(p.geom_type == "Polygon" for p in polygons)
    assert shapely.is_valid(polygons).all()
    assert [problem for cell in cells for problem in cell_problems(cell)] == []
    assert len({c.code for c in cells}) == len(cells)


def test_names_follow_the_pattern(by_level):
    basic = min(by_level[GridLevel.BASIC], key=lambda c: c.code)
    unit = min(by_level[GridLevel.UNIT], key=lambda c: c.code)
    assert basic.name == "多福巷社区第1基础网格"
    assert unit.name == "多福巷社区单元网格001"


def test_each_street_contains_its_given_centre(by_level):
    streets = {c.code: c.polygon for c in by_level[GridLevel.STREET]}
    for street in STREETS:
        assert streets[street.code].contains(shapely.Point(street.centre))


@pytest.mark.parametrize("level", list(GridLevel))
def test_each_level_is_an_exact_coverage(by_level, level):
    """Shared edges carry identical vertices: no gap, no overlap, not even float noise."""
    assert shapely.coverage_is_valid(_polygons(by_level[level]))


@pytest.mark.parametrize("level", list(GridLevel))
def test_no_two_cells_of_a_level_overlap(by_level, level):
    metric = _metric(by_level[level])
    left, right = shapely.STRtree(metric).query(metric, predicate="intersects")
    pairs = left < right
    overlaps = shapely.area(shapely.intersection(metric[left[pairs]], metric[right[pairs]]))
    assert overlaps.max() < OVERLAP_TOLERANCE_M2


def test_the_streets_tile_the_real_boundary(by_level):
    boundary = geometry_to_local_metric(load_dongcheng_boundary())
    union = geometry_to_local_metric(shapely.union_all(_polygons(by_level[GridLevel.STREET])))
    assert union.geom_type == "Polygon"
    assert abs(union.area - boundary.area) / boundary.area < 0.005
    # The outline is the real one to within rounding (7 decimals ≈ 1 cm).
    assert shapely.hausdorff_distance(union.exterior, boundary.exterior) < 0.02


@pytest.mark.parametrize(
    ("level", "parent_level"),
    [(GridLevel.COMMUNITY, GridLevel.STREET), (GridLevel.BASIC, GridLevel.COMMUNITY),
     (GridLevel.UNIT, GridLevel.BASIC)],
)
def test_children_exactly_tile_their_parent(by_level, level, parent_level):
    def key(cell):
        return cell.basic_code if level is GridLevel.UNIT else cell.parent_code

    children = defaultdict(list)
    for cell in by_level[level]:
        children[key(cell)].append(cell.polygon)
    parents = {c.code: c.polygon for c in by_level[parent_level]}
    assert set(children) == set(parents)
    for code, polygon in parents.items():
        union = shapely.coverage_union_all(np.array(children[code], dtype=object))
        assert union.equals(polygon), code
        for child in children[code]:
            assert polygon.covers(child), code


def test_unit_grids_lie_in_their_community(by_level):
    communities = {c.code: c.polygon for c in by_level[GridLevel.COMMUNITY]}
    for unit in by_level[GridLevel.UNIT]:
        assert unit.basic_code[:12] == unit.parent_code
        assert communities[unit.parent_code].covers(unit.polygon)


@pytest.mark.parametrize("level", list(GridLevel))
def test_cells_are_compact_and_even(by_level, level):
    bounds = SHAPE_BOUNDS[level]
    metric = _metric(by_level[level])
    area = shapely.area(metric)
    polsby_popper = 4 * np.pi * area / shapely.length(metric) ** 2
    assert polsby_popper.min() >= bounds.min_polsby_popper
    assert area.min() >= bounds.min_area_share * area.mean()
    assert area.max() <= bounds.max_area_share * area.mean()


def test_unit_grids_average_eighteen_thousand_square_metres(by_level):
    metric = _metric(by_level[GridLevel.UNIT])
    area = shapely.area(metric)
    assert area.mean() == pytest.approx(41.84e6 / 2322, rel=0.02)
    polsby_popper = 4 * np.pi * area / shapely.length(metric) ** 2
    assert np.percentile(polsby_popper, 1) >= 0.5  # only boundary cells are ragged


@pytest.mark.parametrize(("level", "digits"), [(GridLevel.BASIC, 2), (GridLevel.UNIT, 3)])
def test_codes_run_west_to_east_then_north_to_south_in_each_community(by_level, level, digits):
    members = defaultdict(list)
    for cell in by_level[level]:
        members[cell.code[:12]].append(cell)
    for community, group in members.items():
        group.sort(key=lambda c: c.code)
        assert [int(c.code[12:]) for c in group] == list(range(1, len(group) + 1))
        assert all(len(c.code) == 12 + digits for c in group)
        centroids = shapely.centroid(_polygons(group))
        lngs, lats = shapely.get_x(centroids), shapely.get_y(centroids)
        bands = ((lats.max() - lats) // band_height_for(_polygons(group))).astype(int)
        for i in range(len(group) - 1):
            assert bands[i] <= bands[i + 1], community
            if bands[i] == bands[i + 1]:
                assert lngs[i] < lngs[i + 1], community


def test_geojson_has_seven_decimals_and_the_properties(by_level):
    collection = geojson_features(by_level[GridLevel.UNIT][:50])
    assert collection["type"] == "FeatureCollection"
    assert collection["coordinate_system"] == "gcj02"
    feature = collection["features"][0]
    assert set(feature["properties"]) == {"code", "name", "level", "parent_code", "basic_code"}
    assert feature["properties"]["level"] == "unit"
    text = json.dumps(collection)
    numbers = re.findall(r"-?\d+\.\d+", text)
    assert numbers and max(len(n.split(".")[1]) for n in numbers) <= 7
    # Rounding is idempotent: the file holds exactly the stored coordinates.
    first = by_level[GridLevel.UNIT][0].polygon
    assert feature["geometry"]["coordinates"][0] == [list(p) for p in first.exterior.coords]


def test_generation_is_deterministic_across_processes(cells):
    """A fresh process, with another hash seed, produces the same codes and WKB."""
    script = "\n".join([
        "import hashlib",
        "from gridgov.grid.generate import generate_dongcheng",
        inspect.getsource(_digest),
        "print(_digest(generate_dongcheng()))",
    ])
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, check=True, timeout=300)
    assert result.stdout.strip() == _digest(cells)

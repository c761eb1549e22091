import itertools
import warnings

import numpy as np
import prcoords
import pytest
import shapely
from pyproj import Geod

from gridgov.grid.crs import (
    CRS,
    convert,
    from_gcj02,
    from_gcj02_array,
    geometry_from_gcj02,
    geometry_from_local_metric,
    geometry_to_gcj02,
    geometry_to_local_metric,
    to_gcj02,
    to_gcj02_array,
)
from gridgov.grid.generate import load_dongcheng_boundary

GEOD = Geod(ellps="WGS84")
SYSTEMS = list(CRS)


@pytest.fixture(scope="module")
def dongcheng_points() -> np.ndarray:
    """1,500 GCJ-02 positions spread over Dongcheng and a little beyond."""
    rng = np.random.default_rng(7)
    lng = rng.uniform(116.36, 116.46, 1500)
    lat = rng.uniform(39.85, 39.98, 1500)
    return np.column_stack([lng, lat])


def _in_system(points: np.ndarray, crs: CRS) -> np.ndarray:
    return np.array([from_gcj02(x, y, crs) for x, y in points])


def _distances_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    _, _, distance = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    return np.asarray(distance)


@pytest.mark.parametrize(("source", "target"), list(itertools.permutations(SYSTEMS, 2)))
def test_scalar_round_trip_of_every_pair_stays_within_a_metre(dongcheng_points, source, target):
    start = _in_system(dongcheng_points, source)
    there = np.array([convert(x, y, source, target) for x, y in start])
    back = np.array([convert(x, y, target, source) for x, y in there])
    errors = _distances_m(start, back)
    assert errors.max() < 1.0
    assert errors.max() < 0.01  # in fact millimetres: the inverse is iterative


@pytest.mark.parametrize("crs", SYSTEMS)
def test_vectorised_conversion_equals_scalar(dongcheng_points, crs):
    lng, lat = dongcheng_points[:, 0], dongcheng_points[:, 1]
    scalar_to = np.array([to_gcj02(x, y, crs) for x, y in dongcheng_points])
    scalar_from = np.array([from_gcj02(x, y, crs) for x, y in dongcheng_points])
    assert np.abs(np.column_stack(to_gcj02_array(lng, lat, crs)) - scalar_to).max() < 1e-9
    assert np.abs(np.column_stack(from_gcj02_array(lng, lat, crs)) - scalar_from).max() < 1e-9


@pytest.mark.parametrize("crs", SYSTEMS)
def test_vectorised_round_trip_stays_within_a_metre(dongcheng_points, crs):
    lng, lat = dongcheng_points[:, 0], dongcheng_points[:, 1]
    back = np.column_stack(to_gcj02_array(*from_gcj02_array(lng, lat, crs), crs))
    assert _distances_m(dongcheng_points, back).max() < 1.0


def test_scalar_path_is_prcoords():
    lng, lat = 116.397, 39.908
    expected = prcoords.wgs_gcj((lat, lng))
    assert to_gcj02(lng, lat, CRS.WGS84) == (expected.lon, expected.lat)
    expected = prcoords.bd_gcj_bored((lat, lng))
    assert to_gcj02(lng, lat, CRS.BD09) == (expected.lon, expected.lat)


def test_gcj02_offset_in_beijing_is_a_few_hundred_metres():
    wgs = np.array([[116.391, 39.907]])
    gcj = np.array([to_gcj02(116.391, 39.907, CRS.WGS84)])
    shift = _distances_m(wgs, gcj)[0]
    assert 300 < shift < 800
    assert gcj[0, 0] > wgs[0, 0]  # east, as every GCJ-02 map of Beijing shows


def test_gcj02_is_stored_unchanged():
    assert to_gcj02(116.4, 39.9, CRS.GCJ02) == (116.4, 39.9)
    lng, lat = to_gcj02_array([116.4], [39.9], "gcj02")
    assert (lng[0], lat[0]) == (116.4, 39.9)


def test_positions_outside_china_are_not_shifted_and_raise_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert to_gcj02(2.35, 48.85, CRS.WGS84) == (2.35, 48.85)
        assert from_gcj02(2.35, 48.85, CRS.WGS84) == (2.35, 48.85)
        lng, lat = to_gcj02_array([2.35, 116.4], [48.85, 39.9], CRS.WGS84)
    assert (lng[0], lat[0]) == (2.35, 48.85)
    assert lng[1] != 116.4


def test_arrays_of_different_shapes_are_refused():
    with pytest.raises(ValueError):
        to_gcj02_array([1.0, 2.0], [1.0], CRS.WGS84)


def test_local_metric_plane_measures_dongcheng_and_returns_exactly():
    boundary = load_dongcheng_boundary()
    metric = geometry_to_local_metric(boundary)
    geodesic_area = abs(GEOD.geometry_area_perimeter(boundary)[0])
    assert metric.area == pytest.approx(geodesic_area, rel=1e-4)
    assert 41e6 < metric.area < 43e6
    back = geometry_from_local_metric(metric)
    assert back.equals_exact(boundary, tolerance=1e-12)


@pytest.mark.parametrize("crs", SYSTEMS)
def test_geometries_convert_vertex_by_vertex(crs):
    square = shapely.box(116.40, 39.90, 116.41, 39.91)
    served = geometry_from_gcj02(square, crs)
    assert served.equals(square) == (crs is CRS.GCJ02)
    assert geometry_to_gcj02(served, crs).equals_exact(square, tolerance=1e-7)

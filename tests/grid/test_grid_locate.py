import numpy as np
import pytest
import shapely

from gridgov.grid.crs import CRS, from_gcj02, from_gcj02_array
from gridgov.grid.generate import demo_grid, load_dongcheng_boundary
from gridgov.grid.locate import OUTSIDE, GridIndex, Location
from gridgov.grid.rules import GridCell, GridLevel, OutsideManagedArea


@pytest.fixture(scope="module")
def index() -> GridIndex:
    return GridIndex.from_cells(demo_grid())


@pytest.fixture(scope="module")
def units():
    return sorted((c for c in demo_grid() if c.level is GridLevel.UNIT), key=lambda c: c.code)


def _brute_force(index: GridIndex, lngs, lats) -> tuple[np.ndarray, np.ndarray]:
    """Smallest row whose polygon covers each point, and how many do; tests every polygon."""
    rows = np.full(len(lngs), OUTSIDE)
    covering = np.zeros(len(lngs), dtype=int)
    for row, polygon in reversed(list(enumerate(index.polygons))):
        hit = shapely.intersects_xy(polygon, lngs, lats)
        rows[hit] = row
        covering += hit
    return rows, covering


def _brute_force_rows(index: GridIndex, lngs, lats) -> np.ndarray:
    return _brute_force(index, lngs, lats)[0]


def _random_points(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = load_dongcheng_boundary().bounds
    rng = np.random.default_rng(seed)
    return rng.uniform(minx - 0.002, maxx + 0.002, count), rng.uniform(miny, maxy, count)


def test_index_holds_only_unit_grids_sorted_by_code(index, units):
    assert len(index) == 2322
    assert list(index.unit_codes) == [c.code for c in units]


def test_each_unit_grid_finds_itself_with_its_parents(index, units):
    for cell in units[::7]:
        point = cell.polygon.point_on_surface()
        assert index.locate(point.x, point.y) == Location(
            cell.code, cell.basic_code, cell.parent_code, cell.code[:9])


def test_batch_equals_brute_force_on_random_points(index):
    lngs, lats = _random_points(20_000, seed=11)
    batch = index.locate_many(lngs, lats)
    expected = _brute_force_rows(index, lngs, lats)
    assert (batch.rows == expected).all()
    assert (~batch.inside).any() and batch.inside.any()


def test_batch_equals_exact_test_on_many_points(index):
    lngs, lats = _random_points(300_000, seed=12)
    assert (index.locate_many(lngs, lats).rows == index.exact_rows(lngs, lats)).all()


def test_points_on_shared_edges_and_vertices_resolve_to_the_smallest_code(index, units):
    vertices = np.unique(shapely.get_coordinates(
        np.array([c.polygon for c in units[:400]], dtype=object)), axis=0)
    rings = [np.asarray(c.polygon.exterior.coords) for c in units[:400]]
    midpoints = np.concatenate([(r[:-1] + r[1:]) / 2 for r in rings])
    points = np.concatenate([vertices, midpoints])
    lngs, lats = points[:, 0], points[:, 1]
    expected, covering = _brute_force(index, lngs, lats)
    assert (covering > 1).sum() > 1000  # the sample really exercises shared edges
    assert (index.locate_many(lngs, lats).rows == expected).all()
    for i in np.flatnonzero(covering > 1)[::5]:
        assert index.locate(lngs[i], lats[i]).unit_code == index.unit_codes[expected[i]]


def test_outside_point_raises_with_the_position(index):
    with pytest.raises(OutsideManagedArea) as raised:
        index.locate(116.30, 39.90)
    assert "位置不在管辖范围内" in str(raised.value)
    assert "116.3000000" in str(raised.value) and "39.9000000" in str(raised.value)


def test_batch_marks_outside_and_invalid_points_never_guessing(index, units):
    inner = units[0].polygon.point_on_surface()
    lngs = np.array([116.30, inner.x, np.nan, 200.0, inner.x])
    lats = np.array([39.90, inner.y, 39.9, 39.9, np.inf])
    batch = index.locate_many(lngs, lats)
    assert batch.inside.tolist() == [False, True, False, False, False]
    assert batch.rows[0] == OUTSIDE
    assert batch.unit_codes().tolist() == ["", units[0].code, "", "", ""]
    assert batch.basic_codes()[1] == units[0].basic_code
    assert batch.community_codes()[1] == units[0].parent_code
    assert batch.street_codes()[1] == units[0].code[:9]


@pytest.mark.parametrize("crs", [CRS.WGS84, CRS.BD09])
def test_other_coordinate_systems_are_converted_first(index, units, crs):
    cells = units[::50]
    points = np.array([[p.x, p.y] for p in (c.polygon.point_on_surface() for c in cells)])
    x, y = from_gcj02_array(points[:, 0], points[:, 1], crs)
    batch = index.locate_many(x, y, crs=crs)
    assert batch.unit_codes().tolist() == [c.code for c in cells]
    lng, lat = from_gcj02(points[0, 0], points[0, 1], crs)
    assert index.locate(lng, lat, crs=crs).unit_code == cells[0].code


def _square(code: str, basic: str, x0: float, y0: float, size: float) -> GridCell:
    return GridCell(GridLevel.UNIT, code, code, code[:12], basic,
                    shapely.box(x0, y0, x0 + size, y0 + size))


def test_edges_lying_on_raster_lines_are_still_exact():
    """Squares whose horizontal edges lie on the lookup raster's own lines, probed on them."""
    step = 0.001
    cells = [
        _square(f"110101001001{i + 1:03d}", "11010100100101", 116.4 + (i % 3) * step,
                39.9 + (i // 3) * step, step)
        for i in range(9)
    ]
    index = GridIndex.from_cells(cells, raster_cell_m=step * 111_320 / 4)
    rng = np.random.default_rng(5)
    ticks = 116.4 + np.arange(-1, 13) * step / 4
    lngs = np.concatenate([rng.uniform(116.399, 116.404, 20_000), np.repeat(ticks, 14)])
    lat_ticks = 39.9 + np.arange(-1, 13) * step / 4
    lats = np.concatenate([rng.uniform(39.899, 39.904, 20_000), np.tile(lat_ticks, 14)])
    assert (index.locate_many(lngs, lats).rows == _brute_force_rows(index, lngs, lats)).all()


def test_index_needs_unit_grids_with_basic_codes():
    with pytest.raises(ValueError):
        GridIndex.from_cells([])
    orphan = _square("110101001001001", None, 116.4, 39.9, 0.001)
    with pytest.raises(ValueError):
        GridIndex.from_cells([orphan])

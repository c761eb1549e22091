"""Point → unit grid (and its basic grid, community, street). Exact answers only.

A point on an edge or vertex shared by several unit grids belongs to the one with the
smallest code, in every path. A point in no unit grid is outside: `locate` raises
`OutsideManagedArea`, `locate_many` marks it; nothing is ever guessed.

`locate_many` is two-stage. A lookup raster of small squares (`raster_cell_m`, default
4 m) covers the area; a square that no grid edge touches lies wholly inside one unit grid
(or wholly outside all), so a point in it is answered by one array read. Only points in
squares an edge passes through (about a tenth of the area at 4 m) go to the exact
point-in-polygon test of the STRtree.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from gridgov.grid.crs import CRS, METRES_PER_DEGREE_LAT, to_gcj02, to_gcj02_array
from gridgov.grid.rules import GridCell, GridLevel, OutsideManagedArea

OUTSIDE = -1
_MIXED = -2  # raster square touched by an edge: ask the exact test
_EDGE_MARGIN = 1e-6  # in raster squares; far above the rounding of the crossing arithmetic


@dataclass(frozen=True)
class Location:
    unit_code: str
    basic_code: str
    community_code: str
    street_code: str


@dataclass(frozen=True)
class LookupRaster:
    """Per square: the unit grid (row of the index), OUTSIDE, or _MIXED."""

    origin_lng: float
    origin_lat: float
    step_lng: float
    step_lat: float
    labels: NDArray[np.integer]  # (rows, cols), row 0 at origin_lat (south)

    def squares(self, lngs: NDArray[np.float64], lats: NDArray[np.float64]):
        """Column and row of each position (floats: may be out of range or NaN)."""
        return (np.floor((lngs - self.origin_lng) / self.step_lng),
                np.floor((lats - self.origin_lat) / self.step_lat))


class GridIndex:
    """Unit grids (GCJ-02) ready for point location; rows sorted by unit code."""

    def __init__(self, cells: list[GridCell], raster_cell_m: float):
        self.unit_codes = np.array([c.code for c in cells])
        self.basic_codes = np.array([c.basic_code for c in cells])
        self.community_codes = np.array([c.community_code for c in cells])
        self.street_codes = np.array([c.street_code for c in cells])
        self.polygons = np.array([c.polygon for c in cells], dtype=object)
        shapely.prepare(self.polygons)
        self.tree = shapely.STRtree(self.polygons)
        self.raster = _build_raster(self, raster_cell_m)

    @classmethod
    def from_cells(cls, cells: Iterable[GridCell], *, raster_cell_m: float = 4.0) -> "GridIndex":
        """Index the unit grids among `cells` (other levels are ignored)."""
        units = sorted((c for c in cells if c.level is GridLevel.UNIT), key=lambda c: c.code)
        if not units:
            raise ValueError("no unit grids to index")
        missing = [c.code for c in units if c.basic_code is None]
        if missing:
            raise ValueError(f"unit grids without basic_code: {missing[:5]}")
        return cls(units, raster_cell_m)

    def __len__(self) -> int:
        return len(self.unit_codes)

    def location(self, row: int) -> Location:
        return Location(str(self.unit_codes[row]), str(self.basic_codes[row]),
                        str(self.community_codes[row]), str(self.street_codes[row]))

    def locate(self, lng: float, lat: float, crs: CRS = CRS.GCJ02) -> Location:
        x, y = to_gcj02(lng, lat, crs)
        hits = self.tree.query(shapely.Point(x, y), predicate="intersects")
        if len(hits) == 0:
            raise OutsideManagedArea(lng, lat)
        return self.location(int(hits.min()))

    def locate_many(
        self, lngs: ArrayLike, lats: ArrayLike, crs: CRS = CRS.GCJ02
    ) -> "BatchLocation":
        x, y = to_gcj02_array(lngs, lats, crs)
        rows = self.raster_rows(x, y)
        mixed = np.flatnonzero(rows == _MIXED)
        if len(mixed):
            rows[mixed] = self.exact_rows(x[mixed], y[mixed])
        return BatchLocation(rows, self)

    def exact_rows(self, lngs: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray:
        """Row of each GCJ-02 position by point-in-polygon alone; OUTSIDE when in none."""
        rows = np.full(len(lngs), len(self), dtype=np.int64)
        point_index, row = self.tree.query(shapely.points(lngs, lats), predicate="intersects")
        np.minimum.at(rows, point_index, row)
        rows[rows == len(self)] = OUTSIDE
        return rows.astype(np.int32)

    def raster_rows(self, lngs: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray:
        """Row from the raster; OUTSIDE off the raster or for non-finite input; else _MIXED."""
        raster = self.raster
        col, row = raster.squares(lngs, lats)
        n_rows, n_cols = raster.labels.shape
        on = (col >= 0) & (col < n_cols) & (row >= 0) & (row < n_rows)  # False for NaN
        out = np.full(len(lngs), OUTSIDE, dtype=np.int32)
        out[on] = raster.labels[row[on].astype(np.intp), col[on].astype(np.intp)]
        return out


@dataclass(frozen=True)
class BatchLocation:
    """Result of `locate_many`: `rows[i]` is the index row of point i, or OUTSIDE."""

    rows: NDArray[np.int32]
    index: GridIndex

    @property
    def inside(self) -> NDArray[np.bool_]:
        return self.rows != OUTSIDE

    def _codes(self, codes: NDArray) -> NDArray:
        out = np.full(len(self.rows), "", dtype=codes.dtype)
        inside = self.inside
        out[inside] = codes[self.rows[inside]]
        return out

    def unit_codes(self) -> NDArray[np.str_]:
        """Unit grid code per point; "" for points outside."""
        return self._codes(self.index.unit_codes)

    def basic_codes(self) -> NDArray[np.str_]:
        return self._codes(self.index.basic_codes)

    def community_codes(self) -> NDArray[np.str_]:
        return self._codes(self.index.community_codes)

    def street_codes(self) -> NDArray[np.str_]:
        return self._codes(self.index.street_codes)


# --- building the raster -----------------------------------------------------------------


def _build_raster(index: GridIndex, cell_m: float) -> LookupRaster:
    min_lng, min_lat, max_lng, max_lat = shapely.total_bounds(index.polygons)
    step_lat = cell_m / METRES_PER_DEGREE_LAT
    step_lng = step_lat / np.cos(np.radians((min_lat + max_lat) / 2))
    # One spare square on each side keeps every edge strictly inside the raster.
    origin_lng, origin_lat = min_lng - step_lng, min_lat - step_lat
    n_cols = int(np.ceil((max_lng - origin_lng) / step_lng)) + 2
    n_rows = int(np.ceil((max_lat - origin_lat) / step_lat)) + 2
    raster = LookupRaster(origin_lng, origin_lat, step_lng, step_lat,
                          np.full((n_rows, n_cols), OUTSIDE, dtype=np.int32))

    touched = _squares_touched_by_edges(index.polygons, raster)
    labels = raster.labels
    labels.ravel()[touched] = _MIXED
    _label_free_runs(index, raster)
    return raster


def _squares_touched_by_edges(polygons: NDArray, raster: LookupRaster) -> NDArray[np.intp]:
    """Flat indices of every raster square (closed) that some polygon edge meets.

    Conservative: an edge meets a square iff an endpoint lies in it or the edge crosses one
    of its four sides, so endpoints and all grid-line crossings mark the squares on both
    sides of the line, widened by _EDGE_MARGIN against rounding.
    """
    lines = shapely.get_parts(shapely.boundary(polygons))
    coords, line_of = shapely.get_coordinates(lines, return_index=True)
    same_line = line_of[1:] == line_of[:-1]
    gx = (coords[:, 0] - raster.origin_lng) / raster.step_lng
    gy = (coords[:, 1] - raster.origin_lat) / raster.step_lat
    x0, x1 = gx[:-1][same_line], gx[1:][same_line]
    y0, y1 = gy[:-1][same_line], gy[1:][same_line]

    cols: list[NDArray] = []
    rows: list[NDArray] = []

    def mark(col: NDArray, row: NDArray, col_margin: bool, row_margin: bool) -> None:
        for dc in ((-_EDGE_MARGIN, _EDGE_MARGIN) if col_margin else (0.0,)):
            for dr in ((-_EDGE_MARGIN, _EDGE_MARGIN) if row_margin else (0.0,)):
                cols.append(np.floor(col + dc))
                rows.append(np.floor(row + dr))

    mark(gx, gy, True, True)  # every vertex
    for a0, a1, b0, b1, vertical in ((x0, x1, y0, y1, True), (y0, y1, x0, x1, False)):
        # Crossings of the grid lines a = k (vertical lines when `vertical`).
        lo, hi = np.minimum(a0, a1), np.maximum(a0, a1)
        first = np.ceil(lo)
        count = np.maximum(np.floor(hi) - first + 1, 0).astype(np.intp)
        count[a0 == a1] = 0  # lying along a line: its crossings of the other lines mark it
        segment = np.repeat(np.arange(len(a0)), count)
        k = first[segment] + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
        t = (k - a0[segment]) / (a1[segment] - a0[segment])
        b = b0[segment] + t * (b1[segment] - b0[segment])
        for side in (k - 1, k):
            if vertical:
                mark(side, b, False, True)
            else:
                mark(b, side, True, False)

    n_rows, n_cols = raster.labels.shape
    col = np.concatenate(cols).astype(np.intp)
    row = np.concatenate(rows).astype(np.intp)
    keep = (col >= 0) & (col < n_cols) & (row >= 0) & (row < n_rows)
    return np.unique(row[keep] * n_cols + col[keep])


def _label_free_runs(index: GridIndex, raster: LookupRaster) -> None:
    """Label every run of untouched squares along a row by one exact test at its first square.

    No edge meets a run, so the whole run lies in the interior of one unit grid or outside
    them all.
    """
    labels = raster.labels
    n_cols = labels.shape[1]
    free = (labels != _MIXED).ravel()
    previous_free = np.concatenate([[False], free[:-1]])
    previous_free[::n_cols] = False  # runs never continue onto the next row
    starts = np.flatnonzero(free & ~previous_free)
    start_row, start_col = np.divmod(starts, n_cols)
    centre_lng = raster.origin_lng + (start_col + 0.5) * raster.step_lng
    centre_lat = raster.origin_lat + (start_row + 0.5) * raster.step_lat
    run_labels = index.exact_rows(centre_lng, centre_lat)
    run_of_square = np.cumsum(free & ~previous_free) - 1
    flat = labels.ravel()
    flat[free] = run_labels[run_of_square[free]]

"""Grid geometry speed: generating the demo grid, validating it, locating points.

Run: .venv/bin/python bench/bench_grid.py
Generation and index build are one cold run each. Locate figures are the best of three runs
over the same 1,000,000 random points inside Dongcheng (fixed seed), after the index is
built; the WGS-84 figure includes the conversion to GCJ-02.
"""

import contextlib
import time
from collections.abc import Callable

import numpy as np
import shapely
from figures import Figure

from gridgov.grid.crs import CRS, from_gcj02_array
from gridgov.grid.generate import generate_dongcheng, geojson_features, load_dongcheng_boundary
from gridgov.grid.locate import GridIndex
from gridgov.grid.rules import GridLevel, OutsideManagedArea
from gridgov.grid.validate import validate_features

POINTS = 1_000_000
SCALAR_POINTS = 10_000
REPEATS = 3
SEED = 20180604


def _seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _best(action: Callable[[], object]) -> float:
    return min(_seconds(action) for _ in range(REPEATS))


def _points_inside(count: int) -> tuple[np.ndarray, np.ndarray]:
    boundary = load_dongcheng_boundary()
    minx, miny, maxx, maxy = boundary.bounds
    rng = np.random.default_rng(SEED)
    found = np.empty((0, 2))
    while len(found) < count:
        batch = rng.uniform((minx, miny), (maxx, maxy), size=(count, 2))
        found = np.concatenate([found, batch[shapely.contains_xy(boundary, *batch.T)]])
    return found[:count, 0].copy(), found[:count, 1].copy()


def main() -> list[Figure]:
    started = time.perf_counter()
    cells = generate_dongcheng()
    generate_s = time.perf_counter() - started

    units = [c for c in cells if c.level is GridLevel.UNIT]
    basics = {c.code: c.polygon for c in cells if c.level is GridLevel.BASIC}
    collection = geojson_features(units)
    validate_s = _seconds(lambda: validate_features(collection, level=GridLevel.UNIT,
                                                    parents=basics))

    started = time.perf_counter()
    index = GridIndex.from_cells(cells)
    build_s = time.perf_counter() - started

    lngs, lats = _points_inside(POINTS)
    locate_s = _best(lambda: index.locate_many(lngs, lats))
    wgs_lngs, wgs_lats = from_gcj02_array(lngs, lats, CRS.WGS84)
    locate_wgs_s = _best(lambda: index.locate_many(wgs_lngs, wgs_lats, crs=CRS.WGS84))

    def scalar_loop() -> None:
        for lng, lat in zip(lngs[:SCALAR_POINTS].tolist(), lats[:SCALAR_POINTS].tolist(),
                            strict=True):
            with contextlib.suppress(OutsideManagedArea):  # a centimetre from the outline
                index.locate(lng, lat)

    scalar_us = _best(scalar_loop) / SCALAR_POINTS * 1e6

    return [
        Figure("grid.generate_dongcheng", generate_s, "s", "< 60 s", generate_s < 60),
        Figure("grid.validate_2322_units", validate_s, "s", "< 5 s", validate_s < 5),
        Figure("grid.index_build", build_s, "s", "< 5 s", build_s < 5),
        Figure("grid.locate_1m", locate_s, "s", "< 1 s", locate_s < 1),
        Figure("grid.locate_1m_wgs84", locate_wgs_s, "s", "< 1 s", locate_wgs_s < 1),
        Figure("grid.locate_one", scalar_us, "µs", "< 100 µs", scalar_us < 100),
    ]


if __name__ == "__main__":
    for figure in main():
        print(figure.line())

"""Grid speed: generating the demo grid, validating it, locating points; the database side.

Run: .venv/bin/python bench/bench_grid.py
Generation and index build are one cold run each. Locate figures are the best of three runs
over the same 1,000,000 random points inside Dongcheng (fixed seed), after the index is
built; the WGS-84 figure includes the conversion to GCJ-02.

Database figures use a fresh SQLite file: loading the demo grid (four audited imports) and
the ~42,000 demo components through the services, one cold GeoJSON layer of the unit grids,
and per-call latencies of `service.locate` and `components.nearest` as the case lifecycle
sees them (each call checks the grid revision: one primary-key read).
"""

import contextlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely
from figures import Figure

from gridgov import migrate
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.db import Database
from gridgov.demo.loader import load_demo_organisation
from gridgov.grid import components, demo, service
from gridgov.grid.crs import CRS, from_gcj02_array
from gridgov.grid.generate import demo_grid, geojson_features, load_dongcheng_boundary
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
    cells = list(demo_grid())  # cold: the first call in this process generates
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

    database_figures = _database_figures(lngs[:SERVICE_CALLS], lats[:SERVICE_CALLS])
    return [
        Figure("grid.generate_dongcheng", generate_s, "s", "< 60 s", generate_s < 60),
        Figure("grid.validate_2322_units", validate_s, "s", "< 5 s", validate_s < 5),
        Figure("grid.index_build", build_s, "s", "< 5 s", build_s < 5),
        Figure("grid.locate_1m", locate_s, "s", "< 1 s", locate_s < 1),
        Figure("grid.locate_1m_wgs84", locate_wgs_s, "s", "< 1 s", locate_wgs_s < 1),
        Figure("grid.locate_one", scalar_us, "µs", "< 100 µs", scalar_us < 100),
        *database_figures,
    ]


SERVICE_CALLS = 2_000


def _database_figures(lngs: np.ndarray, lats: np.ndarray) -> list[Figure]:
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite:///{Path(directory) / 'bench.sqlite3'}")
        migrate.upgrade(database.engine)
        with database.write() as db:
            load_demo_organisation(db)
        with database.write() as db:
            grid_s = _seconds(lambda: demo.load_demo_grid(db, actor=SYSTEM_ACTOR))
        with database.write() as db:
            components_s = _seconds(lambda: demo.load_demo_components(db, actor=SYSTEM_ACTOR))
        with database.read() as db:
            layer_s = _seconds(lambda: service.level_geojson(db, level=GridLevel.UNIT))
            layer_kb = len(service.level_geojson(db, level=GridLevel.UNIT).gzipped) / 1024
            points = list(zip(lngs.tolist(), lats.tolist(), strict=True))

            def locate_loop() -> None:
                for lng, lat in points:
                    with contextlib.suppress(OutsideManagedArea):
                        service.locate(db, lng=lng, lat=lat)

            def nearest_loop() -> None:
                for lng, lat in points:
                    components.nearest(db, lng=lng, lat=lat, major_minor="0118", limit=10)

            locate_us = _best(locate_loop) / len(points) * 1e6
            nearest_us = _best(nearest_loop) / len(points) * 1e6
        database.dispose()
    return [
        Figure("grid.demo_grid_load_sqlite", grid_s, "s", "< 10 s", grid_s < 10),
        Figure("grid.demo_components_load_sqlite", components_s, "s", "< 20 s",
               components_s < 20),
        Figure("grid.layer_unit_geojson_cold", layer_s, "s", "< 2 s", layer_s < 2),
        Figure("grid.layer_unit_geojson_gzip", layer_kb, "KB", "< 1024 KB", layer_kb < 1024),
        Figure("grid.service_locate_one", locate_us, "µs", "< 1000 µs", locate_us < 1000),
        Figure("grid.components_nearest_10", nearest_us, "µs", "< 2000 µs", nearest_us < 2000),
    ]


if __name__ == "__main__":
    for figure in main():
        print(figure.line())

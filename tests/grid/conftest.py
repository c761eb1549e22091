"""The Dongcheng demo (organisation, grid, components) loaded once per backend and worker, in
a database of its own: tests that take `demo_world` only read."""

import time
from collections.abc import Iterator

import pytest

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.db import Database
from gridgov.demo import loader
from gridgov.grid import demo
from gridgov.grid.generate import demo_grid
from tests.conftest import fresh_database

LOAD_SECONDS: dict[str, dict[str, float]] = {}


@pytest.fixture(scope="session")
def demo_world(request, tmp_path_factory, migrated_database) -> Iterator[Database]:
    demo_grid()  # generated once per process, outside the timings
    with fresh_database(request, tmp_path_factory, migrated_database.dialect) as database:
        timings = LOAD_SECONDS.setdefault(database.dialect, {})
        with database.write() as db:
            loader.load_demo_organisation(db)
        started = time.perf_counter()
        with database.write() as db:
            demo.load_demo_grid(db, actor=SYSTEM_ACTOR)
        timings["grid"] = time.perf_counter() - started
        started = time.perf_counter()
        with database.write() as db:
            demo.load_demo_components(db, actor=SYSTEM_ACTOR)
        timings["components"] = time.perf_counter() - started
        yield database

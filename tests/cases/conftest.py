"""A Dongcheng world for case tests: demo organisation, grid, catalog, channels and one
account per role, loaded once per backend; case tables are emptied after each test."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from gridgov import clock
from gridgov.app import create_app
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.cases.channels import load_demo_channels
from gridgov.cases.models import (
    Attachment, Case, CaseAssignment, CaseClock, CaseEvent, CaseNumberSequence, CaseReporter, ExtensionRequest,
)
from gridgov.catalog.demo import load_demo_catalog
from gridgov.config import Settings
from gridgov.db import Database
from gridgov.demo import loader
from gridgov.grid.demo import load_demo_grid
from tests.conftest import fresh_database

CASE_TABLES = (Attachment, CaseEvent, ExtensionRequest, CaseClock, CaseAssignment, CaseReporter, Case,
               CaseNumberSequence)
# A Tuesday, 10:00 in Beijing: inside working hours, far from holidays.
START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def world_database(request, tmp_path_factory, migrated_database) -> Iterator[Database]:
    with fresh_database(request, tmp_path_factory, migrated_database.dialect) as database:
        settings = Settings(database_url=database.url, password_hash_profile="fast-for-tests",
                            secret_key="test-secret-key")
        with database.write() as db:
            loader.load_demo_organisation(db)
        with database.write() as db:
            load_demo_grid(db, actor=SYSTEM_ACTOR)
        with database.write() as db:
            load_demo_catalog(db, actor=SYSTEM_ACTOR)
        with database.write() as db:
            load_demo_channels(db, actor=SYSTEM_ACTOR)
        with database.write() as db:
            loader.load_demo_accounts(db, settings=settings)
        yield database


@pytest.fixture
def world(world_database: Database) -> Iterator[Database]:
    yield world_database
    with world_database.engine.begin() as conn:
        for model in CASE_TABLES:
            conn.execute(delete(model))


class FrozenClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def frozen(monkeypatch) -> FrozenClock:
    frozen_clock = FrozenClock(START)
    monkeypatch.setattr(clock, "utcnow", frozen_clock)
    return frozen_clock


@pytest.fixture
def world_settings(world: Database, tmp_path) -> Settings:
    return Settings(database_url=world.url, data_dir=tmp_path, secret_key="test-secret-key",
                    password_hash_profile="fast-for-tests", log_json=False)


@pytest.fixture
def api(world: Database, world_settings: Settings, frozen: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(world_settings, world)) as client:
        yield client

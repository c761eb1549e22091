"""The case world (tests/cases/conftest.py), with this feature's tables emptied before the case tables."""

from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from gridgov.db import Database
from tests.cases.conftest import CASE_TABLES, api, frozen, world_database, world_settings  # noqa: F401
from tests.assessment.tables import FEATURE_TABLES


@pytest.fixture
def world(world_database: Database) -> Iterator[Database]:  # noqa: F811 - the imported fixture
    yield world_database
    with world_database.engine.begin() as conn:
        for model in (*FEATURE_TABLES, *CASE_TABLES):
            conn.execute(delete(model))

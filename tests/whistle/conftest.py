"""The Dongcheng world of the case tests, plus the 45 demo whistle situations and a second
department account; whistle tables are emptied after each test, before the case tables."""

from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.auth.policy import Role
from gridgov.auth.schemas import UserIn
from gridgov.config import Settings
from gridgov.db import Database
from gridgov.demo.loader import DEMO_PASSWORD
from gridgov.whistle import demo, situations
from gridgov.whistle.models import (
    Whistle, WhistleAttachment, WhistleClock, WhistleEvent, WhistleNumberSequence, WhistleSituation,
    WhistleSummons,
)
from tests.cases.conftest import api, frozen, world, world_database, world_settings  # noqa: F401

WHISTLE_TABLES = (WhistleAttachment, WhistleEvent, WhistleClock, WhistleSummons, Whistle, WhistleNumberSequence)
# Extra accounts: (username, role, unit code)
EXTRA_ACCOUNTS = (
    ("housing", Role.DEPARTMENT, "D011"),  # 房管局
    ("police", Role.DEPARTMENT, "D012"),  # 公安分局
    ("jgm_street", Role.STREET, "110101002-FZX"),  # 景山街道分中心
)


@pytest.fixture(scope="session")
def whistle_database(world_database: Database) -> Database:
    """The world with the demo situations and the extra accounts (loaded once)."""
    settings = Settings(database_url=world_database.url, password_hash_profile="fast-for-tests",
                        secret_key="test-secret-key")
    with world_database.write() as db:
        demo.load_demo_situations(db, actor=SYSTEM_ACTOR)
    with world_database.write() as db:
        existing = set(db.scalars(select(User.username)))
        for username, role, unit in EXTRA_ACCOUNTS:
            if username not in existing:
                auth.create_user(db, settings=settings, actor=SYSTEM_ACTOR, data=UserIn(
                    username=username, display_name=username, password=DEMO_PASSWORD, unit_code=unit,
                    roles=[role]))
        db.commit()
    return world_database


def _restore_demo_situations(database: Database) -> None:
    codes = {row["code"] for row in demo.demo_document()["situations"]}
    with database.engine.begin() as conn:
        conn.execute(delete(WhistleSituation).where(WhistleSituation.code.not_in(codes)))
    with database.write() as db:
        situations.import_situations(db, actor=SYSTEM_ACTOR, data=demo.demo_situations_input())


@pytest.fixture
def whistle_world(whistle_database: Database, world: Database) -> Iterator[Database]:
    """`world` with whistles: whistle tables are emptied after the test (before `world`
    empties the case tables they refer to) and the situations are the demo's again."""
    yield whistle_database
    with whistle_database.engine.begin() as conn:
        for model in WHISTLE_TABLES:
            conn.execute(delete(model))
    _restore_demo_situations(whistle_database)

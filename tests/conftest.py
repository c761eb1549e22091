"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL: a throw-away database per test session (and per xdist worker) on
127.0.0.1:5432 as user postgres (override with GRIDGOV_TEST_PG_URL). Without a server the
PostgreSQL tests skip, except under CI=true, where they fail.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gridgov import migrate
from gridgov.all_models import Base
from gridgov.app import create_app
from gridgov.config import Settings
from gridgov.db import Database

PG_SERVER_URL = os.environ.get("GRIDGOV_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_unavailable_reason() -> str | None:
    try:
        with psycopg.connect(PG_SERVER_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return f"PostgreSQL not reachable at {PG_SERVER_URL}: {exc}"


@pytest.fixture(scope="session")
def _pg_available() -> None:
    reason = _pg_unavailable_reason()
    if reason and IN_CI:
        pytest.fail(f"CI=true requires PostgreSQL: {reason}")
    if reason:
        pytest.skip(reason)


def _create_pg_database() -> tuple[str, str]:
    name = f"gridgov_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
    base, _, _ = PG_SERVER_URL.rpartition("/")
    return name, f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


def _drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(request: pytest.FixtureRequest, tmp_path_factory, backend: str) -> Iterator[Database]:
    """A new database of the backend with the schema at head, dropped afterwards."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "gridgov.sqlite3"
        database = Database(f"sqlite:///{path}")
        migrate.upgrade(database.engine)
        yield database
        database.dispose()
        return
    request.getfixturevalue("_pg_available")
    name, url = _create_pg_database()
    database = Database(url)
    try:
        migrate.upgrade(database.engine)
        yield database
    finally:
        database.dispose()
        _drop_pg_database(name)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_database(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Database]:
    """A database with the schema at head, one per backend for the whole session."""
    with fresh_database(request, tmp_path_factory, request.param) as database:
        yield database


def _empty_all_tables(database: Database) -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        for table in tables:
            conn.execute(text(f"DELETE FROM {table}"))
        if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first():
            conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture
def database(migrated_database: Database) -> Iterator[Database]:
    """The backend's database, emptied after each test."""
    yield migrated_database
    _empty_all_tables(migrated_database)


@pytest.fixture
def settings(database: Database, tmp_path) -> Settings:
    return Settings(database_url=database.url, data_dir=tmp_path, secret_key="test-secret-key",
                    password_hash_profile="fast-for-tests", log_json=False)


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client

"""FastAPI dependencies shared by every feature's router: settings and database sessions."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from gridgov.config import Settings
from gridgov.db import Database

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_session(request: Request) -> Iterator[Session]:
    """A read session for safe methods, a write session (serialised on SQLite) otherwise."""
    database: Database = request.app.state.database
    factory = database.read_sessions if request.method in SAFE_METHODS else database.write_sessions
    with factory() as session:
        request.state.db_session = session  # so that an error handler can roll it back first
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]

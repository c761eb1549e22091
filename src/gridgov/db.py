"""Database: the declarative base, engines for SQLite and PostgreSQL, and sessions.

SQLite runs in WAL mode with foreign keys on. Write sessions on SQLite begin with
`BEGIN IMMEDIATE` so concurrent writers queue on the database lock instead of failing when
they upgrade a read snapshot; PostgreSQL needs nothing special.
"""

import fcntl
import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, bindparam, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_IMMEDIATE = "gridgov_immediate"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
    _configure_sqlite(engine)
    return engine


class _WriteQueue:
    """Writers of one SQLite file queue here before `BEGIN IMMEDIATE`: the threads of a process
    on a lock, the processes on an advisory lock of a file beside the database. SQLite's own
    busy handler retries with growing sleeps (up to 100 ms) and no queue, so a writer of
    another process would sleep on long after the lock is free, or starve past its timeout;
    a queued writer is woken as soon as the lock is released."""

    def __init__(self, database: str | None):
        self._threads = threading.Lock()
        self._path = f"{database}.write-lock" if database and database != ":memory:" else None
        self._file: tuple[int, int] | None = None  # (pid, descriptor): a forked child opens its own

    def acquire(self) -> None:
        self._threads.acquire()
        try:
            if self._path:
                fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        if self._path:
            fcntl.flock(self._descriptor(), fcntl.LOCK_UN)
        self._threads.release()

    def _descriptor(self) -> int:
        if self._file is None or self._file[0] != os.getpid():
            self._file = (os.getpid(), os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600))
        return self._file[1]


_SQLITE_WRITE_QUEUES: dict[str, _WriteQueue] = {}
_HOLDS_LOCK = "gridgov_holds_write_lock"


def _configure_sqlite(engine: Engine) -> None:
    database = engine.url.database
    write_lock = _SQLITE_WRITE_QUEUES.setdefault(str(database), _WriteQueue(database))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not connection.get_execution_options().get(_IMMEDIATE, False):
            connection.exec_driver_sql("BEGIN")
            return
        write_lock.acquire()
        connection.info[_HOLDS_LOCK] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except Exception:
            _release(connection)
            raise

    def _release(connection: Any) -> None:
        if connection.info.pop(_HOLDS_LOCK, False):
            write_lock.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)


def next_in_year(db: Session, counter: type, year: int, count: int = 1) -> int:
    """Bump the year's counter of a (year, last) table by `count`, atomically on both backends,
    and return its new value: the numbers handed out are value - count + 1 … value."""
    statement = _bump_statement(counter, db.get_bind().dialect.name)
    return db.execute(statement, {"year": year, "count": count}).scalar_one()


@functools.cache
def _bump_statement(counter: type, dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    count = bindparam("count")
    return insert(counter).values(year=bindparam("year"), last=count).on_conflict_do_update(
        index_elements=[counter.year], set_={"last": counter.last + count}
    ).returning(counter.last)


class Database:
    """One engine and its two session factories: read (plain) and write (serialised on SQLite)."""

    def __init__(self, url: str, **engine_kwargs: Any):
        self.url = url
        self.engine = create_db_engine(url, **engine_kwargs)
        self.read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(
            self.engine.execution_options(**{_IMMEDIATE: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self.write_sessions() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.read_sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

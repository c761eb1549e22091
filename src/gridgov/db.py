"""Database: the declarative base, engines for SQLite and PostgreSQL, and sessions.

SQLite runs in WAL mode with foreign keys on. Write sessions on SQLite begin with
`BEGIN IMMEDIATE` so concurrent writers queue on the database lock instead of failing when
they upgrade a read snapshot; PostgreSQL needs nothing special.
"""

import fcntl
import functools
import os
import select as select_module
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg.types.array import ListBinaryDumper
from sqlalchemy import (
    ARRAY, Connection, CursorResult, DateTime, Engine, MetaData, Row, Table, bindparam, create_engine, event, func,
    insert, inspect, select, union_all, update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, InstanceState, Session, sessionmaker
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
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        _configure_postgresql(engine)
        return engine
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
    _configure_sqlite(engine)
    return engine


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Lists (the arrays of ParameterRows and insert_rows) in PostgreSQL's binary format:
        # psycopg's default text format quotes and escapes every element with regular
        # expressions, which cost more than the rest of a batch's insert.
        dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


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


class ParameterRows:
    """A table of rows given to a statement as its parameters, to join against: many keys
    looked up, or many probes searched for, with one query.

    On PostgreSQL the rows are one array per column, unnested: one statement text for any
    number of rows, which the driver prepares once and the server plans once (a list of
    `IN (…)` values is a new statement for every length). Elsewhere they are rows of bound
    parameters, padded with rows of NULLs, which match nothing, to a power of two, so that a
    few statement texts serve every number of rows. A statement is built per `size(…)`, and
    executed with `parameters(…)` of the same size."""

    def __init__(self, name: str, columns: dict[str, Any]):
        self.name = name
        self.columns = columns

    @staticmethod
    def size(dialect: str, count: int) -> int:
        """The statement variant for `count` rows (every count shares one on PostgreSQL)."""
        return 0 if dialect == "postgresql" else 1 << max(count - 1, 0).bit_length()

    def table(self, dialect: str, size: int) -> Any:
        """The rows as a table with the columns' names, in a statement of that size."""
        if dialect == "postgresql":
            arrays = (bindparam(name, type_=ARRAY(type_)) for name, type_ in self.columns.items())
            return func.unnest(*arrays).table_valued(*self.columns, name=self.name).render_derived()
        rows = (select(*(bindparam(f"{name}_{index}", type_=type_).label(name) for name, type_ in self.columns.items()))
                for index in range(size))
        return union_all(*rows).cte(self.name)

    def parameters(self, dialect: str, rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
        """The statement's parameters for these rows (each a value per column, in order)."""
        if dialect == "postgresql":
            return {name: [row[index] for row in rows] for index, name in enumerate(self.columns)}
        padded = [*rows, *[(None,) * len(self.columns)] * (self.size(dialect, len(rows)) - len(rows))]
        return {f"{name}_{index}": value for index, row in enumerate(padded)
                for name, value in zip(self.columns, row, strict=True)}


def rows_matching(db: Session, columns: Sequence[Any], key: Any, values: Collection[Any]) -> Sequence[Row]:
    """The rows of `columns` (of `key`'s table) whose `key` is one of `values`, in no order:
    `key IN values` as a join against the values given as `ParameterRows`."""
    if not values:
        return []
    dialect = db.get_bind().dialect.name
    query = _matching(tuple(columns), key, ParameterRows.size(dialect, len(values)), dialect)
    return db.execute(query, _key_rows(key).parameters(dialect, [(value,) for value in values])).all()


@functools.cache
def _key_rows(key: Any) -> ParameterRows:
    return ParameterRows("keys", {"key": key.type})


@functools.cache
def _matching(columns: tuple[Any, ...], key: Any, size: int, dialect: str) -> Any:
    keys = _key_rows(key).table(dialect, size)
    return select(*columns).join_from(keys, key.expression.table, key == keys.c.key)


def database_key(db: Session) -> str:
    """Which database a session is on (its URL without the password), for what a process
    caches of it; the same whether the session is bound to the engine or to a connection."""
    return db.get_bind().engine.url.render_as_string(hide_password=True)


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *,
                returning: Sequence[str] = ()) -> CursorResult | None:
    """Insert many rows, all naming the same columns, with one statement, and give back the
    `returning` columns of the new rows (in no promised order) when asked for.

    PostgreSQL gets one array per column, unnested (`INSERT … SELECT FROM unnest(…)`): one
    statement text whatever the number of rows, so the driver converts it once and the server
    plans it once; a multi-row VALUES list is a new, long statement for every number of rows,
    which psycopg re-parses for its placeholders and PostgreSQL re-plans on every batch.
    SQLite (in-process, no parsing to save) gets an executemany, or SQLAlchemy's multi-row
    VALUES batches when `returning` is asked for. Defaults of the columns the rows leave out
    are taken once for the statement."""
    if not rows:
        return None
    columns = tuple(rows[0])
    if conn.dialect.name == "postgresql":
        statement = _unnest_insert(table, columns, tuple(returning))
        result = conn.execute(statement, {column: [row[column] for row in rows] for column in columns})
    else:
        statement = insert(table).returning(*(table.c[column] for column in returning)) if returning else insert(table)
        result = conn.execute(statement, list(rows))
    return result if returning else None


@functools.cache
def _unnest_insert(table: Table, columns: tuple[str, ...], returning: tuple[str, ...]) -> Any:
    rows = ParameterRows("rows", {column: table.c[column].type for column in columns}).table("postgresql", 0)
    statement = insert(table).from_select(list(columns), select(*rows.c))
    return statement.returning(*(table.c[column] for column in returning)) if returning else statement


def update_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, key: str) -> None:
    """Update many rows, each found by its `key` and all setting the same columns, with one
    statement: on PostgreSQL `UPDATE … FROM unnest(…)` (one statement text for any number of
    rows, as in `insert_rows`), on SQLite an executemany."""
    if not rows:
        return
    columns = tuple(rows[0])
    statement = _update_statement(table, columns, key, conn.dialect.name)
    if conn.dialect.name == "postgresql":
        conn.execute(statement, {f"new_{column}": [row[column] for row in rows] for column in columns})
    else:
        conn.execute(statement, [{f"new_{column}": value for column, value in row.items()} for row in rows])


@functools.cache
def _update_statement(table: Table, columns: tuple[str, ...], key: str, dialect: str) -> Any:
    assigned = [column for column in columns if column != key]
    if dialect == "postgresql":
        rows = ParameterRows("rows", {f"new_{column}": table.c[column].type for column in columns}).table(dialect, 0)
        return update(table).values({column: rows.c[f"new_{column}"] for column in assigned}).where(
            table.c[key] == rows.c[f"new_{key}"])
    return update(table).values({column: bindparam(f"new_{column}") for column in assigned}).where(
        table.c[key] == bindparam(f"new_{key}"))


def flush_in_bulk(db: Session) -> None:
    """Flush the session, its changed rows written in bulk: one `update_rows` per table and set
    of changed columns, in place of the unit of work's per-row UPDATEs and bookkeeping (several
    times the statements' own cost on a batch of cases). What else is pending — new rows,
    deletions, an entity whose changes are not only its own columns (a relationship, its key)
    or whose table has a version counter or update defaults — is flushed by the unit of work.
    Mapper update events do not fire for the rows written in bulk."""
    groups: dict[tuple[Table, str, tuple[str, ...]], list[tuple[Any, dict[str, Any]]]] = {}
    for entity in db.dirty:
        state = inspect(entity)
        table, key, columns = _plain_columns(state.mapper)
        if key is None or not state.committed_state or not columns.keys() >= state.committed_state.keys():
            continue
        changed = tuple(sorted(state.committed_state))
        groups.setdefault((table, key, changed), []).append(
            (state, {key: state.identity[0]} | {columns[k]: state.dict[k] for k in changed}))
    for (table, key, _), changes in groups.items():
        update_rows(db.connection(), table, [row for _, row in changes], key=key)
        # What a flush does to the entities it has written: their values are now the stored ones.
        # (Private to SQLAlchemy; tests/test_db.py checks that a flush after it writes nothing.)
        InstanceState._commit_all_states([(state, state.dict) for state, _ in changes], db.identity_map)
    db.flush()


@functools.cache
def _plain_columns(mapper: Any) -> tuple[Table, str | None, dict[str, str]]:
    """A mapped class's table, its key column — None unless the rows are plain to update: a
    single key column, no version counter, no update defaults — and, by attribute, the
    columns that may be written as they are (all of the table's but the key)."""
    table = mapper.local_table
    plain = (len(mapper.primary_key) == 1 and mapper.version_id_col is None
             and all(column.onupdate is None and column.server_onupdate is None for column in table.columns))
    key = mapper.primary_key[0].name if plain else None
    columns = {prop.key: prop.columns[0] for prop in mapper.column_attrs if len(prop.columns) == 1}
    return table, key, {name: column.name for name, column in columns.items()
                        if column.table is table and not column.primary_key}


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


class HeldSessions:
    """Read and write sessions, like a Database's, on two connections held for as long as a
    long-lived worker runs (the intake writer, which opens several sessions for each batch):
    no pool checkout, ping and reset for each session. On PostgreSQL the read connection runs
    in autocommit: under READ COMMITTED every statement sees its own snapshot anyway, so a
    read-only transaction would only add its BEGIN and ROLLBACK round trips.

    A session that ends in an exception gives its connection back (it may be broken); the next
    session checks out a fresh one. `close()` gives both back."""

    def __init__(self, database: Database):
        self._database = database
        self._connections: dict[str, Connection] = {}

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._session("read") as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._session("write") as session:
            yield session

    @contextmanager
    def _session(self, purpose: str) -> Iterator[Session]:
        connection = self._connections.get(purpose)
        if connection is not None and not _still_open(connection):
            stale = self._connections.pop(purpose)
            stale.invalidate()
            stale.close()
            connection = None
        connection = connection or self._connect(purpose)
        try:
            with Session(bind=connection, expire_on_commit=False) as session:
                yield session
        except BaseException:
            self._connections.pop(purpose).close()
            raise

    def _connect(self, purpose: str) -> Connection:
        connection = self._database.engine.connect()
        if purpose == "write":
            connection.execution_options(**{_IMMEDIATE: True})
        elif self._database.dialect == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        self._connections[purpose] = connection
        return connection

    def close(self) -> None:
        while self._connections:
            self._connections.popitem()[1].close()

    def __enter__(self) -> "HeldSessions":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _still_open(connection: Connection) -> bool:
    """Whether a held connection may be used, known without a round trip: an idle PostgreSQL
    connection has nothing to read unless the server has ended it (a restart, a terminated
    backend, an idle timeout send their notice, then close the socket)."""
    if connection.invalidated or connection.closed:
        return False
    if connection.dialect.name != "postgresql":
        return True
    driver = connection.connection.driver_connection
    return not driver.closed and not select_module.select([driver.fileno()], [], [], 0)[0]

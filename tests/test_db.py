"""SQLite writers queue for the database lock: the threads of a process and the processes.
The bulk statements (`insert_rows`, `rows_matching`, `flush_in_bulk`) and the held sessions
of a long-lived worker, on both backends."""

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, event, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gridgov.db import Database, HeldSessions, UTCDateTime, flush_in_bulk, insert_rows, rows_matching


@pytest.fixture
def sqlite_file(tmp_path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'gridgov.sqlite3'}")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    yield database
    database.dispose()


def _queue_is_free(database: Database) -> bool:
    """Whether another process could take the write queue now (its own open of the lock file)."""
    descriptor = os.open(f"{database.engine.url.database}.write-lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
    return True


def test_a_sqlite_write_session_holds_the_queue_of_every_process_until_it_commits(sqlite_file):
    with sqlite_file.write() as db:
        db.execute(text("INSERT INTO notes (body) VALUES ('一')"))
        assert not _queue_is_free(sqlite_file)
        db.commit()
        assert _queue_is_free(sqlite_file)


def test_a_sqlite_write_session_that_fails_leaves_the_queue_free(sqlite_file):
    with pytest.raises(Exception, match="no such table"), sqlite_file.write() as db:
        db.execute(text("INSERT INTO missing (body) VALUES ('一')"))
    assert _queue_is_free(sqlite_file)


def test_a_sqlite_read_session_does_not_take_the_queue(sqlite_file):
    with sqlite_file.read() as db:
        db.execute(text("SELECT count(*) FROM notes")).scalar_one()
        assert _queue_is_free(sqlite_file)


_scratch = Table("scratch_rows", MetaData(), Column("id", Integer, primary_key=True, autoincrement=True),
                 Column("name", String(40), nullable=False), Column("rank", Integer),
                 Column("seen_at", UTCDateTime()))


@pytest.fixture
def scratch(database: Database) -> Table:
    _scratch.create(database.engine)
    yield _scratch
    _scratch.drop(database.engine)


def _rows(count: int) -> list[dict]:
    return [{"name": f"第{i}行", "rank": i if i % 2 else None, "seen_at": datetime(2026, 12, 3, 8, i, tzinfo=UTC)}
            for i in range(count)]


def test_insert_rows_writes_every_row_and_gives_back_the_ids_asked_for(database, scratch):
    with database.engine.begin() as conn:
        ids = dict(insert_rows(conn, scratch, _rows(5), returning=("name", "id")).all())
    with database.engine.connect() as conn:
        stored = {row.id: row for row in conn.execute(select(scratch))}
    assert sorted(ids.values()) == sorted(stored) and len(stored) == 5
    for name, row_id in ids.items():
        assert stored[row_id].name == name
    assert sorted((r.name, r.rank, r.seen_at) for r in stored.values()) == sorted(
        (r["name"], r["rank"], r["seen_at"]) for r in _rows(5))


def test_insert_rows_without_returning_gives_nothing_back_and_of_no_rows_writes_nothing(database, scratch):
    with database.engine.begin() as conn:
        assert insert_rows(conn, scratch, _rows(3)) is None
        assert insert_rows(conn, scratch, [], returning=("id",)) is None
        assert len(conn.execute(select(scratch.c.id)).all()) == 3


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 9])
def test_rows_matching_finds_each_key_given_whatever_their_number(database, scratch, count):
    with database.engine.begin() as conn:
        insert_rows(conn, scratch, _rows(10))
    with database.read() as db:
        wanted = {f"第{i}行" for i in range(count)} | {"不存在"}
        found = rows_matching(db, (scratch.c.name, scratch.c.rank), scratch.c.name, wanted)
        assert sorted(name for name, _ in found) == sorted(wanted - {"不存在"})
        assert rows_matching(db, (scratch.c.name,), scratch.c.name, set()) == []


class _Scratch(DeclarativeBase):
    pass


class _Note(_Scratch):
    __tablename__ = "scratch_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    rank: Mapped[int | None]
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    marks: Mapped[list["_Mark"]] = relationship()


class _Mark(_Scratch):
    __tablename__ = "scratch_marks"
    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("scratch_notes.id"))
    label: Mapped[str] = mapped_column(String(40))
    edits: Mapped[int] = mapped_column(default=0, onupdate=1)


@pytest.fixture
def notes(database: Database) -> Database:
    _Scratch.metadata.create_all(database.engine)
    with database.write() as db:
        db.add_all([_Note(id=i, name=f"第{i}条", rank=i) for i in range(1, 7)])
        db.add(_Mark(id=1, note_id=1, label="旧"))
        db.commit()
    yield database
    _Scratch.metadata.drop_all(database.engine)


@contextmanager
def _updates(database: Database) -> Iterator[list[str]]:
    """The UPDATE statements the database is sent meanwhile (an executemany counts once)."""
    sent: list[str] = []

    def listen(conn, cursor, statement: str, *_) -> None:
        if statement.startswith("UPDATE"):
            sent.append(statement)

    event.listen(database.engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        event.remove(database.engine, "before_cursor_execute", listen)


@contextmanager
def _updated_by_the_unit_of_work(model: type) -> Iterator[list]:
    """The entities of `model` the unit of work updates meanwhile."""
    updated: list = []

    def listen(mapper, conn, entity) -> None:
        updated.append(entity)

    event.listen(model, "before_update", listen)
    try:
        yield updated
    finally:
        event.remove(model, "before_update", listen)


def test_flush_in_bulk_writes_a_statement_per_table_and_set_of_columns_and_leaves_nothing_to_flush(notes):
    seen = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    with notes.write() as db:
        loaded = {note.id: note for note in db.scalars(select(_Note))}
        for i in (1, 2, 3):
            loaded[i].name = f"改{i}"
        for i in (4, 5):
            loaded[i].rank, loaded[i].seen_at = None, seen
        with _updates(notes) as sent, _updated_by_the_unit_of_work(_Note) as by_unit_of_work:
            flush_in_bulk(db)
            assert len(sent) == 2 and not db.dirty and not by_unit_of_work
            db.flush()
            assert len(sent) == 2  # nothing was left to write
        db.commit()
    with notes.read() as db:
        stored = {n.id: (n.name, n.rank, n.seen_at) for n in db.scalars(select(_Note))}
    assert stored == {1: ("改1", 1, None), 2: ("改2", 2, None), 3: ("改3", 3, None),
                      4: ("第4条", None, seen), 5: ("第5条", None, seen), 6: ("第6条", 6, None)}


def test_flush_in_bulk_leaves_relationships_new_rows_and_update_defaults_to_the_unit_of_work(notes):
    with notes.write() as db:
        first, second = db.get(_Note, 1), db.get(_Note, 2)
        first.name = "改名并添标记"
        first.marks.append(_Mark(id=2, label="新"))
        second.name = "只改名"
        db.get(_Mark, 1).label = "改"
        with _updated_by_the_unit_of_work(_Note) as notes_by_unit_of_work, \
                _updated_by_the_unit_of_work(_Mark) as marks_by_unit_of_work:
            flush_in_bulk(db)
        assert notes_by_unit_of_work == [first] and marks_by_unit_of_work == [db.get(_Mark, 1)]
        db.commit()
    with notes.read() as db:
        assert [(n.name, sorted(m.label for m in n.marks)) for n in db.scalars(select(_Note).order_by(_Note.id))][:2] \
            == [("改名并添标记", ["改", "新"]), ("只改名", [])]
        assert db.get(_Mark, 1).label == "改" and db.get(_Mark, 1).edits == 1  # its update default applied


def test_held_sessions_reuse_their_connections_and_see_what_was_committed(database, scratch):
    with HeldSessions(database) as sessions:
        with sessions.write() as db:
            first_write = db.connection()
            insert_rows(db.connection(), scratch, _rows(2))
            db.commit()
        with sessions.read() as db:
            first_read = db.connection()
            assert db.scalar(select(text("count(*)")).select_from(scratch)) == 2
        with sessions.write() as db, sessions.read() as reader:
            assert db.connection() is first_write and reader.connection() is first_read
            insert_rows(db.connection(), scratch, _rows(1))
            assert reader.scalar(select(text("count(*)")).select_from(scratch)) == 2  # not yet committed
            db.commit()
        with sessions.read() as db:
            assert db.connection() is first_read
            assert db.scalar(select(text("count(*)")).select_from(scratch)) == 3


def test_a_held_session_that_fails_rolls_back_and_the_next_one_gets_a_fresh_connection(database, scratch):
    with HeldSessions(database) as sessions:
        with pytest.raises(ZeroDivisionError), sessions.write() as db:
            failed = db.connection()
            insert_rows(db.connection(), scratch, _rows(2))
            1 / 0
        with sessions.write() as db:
            assert db.connection() is not failed
            assert db.scalar(select(text("count(*)")).select_from(scratch)) == 0
            insert_rows(db.connection(), scratch, _rows(1))
            db.commit()
    with database.read() as db:
        assert db.scalar(select(text("count(*)")).select_from(scratch)) == 1


def test_a_held_connection_the_server_has_ended_is_replaced_before_it_is_used(database, scratch):
    if database.dialect != "postgresql":
        pytest.skip("a SQLite file has no server to end a connection")
    with HeldSessions(database) as sessions:
        for purpose in ("read", "write"):
            with getattr(sessions, purpose)() as db:
                ended = db.connection()
                backend = db.scalar(select(text("pg_backend_pid()")))
            with database.engine.connect() as admin:
                assert admin.scalar(select(text(f"pg_terminate_backend({backend})"))) is True
            time.sleep(0.05)  # the server's notice reaches the socket
            with getattr(sessions, purpose)() as db:
                assert db.connection() is not ended
                assert db.scalar(select(text("count(*)")).select_from(scratch)) == 0

"""SQLite writers queue for the database lock: the threads of a process and the processes."""

import fcntl
import os

import pytest
from sqlalchemy import text

from gridgov.db import Database


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

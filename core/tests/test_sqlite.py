"""The embedded default's SQLite backend: writers wait their turn for the write lock
instead of failing at once, and a real outage still fails (core.sqlite)."""

import sqlite3
import threading
import time

import pytest
from django.db import OperationalError
from django.db.backends.sqlite3.base import DatabaseWrapper as PlainSQLite

from core.errors import is_outage
from core.sqlite.base import DatabaseWrapper


@pytest.fixture(autouse=True)
def _own_databases(django_db_blocker):
    """These tests open their own files, not the test database."""
    with django_db_blocker.unblock():
        yield


def _wrapper(cls, path, **options):
    settings = {
        "NAME": str(path), "ENGINE": "core.sqlite", "OPTIONS": options, "TIME_ZONE": None,
        "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False,
        "USER": "", "PASSWORD": "", "HOST": "", "PORT": "", "TEST": {},
    }  # fmt: skip
    return cls(settings)


def _read_then_write_while_another_commits(cls, path):
    """Open a transaction, read, let another connection commit a write, then write."""
    db = _wrapper(cls, path, init_command="PRAGMA journal_mode=WAL", timeout=20)
    db.connect()
    with db.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    other = sqlite3.connect(path, timeout=20, isolation_level=None, check_same_thread=False)
    started = time.monotonic()
    # What atomic() does on SQLite: BEGIN (Django's default) or BEGIN IMMEDIATE (ours).
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)

    def commit_elsewhere():
        other.execute("INSERT INTO t VALUES (2)")

    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM t")
            writer = threading.Thread(target=commit_elsewhere)
            writer.start()
            time.sleep(0.3)
            cursor.execute("INSERT INTO t VALUES (1)")
        db.commit()
        writer.join()
        return time.monotonic() - started, None
    except OperationalError as exc:
        return time.monotonic() - started, exc
    finally:
        db.close()
        other.close()


def test_a_plain_deferred_transaction_fails_at_once_where_ours_waits(tmp_path):
    # Django's own backend in WAL mode without transaction_mode (what DATABASE_URL=sqlite://
    # gave): the upgrade fails at once.
    elapsed, error = _read_then_write_while_another_commits(PlainSQLite, tmp_path / "plain.db")
    assert error is not None and "locked" in str(error)
    assert elapsed < 5  # not the 20 s busy timeout: the busy handler is never consulted
    # Ours holds the write lock from BEGIN: the other writer waits for our commit instead.
    _elapsed, error = _read_then_write_while_another_commits(DatabaseWrapper, tmp_path / "ours.db")
    assert error is None
    check = sqlite3.connect(tmp_path / "ours.db")
    assert check.execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_every_connection_is_wal_with_a_busy_timeout_whatever_the_options(tmp_path):
    db = _wrapper(DatabaseWrapper, tmp_path / "db.sqlite3")  # as DATABASE_URL=sqlite:/// gives
    db.connect()
    with db.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert cursor.execute("PRAGMA busy_timeout").fetchone() == (20000,)
    assert db.transaction_mode == "IMMEDIATE"
    db.close()
    with pytest.raises(ValueError):
        _wrapper(DatabaseWrapper, tmp_path / "x.db", transaction_mode="DEFERRED").connect()


def test_an_unwritable_database_is_still_an_outage(tmp_path):
    path = tmp_path / "db.sqlite3"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.close()
    db = _wrapper(DatabaseWrapper, f"file:{path}?mode=ro", uri=True)
    db.connect()
    with pytest.raises(OperationalError) as caught, db.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    assert "readonly" in str(caught.value)
    assert is_outage(caught.value)  # answered 503 service_unavailable (core.errors)
    db.close()

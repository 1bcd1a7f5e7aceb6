"""The pooled PostgreSQL backend lends a connection returned moments ago without a round
trip, and checks every other one (real PostgreSQL, real server-side disconnects)."""

import time

import psycopg
import pytest
from django.db import connection
from django.db.utils import ConnectionHandler

from config.postgresql import base as pooled

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def _kill(backend_pid: int) -> None:
    """End a backend from another session, as a server restart would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
    time.sleep(0.05)  # the backend exits asynchronously


@pytest.fixture
def raw_connection():
    params = connection.get_connection_params()
    conn = psycopg.connect(**params, autocommit=True)
    yield conn
    conn.close()


def test_a_connection_never_returned_is_checked(raw_connection):
    pooled.check_unless_just_returned(raw_connection)  # alive: passes
    _kill(raw_connection.info.backend_pid)
    with pytest.raises(psycopg.OperationalError):
        pooled.check_unless_just_returned(raw_connection)


def test_a_connection_returned_within_the_window_is_lent_unchecked(raw_connection):
    _kill(raw_connection.info.backend_pid)
    raw_connection._parley_returned_at = time.monotonic()
    pooled.check_unless_just_returned(raw_connection)  # the documented trade-off


def test_a_connection_returned_before_the_window_is_checked(raw_connection):
    _kill(raw_connection.info.backend_pid)
    raw_connection._parley_returned_at = time.monotonic() - pooled.ALIVE_BYPASS_SECONDS - 0.01
    with pytest.raises(psycopg.OperationalError):
        pooled.check_unless_just_returned(raw_connection)


@pytest.fixture
def pooled_alias():
    """A second alias on the test database through the pooled backend, as production
    configures it (``use_connection_pool``)."""
    settings_dict = {
        **connection.settings_dict,
        "ENGINE": "config.postgresql",
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {**connection.settings_dict["OPTIONS"], "pool": {"min_size": 1}},
    }
    handler = ConnectionHandler({"default": settings_dict})
    wrapper = handler["default"]
    yield wrapper
    wrapper.close()
    wrapper.close_pool()


def test_the_pool_reuses_a_just_returned_connection_and_replaces_a_dead_idle_one(pooled_alias):
    wrapper = pooled_alias
    wrapper.ensure_connection()
    first = wrapper.connection
    assert wrapper.pool._check is pooled.check_unless_just_returned
    wrapper.close()  # back to the pool, stamped
    assert time.monotonic() - first._parley_returned_at < 1

    wrapper.ensure_connection()
    assert wrapper.connection is first  # lent again at once
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
    wrapper.close()

    # Idle past the window and killed meanwhile: the check finds it dead and the pool
    # lends a working connection instead.
    first._parley_returned_at -= pooled.ALIVE_BYPASS_SECONDS + 0.01
    _kill(first.info.backend_pid)
    wrapper.ensure_connection()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert wrapper.connection is not first

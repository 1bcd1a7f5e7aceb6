"""Project-wide pytest setup.

``REQUIRE_SERVICES=1`` (set by .ci/run) turns a missing or unreachable PostgreSQL
or Redis into an immediate failure instead of a silent fall back to SQLite and
in-memory layers.
"""

import os
import socket
from urllib.parse import urlparse

import pytest


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def pytest_configure(config):
    if os.environ.get("REQUIRE_SERVICES") != "1":
        return
    problems = []
    for var, port in (("DATABASE_URL", 5432), ("REDIS_URL", 6379)):
        url = os.environ.get(var, "")
        if not url:
            problems.append(f"{var} is not set")
        elif not _reachable(url, port):
            problems.append(f"{var}={url} is unreachable")
    if problems:
        raise pytest.UsageError("REQUIRE_SERVICES=1 but " + "; ".join(problems))


@pytest.fixture
def rates(monkeypatch):
    """Override throttle rates, e.g. ``rates(bookings="3/min")`` (DRF reads them into a
    class attribute at import time)."""
    from rest_framework.throttling import SimpleRateThrottle

    def override(**new_rates):
        merged = {**SimpleRateThrottle.THROTTLE_RATES, **new_rates}
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", merged)

    return override


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Throttle counters and tickets must not leak between tests (only our prefix)."""
    from django.core.cache import cache

    _clear_prefixed(cache)
    yield
    _clear_prefixed(cache)


def _clear_prefixed(cache) -> None:
    from django.conf import settings

    if not settings.REDIS_URL:
        cache.clear()
        return
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:*", count=500):
        client.delete(key)


@pytest.fixture(scope="session", autouse=True)
def _close_stray_db_connections(django_db_setup, django_db_blocker):
    """Connections opened by worker threads (``database_sync_to_async``, server threads)
    would keep PostgreSQL from dropping the test database at the end: end them first."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

"""The app's PostgreSQL sessions plan no parallel workers, compile no JIT code and wait
at most ``DB_LOCK_TIMEOUT_MS`` for a lock, all set when they connect
(config.settings.services.postgres_session_settings; docs/benchmarks.md)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL session settings")
def test_sessions_run_without_jit_or_parallel_workers_and_with_a_lock_timeout(settings):
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
        cursor.execute("SELECT setting, unit FROM pg_settings WHERE name = 'lock_timeout'")
        assert cursor.fetchone() == (str(settings.DB_LOCK_TIMEOUT_MS), "ms")

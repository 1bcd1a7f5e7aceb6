"""Schema-driven fuzzing of the whole HTTP API on a live server (schemathesis).

A real daphne process (PostgreSQL and Redis when the run has them, else the embedded
SQLite default) with seeded data: a guest and a host log in through the API and every
operation of ``/api/schema/`` is exercised as each of them (examples, coverage, fuzzing,
stateful phases). No 5xx, and every response matches the schema: status code, content
type, headers, body. Bounded here (``FUZZ_MAX_EXAMPLES``, default 12 per operation);
``make fuzz`` runs the same with more examples. Figures: docs/robustness.md.
"""

import os

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests import fuzz_runner
from tests.live_server import embedded_env, free_port, manage, running_server, services_env

# With PostgreSQL the server shares the test database, which is flushed afterwards.
pytestmark = pytest.mark.django_db(transaction=True)

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
# The coverage phase (every boundary of every parameter, ~5,000 cases a user) is for
# `make fuzz`; the bounded run fuzzes and chains operations.
PHASES = os.environ.get("FUZZ_PHASES", "examples,fuzzing,stateful")
SEED = os.environ.get("FUZZ_SEED")


def _uses_services() -> bool:
    return connection.vendor == "postgresql" and bool(settings.REDIS_URL)


@pytest.fixture
def server_env(tmp_path):
    if not _uses_services():
        env = {**embedded_env(tmp_path), **fuzz_runner.UNTHROTTLED}
        manage("migrate", "--noinput", env=env)
        yield env
        return
    prefix = settings.REDIS_KEY_PREFIX + "-fuzz"
    yield services_env(
        settings=settings,
        connection=connection,
        REDIS_KEY_PREFIX=prefix,
        MEDIA_ROOT=str(tmp_path / "media"),
        PRIVATE_MEDIA_ROOT=str(tmp_path / "private"),
        **fuzz_runner.UNTHROTTLED,
    )
    client = redis.Redis.from_url(settings.REDIS_URL)  # the server's cache keys
    for key in client.scan_iter(match=f"{prefix}:*", count=500):
        client.delete(key)


def test_every_operation_as_guest_and_host_gives_no_5xx_and_matches_the_schema(
    server_env, tmp_path
):
    seeded = fuzz_runner.seed(server_env)
    results = []
    with running_server(server_env, port=free_port(), log_path=tmp_path / "server.log") as base:
        for user in ("guest", "host"):
            results.append(
                fuzz_runner.run(
                    base,
                    seeded,
                    user=user,
                    report_dir=tmp_path / f"report-{user}",
                    max_examples=MAX_EXAMPLES,
                    phases=PHASES,
                    seed_value=int(SEED) if SEED else None,
                )
            )
    report = fuzz_runner.describe(results)
    print(report)
    assert all(r.operations == results[0].operations > 60 for r in results), report
    assert all(r.requests > 0 for r in results), report
    assert not [f for r in results for f in r.failures], report
    assert not [e for r in results for e in r.errors], report
    assert not any(status >= 500 for r in results for status in r.statuses), report

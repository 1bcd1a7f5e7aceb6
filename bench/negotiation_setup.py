"""The negotiation benchmarks' environment and data (``bench/negotiation.py``,
``bench/negotiation_idle.py``): the bench database and Redis under a prefix of the run's own,
Django set up in this process, hosts, properties, guests and open negotiations created in
bulk, access tokens, and an in-process probe of one chat action's database work."""

import os
import random
import sys
import time
from urllib.parse import urlsplit

from bench.common import log
from bench.measure import percentile

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/parley_bench_nego"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Fixed, so this process and the servers it starts agree (JWTs are signed with it).
SECRET_KEY = "parley-bench-negotiation-not-a-secret-0123456789abcdef0123456789abcdef"  # noqa: S105
REFUSED_DATABASES = {"test", "postgres", "template0", "template1"}
# Variables of the calling shell that would point the bench somewhere else.
SCRUBBED = {
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "CELERY_BROKER_URL",
    "JWT_SIGNING_KEY",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "CELERY_TASK_DEFAULT_QUEUE",
    "LOG_LEVEL",
}


def bench_env(tag: str) -> dict[str, str]:
    database_url = os.environ.get("NEGO_BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"the benchmark needs PostgreSQL, got {database_url!r}")
    name = urlsplit(database_url).path.lstrip("/")
    if name in REFUSED_DATABASES:
        sys.exit(f"refusing to benchmark in the database {name!r}: use a database of its own")
    prefix = f"parley-bench-{tag}-{os.getpid()}-{random.randrange(16**6):06x}"
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("NEGO_BENCH_REDIS_URL") or DEFAULT_REDIS_URL,
        "REDIS_KEY_PREFIX": prefix,
        # Offer notifications queue an email task: keep them off any running worker's queue.
        "CELERY_TASK_DEFAULT_QUEUE": f"{prefix}-celery",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "LOG_FORMAT": "json",
    }


def child_env(env: dict[str, str], settings_module: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    return {**base, **env, "DJANGO_SETTINGS_MODULE": settings_module}


def setup_django(env: dict[str, str]) -> None:
    """This process: local settings (DEBUG off) on the bench database and Redis."""
    for key in SCRUBBED:
        os.environ.pop(key, None)
    os.environ.update(child_env(env, "config.settings.local"))
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    log("migrate")
    call_command("migrate", interactive=False, verbosity=0)


def empty_database() -> None:
    from django.db import connection

    from accounts.models import User

    with connection.cursor() as cursor:  # the bench database only (checked in bench_env)
        cursor.execute(f'TRUNCATE "{User._meta.db_table}" CASCADE')


def cleanup_redis(env: dict[str, str]) -> int:
    """Delete the run's keys: cache entries, channel-layer keys, the Celery queue."""
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    prefix = env["REDIS_KEY_PREFIX"]
    queue = env["CELERY_TASK_DEFAULT_QUEUE"]
    keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
    keys += [k for k in (queue, f"_kombu.binding.{queue}") if client.exists(k)]
    if keys:
        client.delete(*keys)
    client.close()
    return len(keys)


def issue_tokens(users) -> dict[int, str]:
    from rest_framework_simplejwt.tokens import AccessToken

    return {user.pk: str(AccessToken.for_user(user)) for user in users}


def create_users(prefix: str, count: int, *, hosts: bool):
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import User

    now = timezone.now()
    unusable = make_password(None)  # no hashing: the sockets authenticate with tokens
    return User.objects.bulk_create(
        User(
            email=f"{prefix}{i}@bench.example",
            first_name="Hana" if hosts else "Gabriel",
            is_host=hosts,
            became_host_at=now if hosts else None,
            email_verified_at=now,
            password=unusable,
        )
        for i in range(count)
    )


def create_properties(hosts) -> list:
    from decimal import Decimal

    from django.utils import timezone

    from properties.models import Property, StayType

    now = timezone.now()
    props = Property.objects.bulk_create(
        Property(
            host=host,
            status="published",
            title=f"Sunny flat {i}",
            description="A bright flat near the old town, with a balcony and fast Wi-Fi.",
            address="1 Harbour Street",
            city="Lisbon",
            country="PT",
            latitude=Decimal("38.722252"),
            longitude=Decimal("-9.139337"),
            timezone="Europe/Lisbon",
            max_guests=4,
            currency="EUR",
            cleaning_fee=Decimal("30.00"),
            base_nightly_price=Decimal("100.00"),
            accepts_offers=True,  # no floor, no auto-accept: offers never end a negotiation
            published_at=now,
        )
        for i, host in enumerate(hosts)
    )
    StayType.objects.bulk_create(
        StayType(property=p, kind="standard", nightly_price=Decimal("100.00")) for p in props
    )
    return props


def open_negotiations(props, guests) -> list:
    from datetime import timedelta

    from django.utils import timezone

    from negotiation import services

    today = timezone.now().date()
    return [
        services.negotiation_open(
            guest=guest,
            property_id=prop.pk,
            check_in=today + timedelta(days=30),
            check_out=today + timedelta(days=33),
            guests=2,
            stay_type="standard",
        ).negotiation
        for prop, guest in zip(props, guests, strict=True)
    ]


PROBE_NEGOTIATIONS = 10


def service_probe(negotiations, calls: int = 200) -> dict:
    """``negotiation_message`` called in this process (in a thread of its own, on negotiations
    that no socket watches), its publishing switched off: the database part of one chat
    action, which a server runs on an executor thread. Wall and CPU time per call."""
    from unittest import mock

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from negotiation import services

    times, cpu = [], []
    with mock.patch("core.publishing._send_batch", lambda sends: None):
        x = negotiations[0]
        with CaptureQueriesContext(connection) as queries:
            services.negotiation_message(negotiation_id=x.pk, user=x.guest, body="probe")
        for i in range(calls):
            x = negotiations[i % len(negotiations)]
            start, start_cpu = time.perf_counter(), time.thread_time()
            services.negotiation_message(negotiation_id=x.pk, user=x.guest, body=f"probe {i}")
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
    connection.close()
    times.sort()
    cpu.sort()
    return {
        "statements": len(queries.captured_queries),
        "p50": percentile(times, 50),
        "p90": percentile(times, 90),
        "cpu_p50": percentile(cpu, 50),
    }

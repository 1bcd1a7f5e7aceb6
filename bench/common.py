"""Shared plumbing for the benchmarks: the environment they share with the servers they
start, the bench database, Django setup, and a timestamped log.

The bench database (``DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/parley_bench``)
is created when missing and belongs to the benchmarks alone: the dataset generator truncates it.
The database named ``test`` (the test suite's) is refused outright.

The rest of the plumbing: daphne servers in ``bench/servers.py``, a small HTTP/1.1 client in
``bench/http_client.py``, percentiles and CPU and machine figures in ``bench/measure.py``.
"""

import os
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/parley_bench"
# A Redis database of its own, so the benchmark's throttle counters, channel groups and
# queued Celery messages never mix with a dev server's or the test suite's (db 0).
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
REFUSED_DATABASES = {"test", "postgres", "template0", "template1"}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- environment and database -------------------------------------------------------------


def add_server_options(parser) -> None:
    """The options every HTTP benchmark has: servers, connections, a quiet machine."""
    parser.add_argument("--processes", type=int, default=2, help="daphne processes")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="first wait up to this long for a 1-minute load average under 1",
    )
    parser.add_argument(
        "--conn-max-age",
        default=None,
        help="DB_CONN_MAX_AGE for the servers (default: unset, the deployed 0)",
    )
    parser.add_argument(
        "--pool",
        default=None,
        help="DB_POOL_MAX_SIZE for the servers (default: unset, the deployed 10; 0: no pool)",
    )


def bench_env(args=None) -> dict[str, str]:
    """The environment shared by this process and the servers it starts; ``args`` of
    :func:`add_server_options` override how the servers connect to PostgreSQL."""
    env = _base_env()
    if getattr(args, "conn_max_age", None) is not None:
        env["DB_CONN_MAX_AGE"] = str(args.conn_max_age)
    if getattr(args, "pool", None) is not None:
        env["DB_POOL_MAX_SIZE"] = str(args.pool)
    return env


def _base_env() -> dict[str, str]:
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    name = urlsplit(database_url).path.lstrip("/")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"DATABASE_URL must be PostgreSQL, got {database_url!r}")
    if name in REFUSED_DATABASES:
        sys.exit(f"refusing to benchmark in the database {name!r}: use a database of its own")
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        "REDIS_KEY_PREFIX": "parley-bench",
        # One key per run; the servers and this process must agree (JWTs are signed with it).
        "DJANGO_SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_hex(32),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "JWT_COOKIE_SECURE": "false",
        # The throttles stay on (each request still reads and writes its counter in Redis),
        # with rates a benchmark from one address cannot reach.
        "THROTTLE_ANON": "10000000/min",
        "THROTTLE_USER": "10000000/min",
        "THROTTLE_BOOKINGS": "10000000/min",
        "THROTTLE_NEGOTIATION": "10000000/min",
        "LOG_FORMAT": "json",
    }


def connection_line(env: dict[str, str]) -> str:
    """How the servers connect to PostgreSQL (production settings: a pool of 10 a process)."""
    pool = env.get("DB_POOL_MAX_SIZE", "10")
    if pool != "0":
        return f"psycopg pool, max {pool} connections a process"
    return f"no pool, DB_CONN_MAX_AGE={env.get('DB_CONN_MAX_AGE', '0')}"


def ensure_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if name in REFUSED_DATABASES:
        sys.exit(f"refusing to drop {name!r}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        log(f"dropping database {name}")
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(env: dict[str, str], settings_module: str) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    log("migrate")
    call_command("migrate", interactive=False, verbosity=0)


def flush_bench_redis(redis_url: str) -> None:
    """Empty the benchmark's own Redis database (only the default one, never a shared one)."""
    if redis_url != DEFAULT_REDIS_URL:
        return
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()

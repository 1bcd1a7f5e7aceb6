"""Databases, Redis (cache and channel layer) and Celery, for the two runtime modes
(DESIGN.md section 2):

* embedded default: no ``DATABASE_URL`` / ``REDIS_URL`` -> SQLite with IMMEDIATE
  transactions, in-memory channel layer, eager Celery, local-memory cache;
* services: ``DATABASE_URL`` -> PostgreSQL, ``REDIS_URL`` -> channels-redis,
  Redis Celery broker and Redis cache.
"""

from .environment import BASE_DIR, env


# --- Database -----------------------------------------------------------------------------
def use_connection_pool(database: dict, max_size: int) -> None:
    """A psycopg pool per process (``max_size`` > 0; PostgreSQL only).

    A request borrows a connection and gives it back at its end, so the per-request
    connect (a few ms of PostgreSQL backend start-up, every request under ASGI) goes away
    without persistent connections piling up, one per request thread. Production turns
    it on by default.
    """
    if max_size <= 0 or "postgresql" not in database["ENGINE"]:
        return
    database["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with a pool
    database.setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, max_size),
        "max_size": max_size,
        # waiting longer than this for a free connection fails the request (503)
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }


def postgres_session_settings(
    database: dict, *, parallel_workers: int, lock_timeout_ms: int
) -> None:
    """Settings of every PostgreSQL session of the app, sent when it connects (no statement
    of their own).

    * ``max_parallel_workers_per_gather`` (default 0). Parallel query speeds up one big
      query on an idle server. A web app runs many small queries at once, and a parallel
      plan only adds the cost of starting its workers: on the 2-core benchmark machine a
      radius search that PostgreSQL planned with two workers took 33 ms, and 3 to 14 ms
      without (docs/benchmarks.md).
    * No JIT: compiling a plan takes 1 to 2 s, which PostgreSQL starts paying once a
      query's estimated cost passes jit_above_cost; a web request never wins that back (a
      radius search priced for its dates spent 1.8 of its 2.4 s compiling, 5 Dec 2026).
    * ``lock_timeout`` (``DB_LOCK_TIMEOUT_MS``): no statement waits longer than that for a
      lock; :mod:`core.locks` answers it as ``503`` with ``Retry-After`` (any other
      statement's timeout is an outage, also a 503). Set here once per connection rather
      than by a statement before each row lock: that statement cost an offer a third of
      its database round trips (docs/benchmarks.md, issue 21).
    """
    if "postgresql" not in database["ENGINE"]:
        return
    options = database.setdefault("OPTIONS", {})
    setting = (
        f"-c max_parallel_workers_per_gather={parallel_workers} -c jit=off"
        f" -c lock_timeout={lock_timeout_ms}ms"
    )
    options["options"] = f"{options['options']} {setting}" if options.get("options") else setting


DB_LOCK_TIMEOUT_MS = env.int("DB_LOCK_TIMEOUT_MS", default=5000)  # core.locks: then 503
SQLITE_PATH = env("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3"))
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["ENGINE"] = "core.sqlite"  # its write lock at BEGIN, like ours
    # 0: under ASGI every request runs in its own thread, so persistent connections are
    # never reused and pile up (measured in docs/benchmarks.md).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    use_connection_pool(DATABASES["default"], env.int("DB_POOL_MAX_SIZE", default=0))
    postgres_session_settings(
        DATABASES["default"],
        parallel_workers=env.int("DB_MAX_PARALLEL_WORKERS_PER_GATHER", default=0),
        lock_timeout_ms=DB_LOCK_TIMEOUT_MS,
    )
else:
    # IMMEDIATE transactions take the write lock at BEGIN, so a check-then-insert
    # inside transaction.atomic() cannot interleave with another writer.
    DATABASES = {
        "default": {
            "ENGINE": "core.sqlite",  # IMMEDIATE transactions, WAL, a 20 s busy timeout
            "NAME": SQLITE_PATH,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ATOMIC_REQUESTS = False  # services own their transactions (STYLE.md)

# --- Redis: cache, channel layer, Celery --------------------------------------------------

REDIS_URL = env("REDIS_URL", default="")
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", default="parley")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.SharedPoolRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # The pub/sub layer publishes each group message once to Redis (no per-channel
    # lists), which measured a lower p99 than the core layer; delivery is at most
    # once either way, so clients re-sync from the event log on reconnect.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": f"{REDIS_KEY_PREFIX}:asgi",
            },
        }
    }
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Eager tasks still open a producer (to serialise their arguments): a hostname keeps
    # kombu from warning "No hostname was supplied" on the first email (issue 20).
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True

CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Redis redelivers an unacknowledged task after this; never schedule further ahead.
# A task whose worker died unacked is handed out again after the visibility timeout;
# the restore sweep runs every interval x throttle seconds. 5 minutes: every task runs
# in seconds, and no countdown or retry delay reaches it (CELERY_RETRY_DELAY_MAX).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
if env("CELERY_BROKER_KEY_PREFIX", default=""):  # e.g. one per test run sharing a Redis
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env("CELERY_BROKER_KEY_PREFIX")
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# The longest countdown any task is retried or scheduled with (an ETA task waits unacked in
# the worker; past the visibility timeout Redis would hand it to a second worker).
CELERY_RETRY_DELAY_MAX = 240

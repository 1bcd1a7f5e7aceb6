"""Django's Redis cache with one connection pool and one client per process.

Django keeps cache objects in a context-local registry: under ASGI every request runs in
a context of its own, so every request built a new ``RedisCache``, with a new connection
pool, and opened a new TCP connection to Redis (plus a health-check round trip) for its
throttles, closed again when the pool was garbage-collected. Django's
``RedisCacheClient`` also builds a new ``redis.Redis`` for every operation, each copying
redis-py's table of ~170 response callbacks. Both are thread-safe and only wrap the
connections, so this client shares one pool and one client per server and options for
the whole process (redis-py's pool resets itself in a forked child).
"""

import threading

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_shared_pools: dict[tuple, object] = {}
_shared_clients: dict[int, object] = {}
_lock = threading.Lock()


class SharedPoolRedisCacheClient(RedisCacheClient):
    def _get_connection_pool(self, write):
        server = self._servers[self._get_connection_pool_index(write)]
        key = (server, repr(sorted(self._pool_options.items())))
        pool = _shared_pools.get(key)
        if pool is None:
            with _lock:
                pool = _shared_pools.get(key)
                if pool is None:
                    pool = _shared_pools[key] = self._pool_class.from_url(
                        server, **self._pool_options
                    )
        return pool

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = _shared_clients.get(id(pool))
        if client is None:
            client = _shared_clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient


def count_in_window(current: str, previous: str, *, timeout: int) -> tuple[int, int]:
    """Add one to the counter ``current`` (created at 1, expiring ``timeout`` seconds after
    its last increment) and read the counter ``previous`` of the default cache; returns
    both counts. On Redis one round trip (``INCR``, ``EXPIRE`` and ``GET`` in one
    pipeline; ``INCR`` is atomic); elsewhere ``add``/``incr``, atomic in the local-memory
    cache of development and tests."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        names = cache.make_and_validate_key(current), cache.make_and_validate_key(previous)
        client = cache._cache.get_client(names[0], write=True)
        with client.pipeline(transaction=False) as pipe:
            pipe.incr(names[0]).expire(names[0], timeout).get(names[1])
            count, _, before = pipe.execute()
        return count, int(before or 0)
    if cache.add(current, 1, timeout):
        count = 1
    else:
        try:
            count = cache.incr(current)
        except ValueError:  # expired between add and incr
            cache.add(current, 1, timeout)
            count = 1
    return count, int(cache.get(previous) or 0)

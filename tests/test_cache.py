"""The Redis cache shares one pool and client per process and still behaves as a cache;
the throttles' window counters are atomic (real Redis, real threads)."""

import threading

import pytest
from django.conf import settings
from django.core.cache import cache, caches

from core.cache import count_in_window

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (Redis cache)")


def test_one_pool_and_client_per_process_and_a_working_cache():
    backend = cache._cache
    assert backend.get_client(write=True) is backend.get_client(write=True)
    assert backend.get_client(write=False) is backend.get_client(write=True)  # one server
    # Django builds a cache object per request context under ASGI: they share the pool.
    other = caches.create_connection("default")
    assert other is not caches["default"]
    assert other._cache.get_client(write=True) is backend.get_client(write=True)
    cache.set("reuse-check", {"n": 1}, timeout=30)
    assert cache.get("reuse-check") == {"n": 1}
    assert cache.add("reuse-counter", 1)
    assert cache.incr("reuse-counter") == 2
    cache.delete_many(["reuse-check", "reuse-counter"])
    assert cache.get("reuse-check") is None


def test_window_counter_counts_every_concurrent_increment_and_expires():
    keys = ["window-test:2", "window-test:1"]
    cache.delete_many(keys)
    cache.set(keys[1], 7, timeout=30)
    seen: list[tuple[int, int]] = []

    def hammer():
        for _ in range(50):
            seen.append(count_in_window(*keys, timeout=30))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(count for count, _ in seen) == list(range(1, 401))  # none lost or repeated
    assert {previous for _, previous in seen} == {7}
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_key(keys[0])) <= 30
    cache.delete_many(keys)

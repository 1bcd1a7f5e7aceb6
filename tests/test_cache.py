"""The Redis cache backend reuses its client and still behaves as a cache (real Redis)."""

import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (Redis cache)")


def test_one_client_per_pool_and_a_working_cache():
    backend = cache._cache
    assert backend.get_client(write=True) is backend.get_client(write=True)
    assert backend.get_client(write=False) is backend.get_client(write=True)  # one server
    cache.set("reuse-check", {"n": 1}, timeout=30)
    assert cache.get("reuse-check") == {"n": 1}
    assert cache.add("reuse-counter", 1)
    assert cache.incr("reuse-counter") == 2
    cache.delete_many(["reuse-check", "reuse-counter"])
    assert cache.get("reuse-check") is None

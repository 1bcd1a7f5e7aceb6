"""Liveness (``/healthz``) and readiness (``/readyz``) probes.

Readiness checks the database, the cache and the channel layer, each with a
short timeout, and answers 503 naming what is down.
"""

import asyncio
import logging
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from redis import asyncio as aioredis

logger = logging.getLogger(__name__)
CHECK_TIMEOUT_SECONDS = 3


def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    """Runs in a thread of its own (not the request's): with the connection pool, an
    unreachable server blocks ``getconn`` for ``DB_POOL_TIMEOUT``, and in the request's
    thread that would hold the response (``request_finished`` runs there) long after the
    3 s timeout. The thread's connection is closed (returned to the pool) afterwards."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


def _check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value it stored")
    cache.delete(key)


async def _check_channel_layer() -> None:
    """Redis-backed layers: ping each Redis host; in-memory layer: a send/receive round trip."""
    hosts = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts")
    if hosts:
        for host in hosts:
            url = host if isinstance(host, str) else host["address"]
            client = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
            try:
                await client.ping()
            finally:
                await client.aclose()
        return
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "readyz.probe"})
    if (await layer.receive(channel)).get("type") != "readyz.probe":
        raise RuntimeError("channel layer returned a different message")


async def _run(name: str, check) -> tuple[str, str]:
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        logger.warning("readiness check %s failed: %r", name, exc)
        return name, "down"
    return name, "ok"


async def readyz(request):
    results = dict(
        await asyncio.gather(
            _run("database", sync_to_async(_check_database, thread_sensitive=False)),
            _run("cache", sync_to_async(_check_cache, thread_sensitive=False)),
            _run("channel_layer", _check_channel_layer),
        )
    )
    down = [name for name, state in results.items() if state != "ok"]
    body = {"status": "ok" if not down else "unavailable", "checks": results, "down": down}
    return JsonResponse(body, status=503 if down else 200)

"""Who is in a negotiation room, per person rather than per connection.

A person may have the room open in several tabs, on several ASGI processes. Each
connection counts itself in the shared cache (Redis in services mode, local memory in the
embedded default, where there is one process); the room hears ``left`` only when the
person's last connection closes, so closing one of two tabs does not show them away.

A process that dies without closing its sockets leaves its counts behind: they lapse
``PRESENCE_TTL`` seconds after the person's last connect or disconnect, so a person is
never shown present for long after the crash of the server they were on.
"""

from django.core.cache import cache

PRESENCE_TTL = 6 * 60 * 60


def _key(negotiation_id: int, user_id: int) -> str:
    return f"presence:{negotiation_id}:{user_id}"


async def presence_join(*, negotiation_id: int, user_id: int) -> int:
    """Count a new connection of ``user_id`` in the room; their number of connections."""
    key = _key(negotiation_id, user_id)
    await cache.aadd(key, 0, PRESENCE_TTL)
    try:
        count = await cache.aincr(key)
    except ValueError:  # lapsed between add and incr
        await cache.aset(key, 1, PRESENCE_TTL)
        count = 1
    await cache.atouch(key, PRESENCE_TTL)
    return count


async def presence_leave(*, negotiation_id: int, user_id: int) -> int:
    """Uncount a closed connection; the connections ``user_id`` still has in the room."""
    key = _key(negotiation_id, user_id)
    try:
        count = await cache.adecr(key)
    except ValueError:  # lapsed: nothing is known of other connections
        return 0
    if count <= 0:
        await cache.adelete(key)
        return 0
    await cache.atouch(key, PRESENCE_TTL)
    return count

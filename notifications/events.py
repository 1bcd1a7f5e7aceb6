"""Publishing to channel-layer groups, after commit, in one batch per transaction.

A rolled-back transaction (or savepoint) publishes nothing: sends are queued with
``transaction.on_commit``. Payloads are round-tripped through JSON first so an
unserialisable event fails loudly where it is made (as Zulip does).

One action publishes several messages (the negotiation group, both parties' user
groups, the counterpart's notification). Each ``async_to_sync(group_send)`` blocks the
calling thread for a Redis round trip, so the messages of one transaction leave
together: one hop to the event loop, the groups sent concurrently, each group's
messages in order (docs/benchmarks-negotiation.md measured four blocking sends per chat
action before).
"""

import asyncio
import json
import logging
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def publish_to_users(user_ids: list[int], payload: dict) -> None:
    """Send ``payload`` to each user's notification group once the transaction commits."""
    payload = json.loads(json.dumps(payload))
    for user_id in dict.fromkeys(user_ids):
        group_send_on_commit(user_group(user_id), {"type": "notify", "payload": payload})


def group_send_on_commit(group: str, message: dict) -> None:
    """Queue ``group_send(group, message)`` for when the current transaction commits (at
    once outside a transaction, or at the end of a :func:`one_batch` block)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if not connection.in_atomic_block:
        collecting = _collecting.get()
        if collecting is not None:
            collecting.append((group, message))
        else:
            _send_batch([(group, message)])
        return
    batch = _open_batch(connection)
    batch.append((group, message))


_collecting: ContextVar[list | None] = ContextVar("parley_publish_batch", default=None)


@contextmanager
def one_batch():
    """Sends made outside a transaction within this block leave together at its end, in
    one hop to the event loop, as a transaction's sends do at commit (for writes that
    commit on their own, such as ``negotiation.chat``'s single statement)."""
    batch: list[tuple[str, dict]] = []
    token = _collecting.set(batch)
    try:
        yield
    finally:
        _collecting.reset(token)
        if batch:  # what was committed is published, even if a later step failed
            _send_batch(batch)


class _Batch(list):
    """The sends queued at one savepoint level; flushed by its own on-commit hook."""

    def __init__(self, savepoints: tuple):
        super().__init__()
        self.savepoints = savepoints

    def flush(self) -> None:
        _send_batch(list(self))
        self.clear()


def _open_batch(connection) -> _Batch:
    """The batch whose hook is still pending at the current savepoint level, or a new one.

    A batch belongs to one savepoint level, so rolling back a savepoint drops exactly the
    sends queued inside it, as it drops its other on-commit hooks.
    """
    savepoints = tuple(connection.savepoint_ids)
    pending = {id(hook[1].__self__) for hook in connection.run_on_commit if _is_flush(hook[1])}
    batches = getattr(connection, "_parley_publish_batches", [])
    batches = [b for b in batches if id(b) in pending]
    for batch in batches:
        if batch.savepoints == savepoints and batch is batches[-1]:
            return batch
    batch = _Batch(savepoints)
    batches.append(batch)
    connection._parley_publish_batches = batches
    transaction.on_commit(batch.flush)
    return batch


def _is_flush(func) -> bool:
    return getattr(func, "__func__", None) is _Batch.flush


def _send_batch(sends: list[tuple[str, dict]]) -> None:
    if not sends:
        return
    try:
        async_to_sync(_send_all)(sends)
    except Exception:  # the event log and REST stay the source of truth; sockets re-sync
        logger.exception("could not publish %d message(s)", len(sends))


async def _send_all(sends: list[tuple[str, dict]]) -> None:
    by_group: dict[str, list[dict]] = defaultdict(list)
    for group, message in sends:
        by_group[group].append(message)
    layer = get_channel_layer()

    async def send_in_order(group: str, messages: list[dict]) -> None:
        for message in messages:
            await layer.group_send(group, message)

    results = await asyncio.gather(
        *(send_in_order(group, messages) for group, messages in by_group.items()),
        return_exceptions=True,
    )
    for group, result in zip(by_group, results, strict=True):
        if isinstance(result, BaseException):
            logger.error("could not publish to %s", group, exc_info=result)

"""Channel-layer sends that leave when their transaction commits, in one batch.

:func:`send_on_commit` queues ``group_send(group, message)`` for the commit of the
current transaction (a send made outside a transaction leaves at once). What it
promises, whatever the nesting of ``transaction.atomic`` blocks:

* a transaction that commits delivers every send it made, in the order it made them,
  in one batch: one hop to the event loop, the groups sent concurrently, each group's
  messages in order;
* a transaction that rolls back delivers none of them;
* a savepoint that rolls back drops exactly the sends made inside it; the others still
  leave together at the commit;
* sends made outside a transaction inside a :func:`one_batch` block leave together at
  the block's end (writes that commit on their own, such as ``negotiation.chat``'s
  single statement).

How. Django decides the fate of a ``transaction.on_commit`` callback, as documented: it
runs after the commit, in registration order, or it is discarded with the savepoint or
the transaction it was registered in. So every send registers a callback of its own and
Django's rule applies to each send exactly. One flush callback for the whole
transaction would not do: registered inside a savepoint, it is discarded if that
savepoint rolls back, with the sends of the enclosing transaction, and Django offers
no way to register one at the outermost level. The callbacks do not send; each marks
its send committed in the thread's outbox (a database connection belongs to one
thread), and the outbox sends the committed sends once no send made after them is
still waiting for its callback. (A send made by a callback itself, while the commit's
callbacks run, comes after all of the committed transaction's sends, which can no
longer be discarded.) A callback Django discards is dropped with its last
reference, at once in CPython (reference counting): ``weakref.finalize`` tells the
outbox, which forgets that send. Django's private state (its list of callbacks, the
connection's attributes) is neither read nor written.

Publishing failures are logged, never raised: the event logs and REST are the source of
truth, and sockets re-sync from them (docs/architecture.md, "Publishing after commit").
"""

import asyncio
import logging
import threading
import weakref
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

Send = tuple[str, dict]


def send_on_commit(group: str, message: dict) -> None:
    """``group_send(group, message)`` once the current transaction commits (at once
    outside a transaction, or at the end of an enclosing :func:`one_batch`)."""
    outbox = _outbox()
    entry = _Entry((group, message))
    outbox.add(entry)
    callback = _Committed(outbox, entry)
    weakref.finalize(callback, outbox.discard, entry).atexit = False
    transaction.on_commit(callback)


@contextmanager
def one_batch():
    """Sends that leave inside this block (made outside a transaction, or committed
    within it) leave together at its end, in one hop to the event loop."""
    batch: list[Send] = []
    token = _collecting.set(batch)
    try:
        yield
    finally:
        _collecting.reset(token)
        if batch:  # what was committed is published, even if a later step failed
            _send_batch(batch)


_collecting: ContextVar[list[Send] | None] = ContextVar("parley_publish_batch", default=None)
_local = threading.local()


class _Entry:
    __slots__ = ("committed", "send")

    def __init__(self, send: Send):
        self.send = send
        self.committed = False


class _Committed:
    """The ``on_commit`` callback of one send; Django holds the only reference to it."""

    __slots__ = ("__weakref__", "entry", "outbox")

    def __init__(self, outbox: "_Outbox", entry: _Entry):
        self.outbox, self.entry = outbox, entry

    def __call__(self) -> None:
        self.outbox.commit(self.entry)


class _Outbox:
    """One thread's sends waiting for their callbacks, in the order they were made."""

    def __init__(self):
        self.entries: list[_Entry] = []
        self.committed = 0  # how many of them are committed (their callback ran)

    def add(self, entry: _Entry) -> None:
        """A new send. Made while a commit's callbacks run (a callback's own write, say an
        eager task), it follows the committed transaction's sends: those whose callback
        has not run yet can no longer be discarded, so they all leave first, in order."""
        if self.committed:
            first = next(i for i, waiting in enumerate(self.entries) if waiting.committed)
            for waiting in self.entries[first:]:
                waiting.committed = True
            self.committed = len(self.entries) - first
            self._flush()
        self.entries.append(entry)

    def commit(self, entry: _Entry) -> None:
        if entry.committed:
            return  # sent already, ahead of a callback's own send
        entry.committed = True
        self.committed += 1
        self._flush()

    def discard(self, entry: _Entry) -> None:
        """Django dropped the send's callback: if it never ran, the send was rolled back."""
        if not entry.committed and entry in self.entries:
            self.entries.remove(entry)
            self._flush()

    def _flush(self) -> None:
        """Send the committed sends made after the last one still waiting: callbacks run
        in the order of the sends, so during a commit that is once, after the last one."""
        start = len(self.entries)
        while start and self.entries[start - 1].committed:
            start -= 1
        ready = self.entries[start:]
        if not ready:
            return
        del self.entries[start:]
        self.committed -= len(ready)
        sends = [entry.send for entry in ready]
        collecting = _collecting.get()
        if collecting is not None:
            collecting.extend(sends)
        else:
            _send_batch(sends)


def _outbox() -> _Outbox:
    outbox = getattr(_local, "outbox", None)
    if outbox is None:
        outbox = _local.outbox = _Outbox()
    return outbox


def _send_batch(sends: list[Send]) -> None:
    if not sends:
        return
    try:
        async_to_sync(_send_all)(sends)
    except Exception:  # the event log and REST stay the source of truth; sockets re-sync
        logger.exception("could not publish %d message(s)", len(sends))


async def _send_all(sends: list[Send]) -> None:
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

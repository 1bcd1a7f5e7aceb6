"""The after-commit publisher: one batch per transaction, savepoints respected, order kept,
against the project's real channel layer (Redis pub/sub under REDIS_URL)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from notifications.events import group_send_on_commit

pytestmark = pytest.mark.django_db(transaction=True)


class Listener:
    """A channel of this event loop subscribed to ``group``."""

    def __init__(self, group: str):
        self.layer = get_channel_layer()
        self.group = group

    async def __aenter__(self):
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        return self

    async def __aexit__(self, *exc):
        await self.layer.group_discard(self.group, self.channel)

    async def received(self, wait: float = 0.5) -> list[int]:
        """What arrived, until nothing more comes for ``wait`` seconds. (Once a receive
        is cancelled the pub/sub layer unsubscribes the channel: call this once.)"""
        got = []
        while True:
            try:
                message = await asyncio.wait_for(self.layer.receive(self.channel), wait)
            except TimeoutError:
                return got
            got.append(message["n"])


def queued() -> int:
    """Sends waiting for the commit on this thread's connection."""
    from django.db import connection

    return sum(len(batch) for batch in getattr(connection, "_parley_publish_batches", []))


def send(group: str, n: int) -> None:
    group_send_on_commit(group, {"type": "test.message", "n": n})


async def test_sends_wait_for_commit_and_keep_their_order_per_group():
    async with Listener("publish-a") as a, Listener("publish-b") as b:

        @sync_to_async
        def publish_and_peek():
            with transaction.atomic():
                for n in range(1, 6):
                    send("publish-a", n)
                    send("publish-b", 10 + n)
                unsent = queued()
            return unsent

        assert await publish_and_peek() == 10  # queued, nothing sent before commit
        assert await a.received() == [1, 2, 3, 4, 5]
        assert await b.received() == [11, 12, 13, 14, 15]


async def test_rolled_back_savepoint_drops_only_its_sends():
    @sync_to_async
    def publish():
        with transaction.atomic():
            send("publish-sp", 1)
            try:
                with transaction.atomic():
                    send("publish-sp", 2)
                    raise RuntimeError("roll back the savepoint")
            except RuntimeError:
                pass
            send("publish-sp", 3)
            with transaction.atomic():
                send("publish-sp", 4)  # a savepoint that commits keeps its sends, in order
            send("publish-sp", 5)

    async with Listener("publish-sp") as a:
        await publish()
        assert await a.received() == [1, 3, 4, 5]


async def test_rolled_back_transaction_sends_nothing_and_the_next_one_works():
    @sync_to_async
    def publish():
        with pytest.raises(RuntimeError), transaction.atomic():
            send("publish-rb", 1)
            raise RuntimeError("roll back")
        with transaction.atomic():
            send("publish-rb", 2)

    async with Listener("publish-rb") as a:
        await publish()
        assert await a.received() == [2]


async def test_outside_a_transaction_it_sends_at_once():
    async with Listener("publish-now") as a:
        await sync_to_async(send)("publish-now", 7)
        assert await a.received() == [7]


async def test_one_batch_outside_a_transaction_sends_together_at_its_end(monkeypatch):
    from notifications import events

    batches = []
    real_send_batch = events._send_batch

    def recording(sends):
        batches.append(len(sends))
        real_send_batch(sends)

    monkeypatch.setattr(events, "_send_batch", recording)

    @sync_to_async
    def publish():
        with events.one_batch():
            send("publish-one", 1)
            send("publish-two", 2)
            send("publish-one", 3)
            held = list(batches)
        with transaction.atomic(), events.one_batch():
            send("publish-one", 4)  # inside a transaction: still sent at commit
        return held

    async with Listener("publish-one") as one, Listener("publish-two") as two:
        assert await publish() == []  # nothing left before the block ended
        assert batches == [3, 1]
        assert await one.received() == [1, 3, 4]
        assert await two.received() == [2]

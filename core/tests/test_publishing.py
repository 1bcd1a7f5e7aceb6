"""On-commit publishing (core.publishing): commit delivers all in order in one batch,
rollback delivers none, a rolled-back savepoint drops only its sends; against the
project's real channel layer (Redis pub/sub under REDIS_URL)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection, transaction

from core import publishing
from core.publishing import one_batch, send_on_commit

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


@pytest.fixture
def batches(monkeypatch):
    """The size of each batch handed to the channel layer, in order (still sent)."""
    sizes = []
    real_send_batch = publishing._send_batch

    def recording(sends):
        sizes.append(len(sends))
        real_send_batch(sends)

    monkeypatch.setattr(publishing, "_send_batch", recording)
    return sizes


def send(group: str, n: int) -> None:
    send_on_commit(group, {"type": "test.message", "n": n})


async def test_sends_wait_for_commit_and_leave_in_one_batch_in_order(batches):
    async with Listener("publish-a") as a, Listener("publish-b") as b:

        @sync_to_async
        def publish_and_peek():
            with transaction.atomic():
                for n in range(1, 6):
                    send("publish-a", n)
                    send("publish-b", 10 + n)
                before_commit = list(batches)
            return before_commit

        assert await publish_and_peek() == []  # nothing sent before the commit
        assert batches == [10]
        assert await a.received() == [1, 2, 3, 4, 5]
        assert await b.received() == [11, 12, 13, 14, 15]


async def test_rolled_back_savepoint_drops_only_its_sends(batches):
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
                try:
                    with transaction.atomic():
                        send("publish-sp", 5)
                        raise RuntimeError("roll back the inner savepoint")
                except RuntimeError:
                    pass
            send("publish-sp", 6)

    async with Listener("publish-sp") as a:
        await publish()
        assert await a.received() == [1, 3, 4, 6]
    assert batches == [4]  # still one batch


async def test_a_rolled_back_savepoint_that_sent_last_still_lets_the_rest_leave(batches):
    @sync_to_async
    def publish():
        with transaction.atomic():
            send("publish-tail", 1)
            send("publish-tail", 2)
            try:
                with transaction.atomic():
                    send("publish-tail", 3)
                    raise RuntimeError("roll back the savepoint")
            except RuntimeError:
                pass

    async with Listener("publish-tail") as a:
        await publish()
        assert await a.received() == [1, 2]
    assert batches == [2]


async def test_rolled_back_transaction_sends_nothing_and_the_next_one_works(batches):
    @sync_to_async
    def publish():
        with pytest.raises(RuntimeError), transaction.atomic():
            send("publish-rb", 1)
            with transaction.atomic():
                send("publish-rb", 2)
            raise RuntimeError("roll back")
        with transaction.atomic():
            send("publish-rb", 3)

    async with Listener("publish-rb") as a:
        await publish()
        assert await a.received() == [3]
    assert batches == [1]


async def test_outside_a_transaction_it_sends_at_once():
    async with Listener("publish-now") as a:
        await sync_to_async(send)("publish-now", 7)
        assert await a.received() == [7]


async def test_one_batch_outside_a_transaction_sends_together_at_its_end(batches):
    @sync_to_async
    def publish():
        with one_batch():
            send("publish-one", 1)
            send("publish-two", 2)
            send("publish-one", 3)
            held = list(batches)
        with transaction.atomic(), one_batch():
            send("publish-one", 4)  # inside a transaction: still sent at commit
        return held

    async with Listener("publish-one") as one, Listener("publish-two") as two:
        assert await publish() == []  # nothing left before the block ended
        assert batches == [3, 1]
        assert await one.received() == [1, 3, 4]
        assert await two.received() == [2]


def test_the_connection_is_left_as_django_made_it(monkeypatch):
    """No attribute of the connection is added or replaced, and Django's list of
    callbacks is only ever appended to through ``transaction.on_commit``."""
    monkeypatch.setattr(publishing, "_send_batch", lambda sends: None)
    with transaction.atomic():
        before = dict(vars(connection))
        send("publish-untouched", 1)
        with transaction.atomic():
            send("publish-untouched", 2)
        after = dict(vars(connection))
    assert after.keys() == before.keys()
    assert all(after[key] is before[key] for key in before if key != "savepoint_state")


async def test_a_send_made_by_a_commit_callback_follows_the_committed_transactions(batches):
    """A callback that writes and publishes itself (an eager task, say) runs among the
    commit's callbacks: its sends leave after all of the committed transaction's."""

    def write_and_publish():
        with transaction.atomic():
            send("publish-hook", 3)

    @sync_to_async
    def publish():
        with transaction.atomic():
            send("publish-hook", 1)
            transaction.on_commit(write_and_publish)
            send("publish-hook", 2)

    async with Listener("publish-hook") as a:
        await publish()
        assert await a.received() == [1, 2, 3]
    assert batches == [2, 1]

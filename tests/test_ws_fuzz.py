"""Fuzzing both sockets with hypothesis (Channels' communicator on the real ASGI app).

``negotiation/tests/test_consumers.py`` checks one example of each refusal; here random
sequences of frames from both parties (valid actions with random fields, wrong types,
huge numbers, unicode, deep JSON, oversized and binary frames) must each get exactly one
answer (an ``ack``, a ``pong`` or an ``error``; ``typing`` and a valid ``read`` get none),
the socket must never close, and afterwards the negotiation must satisfy DESIGN.md's
invariants: events ``1..n`` with no gap, offers within the rules, turn consistent, at
most one booking. Floods beyond the rate limit are answered frame by frame too.
"""

import asyncio
import itertools
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import AccessToken

from bookings.models import Booking
from bookings.tests.factories import bookable_property, verified_guest
from config.asgi import application
from core import consumers
from negotiation import services
from negotiation.api.serializers import ReadInSerializer
from negotiation.models import Event, Negotiation

pytestmark = pytest.mark.django_db(transaction=True)

FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
REPLY_TIMEOUT = 10  # only reached when something is wrong
# Frames that once crashed a consumer (closing the socket with 1011): always tried.
REGRESSIONS = [
    ("text", '{"type": ["offer"], "client_id": "list-type"}'),
    ("text", '{"type": {"type": "ping"}}'),
    ("text", '{"type": "message", "body": "nul \\u0000 byte", "client_id": "nul"}'),
    ("text", '{"type": "offer", "amount": "260.00", "message": "\\u0000"}'),
    ("text", "[" * 7000 + "]" * 7000),
    ("bytes", b"\x00\xff"),
]

# --- frames -------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
any_type = st.one_of(
    st.sampled_from(
        ["offer", "accept", "decline", "withdraw", "message", "typing", "read", "ping", "", "OFFER"]
    ),
    json_values,
)
amounts = st.one_of(
    st.decimals(min_value=1, max_value=600, places=2).map(str),  # mostly plausible offers
    st.decimals(min_value=1, max_value=600, places=2).map(str),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(["NaN", "Infinity", "-0", "1e400", "0.001", "1" * 5000, "", " 300 "]),
    json_values,
)
client_ids = st.one_of(st.none(), st.text(max_size=70), st.integers(), json_values)
texts = st.one_of(st.text(max_size=50), st.text(min_size=1990, max_size=2010), json_values)

action_frames = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("offer"), "amount": amounts},
        optional={"message": texts, "client_id": client_ids},
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["accept", "decline", "withdraw"])},
        optional={"client_id": client_ids},
    ),
    st.fixed_dictionaries(
        {"type": st.just("message"), "body": texts}, optional={"client_id": client_ids}
    ),
    st.fixed_dictionaries(
        {"type": st.just("read")},
        optional={"seq": st.one_of(st.integers(min_value=-5, max_value=2**40), json_values)},
    ),
    st.fixed_dictionaries({"type": st.sampled_from(["typing", "ping"])}),
    st.fixed_dictionaries({"type": any_type}, optional={"client_id": client_ids}),
    st.dictionaries(st.text(max_size=10), json_values, max_size=5),
)


def _text(frame) -> str:
    return json.dumps(frame, ensure_ascii=False)


def _deep(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"type":' * depth + '"ping"' + "}" * depth


raw_frames = st.one_of(
    action_frames.map(lambda f: ("text", _text(f))),
    action_frames.map(lambda f: ("text", _text(f))),
    action_frames.map(lambda f: ("text", _text(f))),
    json_values.map(lambda v: ("text", _text(v))),  # not an object (mostly)
    st.text(min_size=1, max_size=40).map(lambda t: ("text", t)),  # mostly not JSON
    st.tuples(st.integers(10, 7000), st.sampled_from(["list", "object"])).map(
        lambda t: ("text", _deep(*t))
    ),
    st.sampled_from(["NaN", "-Infinity", "1" * 5000, '{"type": "ping", "type": "offer"}']).map(
        lambda t: ("text", t)
    ),
    st.integers(16 * 1024 + 1, 64 * 1024).map(
        lambda n: ("text", _text({"type": "message", "body": "é" * n}))
    ),
    st.integers(4500, 6000).map(lambda n: ("text", _text({"type": "message", "body": "😀" * n}))),
    st.binary(min_size=1, max_size=64).map(lambda b: ("bytes", b)),  # (the communicator
    # cannot send empty frames)
)
party_frames = st.lists(st.tuples(st.sampled_from(["guest", "host"]), raw_frames), max_size=25)


def _expects_reply(kind: str, payload) -> bool:
    """Every frame is answered except ``typing`` and a valid ``read`` (relayed, not acked)."""
    if kind != "text":
        return True
    try:
        content = json.loads(payload)
    except (ValueError, RecursionError):
        return True
    if not isinstance(content, dict) or len(payload.encode()) > consumers.MAX_FRAME_BYTES:
        return True
    if content.get("type") == "typing":
        return False
    if content.get("type") == "read":  # valid as over REST: stored and relayed, not acked
        valid = ReadInSerializer(data=json.loads(payload, parse_float=Decimal)).is_valid()
        return not valid
    return True


# --- harness --------------------------------------------------------------------------------


def _socket(path: str, user) -> WebsocketCommunicator:
    headers = [
        (b"origin", b"http://localhost"),
        (b"authorization", f"Bearer {AccessToken.for_user(user)}".encode()),
    ]
    return WebsocketCommunicator(application, path, headers=headers)


class Party:
    """One connected socket and everything it has received."""

    def __init__(self, ws: WebsocketCommunicator):
        self.ws = ws
        self.events: list[int] = []
        self.pending: list[dict] = []

    async def next_frame(self) -> dict:
        message = await self.ws.receive_output(timeout=REPLY_TIMEOUT)
        assert message["type"] == "websocket.send", f"socket closed or failed: {message}"
        frame = json.loads(message["text"])
        if frame.get("type") == "event":
            self.events.append(frame["seq"])
        return frame

    async def send(self, kind: str, payload) -> None:
        if kind == "text":
            await self.ws.send_to(text_data=payload)
        else:
            await self.ws.send_to(bytes_data=payload)

    async def exchange(self, kind: str, payload) -> list[dict]:
        """Send a frame, then a ping as a barrier: the consumer handles frames in order, so
        the answer to the frame comes before the pong."""
        await self.send(kind, payload)
        await self.ws.send_to(text_data='{"type": "ping"}')
        answers = []
        while True:
            frame = await self.next_frame()
            if frame.get("type") in {"event", "typing", "presence", "read"}:
                continue
            if frame == {"type": "pong"} and not (
                _is_ping(kind, payload) and not any(a == {"type": "pong"} for a in answers)
            ):
                return answers
            answers.append(frame)

    async def until_seq(self, seq: int) -> None:
        """Events of the last actions travel through the channel layer; wait for them."""
        while not self.events or self.events[-1] < seq:
            if seq == 0:
                return
            await self.next_frame()

    async def drain(self) -> list[dict]:
        frames = []
        while not await self.ws.receive_nothing(timeout=0.3):
            frames.append(await self.next_frame())
        return frames


def _is_ping(kind, payload) -> bool:
    if kind != "text" or len(payload.encode()) > consumers.MAX_FRAME_BYTES:
        return False
    try:
        content = json.loads(payload, parse_constant=float)
    except (ValueError, RecursionError):
        return False
    return isinstance(content, dict) and content.get("type") == "ping"


def _check_answers(kind, payload, answers) -> None:
    for answer in answers:
        assert answer.get("type") in {"ack", "error", "pong"}, answer
        if answer["type"] == "error":
            assert isinstance(answer.get("code"), str) and answer["code"], answer
            assert answer["code"] != "internal_error"
    if _expects_reply(kind, payload):
        assert len(answers) == 1, (payload[:200], answers)
    else:
        assert answers == [], (payload[:200], answers)
    if kind == "text" and len(answers) == 1 and answers[0]["type"] in {"ack", "error"}:
        try:
            sent_id = json.loads(payload).get("client_id")
        except (ValueError, RecursionError, AttributeError):
            sent_id = None
        if isinstance(sent_id, str) and 1 <= len(sent_id) <= 64:
            assert answers[0]["client_id"] == sent_id
        else:  # no id, or one refused as invalid (never stored, never echoed)
            assert answers[0]["client_id"] is None


@pytest.fixture
def unlimited(monkeypatch):
    """The sequence tests send a ping barrier after each frame; the flood tests keep the
    real limit (the same on both sockets: core.consumers)."""
    monkeypatch.setattr(consumers.TokenBucket, "take", lambda self: True)


def _open_negotiation():
    close_old_connections()
    prop = bookable_property(nightly="100.00")
    guest = verified_guest()
    today = timezone.now().date()
    outcome = services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=today + timedelta(days=20),
        check_out=today + timedelta(days=23), guests=2, stay_type="standard",
        amount=Decimal("250.00"),
    )  # fmt: skip
    return outcome.negotiation, guest, prop.host


def assert_negotiation_consistent(negotiation_id: int) -> None:
    """DESIGN.md section 3, checked on the stored rows."""
    negotiation = Negotiation.objects.get(pk=negotiation_id)
    seqs = list(
        Event.objects.filter(negotiation=negotiation).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, negotiation.last_seq + 1))
    offers = list(negotiation.offers.order_by("created_at", "pk"))
    guest_offers = [o.amount for o in offers if o.side == "guest"]
    host_offers = [o.amount for o in offers if o.side == "host"]
    assert guest_offers == sorted(guest_offers), "guest offers went down"
    assert host_offers == sorted(host_offers, reverse=True), "host counters went up"
    assert all(a < negotiation.list_total for a in guest_offers)
    last_guest = None
    for offer in offers:
        if offer.side == "guest":
            last_guest = offer.amount
        elif last_guest is not None:
            assert offer.amount > last_guest, "host counter not above the guest's last offer"
    for previous, offer in itertools.pairwise(offers):
        assert previous.side != offer.side, "two offers in a row from one side"
    assert len(guest_offers) == negotiation.guest_rounds <= 5
    assert len(host_offers) == negotiation.host_rounds <= 5
    if negotiation.status == "open" and offers:
        assert negotiation.turn != offers[-1].side
    bookings = Booking.objects.filter(
        guest=negotiation.guest,
        property=negotiation.property,
        check_in=negotiation.check_in,
        check_out=negotiation.check_out,
    )
    assert bookings.count() <= 1
    if negotiation.status == "accepted":
        assert negotiation.booking_id is not None and bookings.count() == 1
        assert negotiation.booking.total in {o.amount for o in offers}
    else:
        assert negotiation.booking_id is None and bookings.count() == 0


# --- tests ----------------------------------------------------------------------------------


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    layer = get_channel_layer()
    if hasattr(layer, "flush"):  # the Redis layers hold connections bound to this loop
        loop.run_until_complete(layer.flush())
    loop.close()


@FUZZ
@given(script=party_frames)
@example(script=[(side, frame) for frame in REGRESSIONS for side in ("guest", "host")])
def test_negotiation_socket_answers_every_frame_and_stays_consistent(unlimited, loop, script):
    negotiation, guest, host = _open_negotiation()

    async def run():
        parties = {}
        for side, user in (("guest", guest), ("host", host)):
            ws = _socket(f"/ws/negotiations/{negotiation.pk}/?after=0", user)
            assert (await ws.connect())[0]
            parties[side] = Party(ws)
        try:
            for side, (kind, payload) in script:
                answers = await parties[side].exchange(kind, payload)
                _check_answers(kind, payload, answers)
            last_seq = await database_sync_to_async(
                lambda: Negotiation.objects.get(pk=negotiation.pk).last_seq
            )()
            for party in parties.values():
                await party.until_seq(last_seq)
                await party.drain()
        finally:
            for party in parties.values():
                await party.ws.disconnect()
        return parties

    parties = loop.run_until_complete(run())
    close_old_connections()
    assert_negotiation_consistent(negotiation.pk)
    last_seq = Negotiation.objects.get(pk=negotiation.pk).last_seq
    for party in parties.values():
        assert party.events == list(range(1, last_seq + 1)), "a socket saw a gap or a duplicate"


always_answered = st.one_of(
    st.just('{"type": "ping"}'),
    st.just('{"type": "nope", "client_id": "x"}'),
    st.just("not json"),
    st.just('{"type": "offer", "amount": "1.00", "client_id": "f"}'),
    st.just('{"type": "message", "body": "hi", "client_id": "m"}'),
)


@settings(FUZZ, max_examples=6)
@given(flood=st.lists(always_answered, min_size=25, max_size=60))
def test_negotiation_flood_beyond_the_rate_limit_is_answered_frame_by_frame(loop, flood):
    negotiation, guest, _host = _open_negotiation()

    async def run():
        ws = _socket(f"/ws/negotiations/{negotiation.pk}/?after={negotiation.last_seq}", guest)
        assert (await ws.connect())[0]
        party = Party(ws)
        try:
            for payload in flood:
                await ws.send_to(text_data=payload)
            answers = []
            while len(answers) < len(flood):
                frame = await party.next_frame()
                if frame.get("type") in {"ack", "error", "pong"}:
                    answers.append(frame)
            late = await party.drain()
            assert all(f.get("type") not in {"ack", "error", "pong"} for f in late), late
        finally:
            await ws.disconnect()
        return answers

    answers = loop.run_until_complete(run())
    limited = [a for a in answers if a.get("code") == "rate_limited"]
    assert len(limited) >= len(flood) - consumers.BURST - 5
    assert len(answers) - len(limited) <= consumers.BURST + 5
    close_old_connections()
    assert_negotiation_consistent(negotiation.pk)


@settings(FUZZ, max_examples=4)
@given(
    flood=st.lists(
        st.sampled_from(['{"type": "ping"}', '{"type": "nope"}', "not json", "[1]"]),
        min_size=25,
        max_size=60,
    )
)
def test_notification_flood_beyond_the_rate_limit_is_answered_frame_by_frame(loop, flood):
    """The same limit as the negotiation socket's (core.consumers), frame by frame."""
    close_old_connections()
    user = verified_guest()

    async def run():
        ws = _socket("/ws/notifications/", user)
        assert (await ws.connect())[0]
        assert await ws.receive_json_from(timeout=REPLY_TIMEOUT) == {"type": "unread", "count": 0}
        try:
            for payload in flood:
                await ws.send_to(text_data=payload)
            answers = [await ws.receive_json_from(timeout=REPLY_TIMEOUT) for _ in flood]
            assert await ws.receive_nothing(timeout=0.3)
        finally:
            await ws.disconnect()
        return answers

    answers = loop.run_until_complete(run())
    assert all(a.get("type") in {"error", "pong"} for a in answers), answers
    limited = [a for a in answers if a.get("code") == "rate_limited"]
    assert len(limited) >= len(flood) - consumers.BURST - 5
    assert len(answers) - len(limited) <= consumers.BURST + 5


@FUZZ
@given(frames=st.lists(raw_frames, max_size=20))
@example(frames=REGRESSIONS)
def test_notification_socket_answers_every_frame_and_stays_open(unlimited, loop, frames):
    close_old_connections()
    user = verified_guest()

    async def run():
        ws = _socket("/ws/notifications/", user)
        assert (await ws.connect())[0]
        assert await ws.receive_json_from(timeout=REPLY_TIMEOUT) == {"type": "unread", "count": 0}
        try:
            for kind, payload in frames:
                if kind == "text":
                    await ws.send_to(text_data=payload)
                else:
                    await ws.send_to(bytes_data=payload)
                message = await ws.receive_output(timeout=REPLY_TIMEOUT)
                assert message["type"] == "websocket.send", f"closed on {payload[:100]!r}"
                frame = json.loads(message["text"])
                if _is_ping(kind, payload):
                    assert frame == {"type": "pong"}
                else:
                    assert frame["type"] == "error" and frame["code"] in {
                        "bad_frame",
                        "bad_json",
                        "unknown_type",
                    }, frame
            await ws.send_to(text_data='{"type": "ping"}')
            assert await ws.receive_json_from(timeout=REPLY_TIMEOUT) == {"type": "pong"}
        finally:
            await ws.disconnect()

    loop.run_until_complete(run())

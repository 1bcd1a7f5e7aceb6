"""What both sockets share (core.consumers), tried on both through the real ASGI app:
one frame size limit in bytes of UTF-8, one rate limit, one error shape, and the
``?after=`` bounds."""

from datetime import timedelta
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from bookings.tests.factories import bookable_property, verified_guest
from config.asgi import application
from core.consumers import BURST, MAX_AFTER, MAX_FRAME_BYTES
from negotiation import services
from notifications.services import notify

pytestmark = pytest.mark.django_db(transaction=True)
SOCKETS = ["negotiation", "notifications"]


@database_sync_to_async
def _guest_with_a_negotiation():
    prop = bookable_property(nightly="100.00")
    guest = verified_guest()
    check_in = timezone.now().date() + timedelta(days=20)
    negotiation = services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=check_in,
        check_out=check_in + timedelta(days=3), guests=1, stay_type="standard",
        amount=Decimal("250.00"),
    ).negotiation  # fmt: skip
    return guest, negotiation


async def _open(path: str, user) -> tuple[WebsocketCommunicator, list[dict]]:
    """An open socket, and what it sent on connect."""
    ws = WebsocketCommunicator(
        application,
        path,
        headers=[
            (b"origin", b"http://localhost"),
            (b"authorization", f"Bearer {AccessToken.for_user(user)}".encode()),
        ],
    )
    assert (await ws.connect())[0]
    frames = []
    while not await ws.receive_nothing(timeout=0.3):
        frames.append(await ws.receive_json_from(timeout=3))
    return ws, frames


async def _connected(socket: str, query: str = "") -> tuple[WebsocketCommunicator, dict]:
    """A guest's open socket of ``socket``'s kind, past what it sends on connect."""
    guest, negotiation = await _guest_with_a_negotiation()
    path = (
        f"/ws/negotiations/{negotiation.pk}/" if socket == "negotiation" else "/ws/notifications/"
    )
    ws, opened = await _open(path + query, guest)
    return ws, {"guest": guest, "negotiation": negotiation, "opened": opened}


def _frame_of(size: int) -> str:
    """A JSON object of an unknown type, ``size`` bytes of UTF-8 long, mostly two-byte
    characters (fewer characters than bytes)."""
    head, tail = '{"type": "nope", "pad": "', '"}'
    room = size - len(head) - len(tail)
    return head + "é" * (room // 2) + "x" * (room % 2) + tail


@pytest.mark.parametrize("socket", SOCKETS)
async def test_the_frame_limit_is_bytes_of_utf8_on_both_sockets(socket):
    ws, _ = await _connected(socket)
    fits, too_big = _frame_of(MAX_FRAME_BYTES), _frame_of(MAX_FRAME_BYTES + 1)
    assert len(fits.encode()) == MAX_FRAME_BYTES and len(too_big) < MAX_FRAME_BYTES
    await ws.send_to(text_data=fits)
    assert (await ws.receive_json_from(timeout=3))["code"] == "unknown_type"
    await ws.send_to(text_data=too_big)
    assert await ws.receive_json_from(timeout=3) == {
        "type": "error",
        "code": "bad_frame",
        "detail": "Send JSON text frames of at most 16 KB.",
        "client_id": None,
    }
    await ws.send_to(bytes_data=b"{}")
    assert (await ws.receive_json_from(timeout=3))["code"] == "bad_frame"
    await ws.disconnect()


@pytest.mark.parametrize("socket", SOCKETS)
async def test_both_sockets_have_the_same_rate_limit(socket):
    ws, _ = await _connected(socket)
    for _ in range(BURST + 10):
        await ws.send_to(text_data='{"type": "ping"}')
    answers = [await ws.receive_json_from(timeout=3) for _ in range(BURST + 10)]
    limited = [a for a in answers if a.get("code") == "rate_limited"]
    assert answers[:BURST] == [{"type": "pong"}] * BURST
    assert 5 <= len(limited) <= 10  # a few tokens come back while the flood is sent
    assert limited[0] == {
        "type": "error",
        "code": "rate_limited",
        "detail": "Too many frames; slow down.",
        "client_id": None,
    }
    await ws.disconnect()


@pytest.mark.parametrize("socket", SOCKETS)
@pytest.mark.parametrize("after", [str(MAX_AFTER), str(MAX_AFTER + 1), "9" * 30])
async def test_an_after_beyond_the_log_replays_nothing(socket, after):
    ws, opened = await _connected(socket, f"?after={after}")
    kinds = [frame["type"] for frame in opened["opened"]]
    assert "event" not in kinds and "notification" not in kinds, opened["opened"]
    await ws.send_to(text_data='{"type": "ping"}')
    assert await ws.receive_json_from(timeout=3) == {"type": "pong"}
    await ws.disconnect()


@pytest.mark.parametrize("socket", SOCKETS)
@pytest.mark.parametrize("after", ["-5", "abc", "1.5"])
async def test_an_after_that_is_no_position_replays_everything(socket, after):
    ws, opened = await _connected(socket, f"?after={after}")
    if socket == "negotiation":
        seqs = [f["seq"] for f in opened["opened"] if f["type"] == "event"]
        assert seqs == list(range(1, opened["negotiation"].last_seq + 1))
    else:
        assert [f["type"] for f in opened["opened"]] == ["unread"]
        made = await database_sync_to_async(notify)(
            user_id=opened["guest"].pk, kind="superhost.gained", data={}, email=False
        )
        again, replayed = await _open(f"/ws/notifications/?after={after}", opened["guest"])
        ids = [f["id"] for f in replayed if f["type"] == "notification"]
        assert ids == [made.pk]
        await again.disconnect()
    await ws.disconnect()

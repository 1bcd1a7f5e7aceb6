"""The negotiation socket through Channels' communicator: auth and access, replay, live
events from REST and socket actions, acks and errors, malformed frames, rate limit."""

import dataclasses
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from bookings.tests.factories import bookable_property, client_for, verified_guest
from config.asgi import application
from negotiation import services
from negotiation.models import Event, Negotiation

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = timezone.now().date()


def _socket(nid, user=None, after=None):
    path = f"/ws/negotiations/{nid}/" + (f"?after={after}" if after is not None else "")
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        headers.append((b"authorization", f"Bearer {AccessToken.for_user(user)}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


@database_sync_to_async
def _setup(amount="300.00"):
    prop = bookable_property(nightly="100.00")
    guest = verified_guest()
    outcome = services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=TODAY + timedelta(days=20),
        check_out=TODAY + timedelta(days=23), guests=2, stay_type="standard", amount=amount,
    )  # fmt: skip
    return outcome.negotiation, guest, prop.host


async def _frames_until(ws, predicate, limit=20):
    frames = []
    for _ in range(limit):
        frame = await ws.receive_json_from(timeout=3)
        frames.append(frame)
        if predicate(frame):
            return frames
    raise AssertionError(f"no matching frame in {frames}")


async def test_close_codes_for_anonymous_strangers_and_missing():
    negotiation, guest, _host = await _setup()
    for user, nid, code in [
        (None, negotiation.pk, 4401),
        (await database_sync_to_async(verified_guest)(), negotiation.pk, 4403),
        (guest, 999999, 4404),
    ]:
        ws = _socket(nid, user)
        connected, _ = await ws.connect()
        assert connected
        assert (await ws.receive_output(timeout=3))["code"] == code
        await ws.disconnect()


async def test_replay_after_seq_then_live_events_from_rest_in_order():
    negotiation, guest, host = await _setup()
    ws = _socket(negotiation.pk, guest, after=0)
    assert (await ws.connect())[0]
    replayed = await _frames_until(ws, lambda f: f.get("seq") == negotiation.last_seq)
    assert [f["seq"] for f in replayed if f["type"] == "event"] == list(
        range(1, negotiation.last_seq + 1)
    )
    response = await database_sync_to_async(client_for(host).post)(
        f"/api/v1/negotiations/{negotiation.pk}/offers/", {"amount": "350.00"}
    )
    assert response.status_code == 200
    live = await _frames_until(ws, lambda f: f.get("type") == "event")
    event = live[-1]
    assert event["event"] == "offer.created" and event["seq"] == negotiation.last_seq + 1
    assert event["data"]["amount"] == "350.00" and event["data"]["turn"] == "guest"
    await ws.disconnect()


async def test_socket_actions_are_acked_and_visible_over_rest():
    negotiation, guest, host = await _setup()
    host_ws = _socket(negotiation.pk, host, after=negotiation.last_seq)
    guest_ws = _socket(negotiation.pk, guest, after=negotiation.last_seq)
    assert (await host_ws.connect())[0] and (await guest_ws.connect())[0]
    await host_ws.send_json_to({"type": "offer", "amount": "345.00", "client_id": "c1"})
    frames = await _frames_until(host_ws, lambda f: f.get("type") == "ack")
    ack = frames[-1]
    assert ack["client_id"] == "c1" and ack["seq"] == negotiation.last_seq + 1
    seen = await _frames_until(guest_ws, lambda f: f.get("type") == "event")
    assert seen[-1]["event"] == "offer.created"
    await guest_ws.send_json_to({"type": "accept", "client_id": "c2"})
    await _frames_until(guest_ws, lambda f: f.get("type") == "ack" and f.get("client_id") == "c2")
    detail = await database_sync_to_async(client_for(guest).get)(
        f"/api/v1/negotiations/{negotiation.pk}/"
    )
    assert detail.json()["status"] == "accepted" and detail.json()["booking"]
    await host_ws.disconnect()
    await guest_ws.disconnect()


async def test_refused_actions_and_bad_frames_get_errors_and_the_socket_stays_open():
    negotiation, guest, _host = await _setup()
    ws = _socket(negotiation.pk, guest, after=negotiation.last_seq)
    assert (await ws.connect())[0]
    cases = [
        ({"type": "offer", "amount": "310.00", "client_id": "a"}, "not_your_turn"),
        ({"type": "offer", "amount": "NaN", "client_id": "b"}, "invalid"),
        ({"type": "offer", "amount": "1e400", "client_id": "c"}, "invalid"),
        ({"type": "offer", "amount": 12.5, "client_id": "c2"}, "not_your_turn"),
        ({"type": "message", "body": "", "client_id": "d"}, "invalid"),
        ({"type": "fly", "client_id": "e"}, "unknown_type"),
        ({"type": "read", "seq": "x"}, "invalid"),
    ]
    for frame, code in cases:
        await ws.send_json_to(frame)
        reply = (await _frames_until(ws, lambda f: f.get("type") == "error"))[-1]
        assert reply["code"] == code, (frame, reply)
    await ws.send_to(text_data="{not json")
    assert (await _frames_until(ws, lambda f: f.get("type") == "error"))[-1]["code"] == "bad_json"
    await ws.send_to(text_data="[1, 2]")
    assert (await _frames_until(ws, lambda f: f.get("type") == "error"))[-1]["code"] == "bad_frame"
    await ws.send_to(text_data="x" * (17 * 1024))
    assert (await _frames_until(ws, lambda f: f.get("type") == "error"))[-1]["code"] == "bad_frame"
    await ws.send_json_to({"type": "ping"})
    assert (await _frames_until(ws, lambda f: f.get("type") == "pong"))[-1] == {"type": "pong"}
    n = await database_sync_to_async(Negotiation.objects.get)(pk=negotiation.pk)
    assert n.last_seq == negotiation.last_seq
    assert (
        await database_sync_to_async(Event.objects.filter(negotiation=n).count)()
        == negotiation.last_seq
    )
    await ws.disconnect()


async def test_flood_is_rate_limited_and_the_socket_survives():
    negotiation, guest, _host = await _setup()
    ws = _socket(negotiation.pk, guest, after=negotiation.last_seq)
    assert (await ws.connect())[0]
    for _ in range(40):
        await ws.send_json_to({"type": "ping"})
    frames = [await ws.receive_json_from(timeout=3) for _ in range(40)]
    assert any(f.get("code") == "rate_limited" for f in frames)
    assert any(f == {"type": "pong"} for f in frames)
    await ws.disconnect()


async def test_typing_and_read_receipts_reach_the_other_side_only():
    negotiation, guest, host = await _setup()
    guest_ws = _socket(negotiation.pk, guest, after=negotiation.last_seq)
    host_ws = _socket(negotiation.pk, host, after=negotiation.last_seq)
    assert (await guest_ws.connect())[0] and (await host_ws.connect())[0]
    joined = await _frames_until(guest_ws, lambda f: f.get("type") == "presence")
    assert joined[-1] == {"type": "presence", "user": host.pk, "state": "joined"}
    await guest_ws.send_json_to({"type": "typing"})
    typing = await _frames_until(host_ws, lambda f: f.get("type") == "typing")
    assert typing[-1] == {"type": "typing", "user": guest.pk}
    await host_ws.send_json_to({"type": "read", "seq": negotiation.last_seq})
    read = await _frames_until(guest_ws, lambda f: f.get("type") == "read")
    assert read[-1] == {"type": "read", "user": host.pk, "seq": negotiation.last_seq}
    await host_ws.disconnect()
    left = await _frames_until(guest_ws, lambda f: f.get("type") == "presence")
    assert left[-1]["state"] == "left"
    await guest_ws.disconnect()


@pytest.mark.parametrize("commit", ["before_log_read", "after_log_read"])
async def test_an_event_committed_during_replay_is_sent_once_in_order(monkeypatch, commit):
    """The interleaving the consumer guards against: an event committed while the replay
    reads the log arrives both in the log and live (or only live); the client sees each
    seq exactly once, in order."""
    from negotiation import consumers

    negotiation, guest, host = await _setup()
    real_events_after = consumers._events_after

    @database_sync_to_async
    def post_message():
        services.negotiation_message(negotiation_id=negotiation.pk, user=host, body="during replay")

    async def events_after_with_interleaving(negotiation_id, after):
        if commit == "before_log_read":
            await post_message()
            return await real_events_after(negotiation_id, after)
        frames = await real_events_after(negotiation_id, after)
        await post_message()
        return frames

    monkeypatch.setattr(consumers, "_events_after", events_after_with_interleaving)
    ws = _socket(negotiation.pk, guest, after=0)
    assert (await ws.connect())[0]
    expected_last = negotiation.last_seq + 1
    frames = await _frames_until(ws, lambda f: f.get("seq") == expected_last)
    seqs = [f["seq"] for f in frames if f.get("type") == "event"]
    assert seqs == list(range(1, expected_last + 1))
    monkeypatch.setattr(consumers, "_events_after", real_events_after)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=3) == {"type": "pong"}  # nothing else queued
    await ws.disconnect()


async def test_a_database_outage_is_an_error_frame_or_close_1013_never_a_crash(monkeypatch):
    """In-process counterpart of tests/faults (a real PostgreSQL stopped there)."""
    from django.db import OperationalError

    from negotiation import consumers

    negotiation, guest, _host = await _setup()
    ws = _socket(negotiation.pk, guest)
    await ws.connect()
    await _frames_until(ws, lambda f: f.get("type") == "event")

    def database_down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    message = dataclasses.replace(consumers.ACTIONS["message"], service=database_down)
    monkeypatch.setitem(consumers.ACTIONS, "message", message)
    await ws.send_json_to({"type": "message", "body": "hello?", "client_id": "m1"})
    frame = (await _frames_until(ws, lambda f: f.get("client_id") == "m1"))[-1]
    assert (frame["type"], frame["code"], frame["client_id"]) == (
        "error", "service_unavailable", "m1",
    )  # fmt: skip
    await ws.send_json_to({"type": "ping"})
    await _frames_until(ws, lambda f: f["type"] == "pong")  # still usable
    await ws.disconnect()

    monkeypatch.setattr(consumers, "_side", database_sync_to_async(database_down))
    again = _socket(negotiation.pk, guest)
    await again.connect()
    assert (await again.receive_output(timeout=3))["code"] == consumers.TRY_AGAIN_LATER
    await again.disconnect()


async def test_an_unverified_party_opens_no_socket():
    """Issue 18: an account whose email is not verified opens no sockets (4401, as not
    authenticated); it still reads the negotiation over REST, where acting is 403
    (tests/test_access_matrix.py)."""
    negotiation, guest, _host = await _setup()
    guest.email_verified_at = None
    await database_sync_to_async(guest.save)(update_fields=["email_verified_at"])
    ws = _socket(negotiation.pk, guest)
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_output(timeout=3))["code"] == 4401
    await ws.disconnect()


async def test_frames_and_deliveries_do_not_hop_to_the_shared_sync_thread(monkeypatch):
    """Channels' ``AsyncConsumer.dispatch`` would run ``close_old_connections`` in the
    process's one sync thread before every frame and every delivered event
    (``core.consumers.AsyncJsonConsumer``); ours does not."""
    import channels.consumer

    hops = []

    async def counting_cleanup():
        hops.append(1)

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counting_cleanup)
    negotiation, guest, host = await _setup()
    guest_ws = _socket(negotiation.pk, guest, after=negotiation.last_seq)
    host_ws = _socket(negotiation.pk, host, after=negotiation.last_seq)
    assert (await guest_ws.connect())[0] and (await host_ws.connect())[0]
    await guest_ws.send_json_to({"type": "ping"})
    assert (await _frames_until(guest_ws, lambda f: f["type"] == "pong"))[-1] == {"type": "pong"}
    await guest_ws.send_json_to({"type": "message", "body": "hello", "client_id": "m1"})
    event = (await _frames_until(host_ws, lambda f: f["type"] == "event"))[-1]
    assert event["event"] == "message.created" and event["data"]["body"] == "hello"
    assert hops == []
    await guest_ws.disconnect()
    await host_ws.disconnect()


# Bodies the REST endpoint refuses with 400: the socket refuses the same frames with
# ``invalid``, naming the field, and applies nothing (the same serializers validate both).
REFUSED = [
    ("offers", "offer", {"amount": "0.001"}, "amount"),
    ("offers", "offer", {"amount": "abc"}, "amount"),
    ("offers", "offer", {"amount": True}, "amount"),
    ("offers", "offer", {"amount": "1e400"}, "amount"),
    ("offers", "offer", {"amount": "0"}, "amount"),
    ("offers", "offer", {"amount": "350.00", "message": None}, "message"),
    ("offers", "offer", {"amount": "350.00", "message": "bell \x07"}, "message"),
    ("messages", "message", {"body": ""}, "body"),
    ("messages", "message", {"body": "   "}, "body"),
    ("messages", "message", {"body": "x" * 2001}, "body"),
    ("messages", "message", {"body": None}, "body"),
    ("messages", "message", {"body": "nul \x00"}, "body"),
    ("read", "read", {"seq": -1}, "seq"),
    ("read", "read", {"seq": 2**31}, "seq"),
    ("read", "read", {"seq": "x"}, "seq"),
]


@pytest.mark.parametrize(("endpoint", "frame_type", "fields", "field"), REFUSED)
async def test_socket_frames_are_refused_as_rest_refuses_their_body(
    endpoint, frame_type, fields, field
):
    negotiation, _guest, host = await _setup()
    response = await database_sync_to_async(client_for(host).post)(
        f"/api/v1/negotiations/{negotiation.pk}/{endpoint}/", fields, format="json"
    )
    assert response.status_code == 400, response.json()
    ws = _socket(negotiation.pk, host, after=negotiation.last_seq)
    assert (await ws.connect())[0]
    await ws.send_json_to({"type": frame_type, "client_id": "c", **fields})
    error = (await _frames_until(ws, lambda f: f.get("type") == "error"))[-1]
    assert (error["code"], error["client_id"]) == ("invalid", "c")
    assert error["detail"].startswith(f"{field}: ")
    await ws.disconnect()
    stored = await database_sync_to_async(Negotiation.objects.get)(pk=negotiation.pk)
    assert stored.last_seq == negotiation.last_seq


async def test_a_socket_message_is_stored_as_rest_stores_it():
    """Trimmed and with line breaks normalised, as the REST body (MessageInSerializer)."""
    negotiation, guest, host = await _setup()
    ws = _socket(negotiation.pk, guest, after=negotiation.last_seq)
    assert (await ws.connect())[0]
    await ws.send_json_to({"type": "message", "body": "  Hello\r\nthere  ", "client_id": "m"})
    await _frames_until(ws, lambda f: f.get("type") == "ack")
    await ws.disconnect()
    await database_sync_to_async(client_for(host).post)(
        f"/api/v1/negotiations/{negotiation.pk}/messages/",
        {"body": "  Hello\r\nthere  "},
        format="json",
    )
    bodies = await database_sync_to_async(
        lambda: [e.data["body"] for e in Event.objects.filter(type="message.created")]
    )()
    assert bodies == ["Hello\nthere", "Hello\nthere"]

"""Nothing a party sends is lost or doubled (DESIGN.md section 5): actions are idempotent
by ``client_id`` per user and negotiation, over the socket and with REST's
``Idempotency-Key``; read marks are stored and replayed; presence is per person."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from bookings.models import Booking
from bookings.tests.factories import client_for
from negotiation import services
from negotiation.models import ActionReceipt, Event
from negotiation.tests.test_consumers import _frames_until, _setup, _socket

pytestmark = pytest.mark.django_db(transaction=True)


def _ack_or_error(client_id):
    return lambda f: f.get("type") in {"ack", "error"} and f.get("client_id") == client_id


@database_sync_to_async
def _events(negotiation, type=None):
    events = Event.objects.filter(negotiation=negotiation)
    if type:
        events = events.filter(type=type)
    return list(events.values_list("seq", flat=True))


async def test_the_same_message_frame_twice_and_after_a_reconnect_is_one_event():
    negotiation, guest, _host = await _setup()
    frame = {"type": "message", "body": "Is parking included?", "client_id": "m-1"}
    ws = _socket(negotiation.pk, guest)
    assert (await ws.connect())[0]
    await ws.send_json_to(frame)
    first = (await _frames_until(ws, _ack_or_error("m-1")))[-1]
    await ws.send_json_to(frame)
    second = (await _frames_until(ws, _ack_or_error("m-1")))[-1]
    assert first["type"] == second["type"] == "ack"
    assert first["seq"] == second["seq"]
    await ws.disconnect()

    again = _socket(negotiation.pk, guest, after=first["seq"])
    assert (await again.connect())[0]
    await again.send_json_to(frame)
    third = (await _frames_until(again, _ack_or_error("m-1")))[-1]
    assert third == {"type": "ack", "client_id": "m-1", "seq": first["seq"]}
    await again.disconnect()
    assert await _events(negotiation, "message.created") == [first["seq"]]


async def test_a_repeated_counter_and_accept_change_nothing():
    negotiation, guest, host = await _setup()
    host_ws, guest_ws = _socket(negotiation.pk, host), _socket(negotiation.pk, guest)
    assert (await host_ws.connect())[0] and (await guest_ws.connect())[0]
    counter = {"type": "offer", "amount": "350.00", "client_id": "c-1"}
    await host_ws.send_json_to(counter)
    acked = (await _frames_until(host_ws, _ack_or_error("c-1")))[-1]
    await host_ws.send_json_to(counter)  # a resend after a lost ack: not a second offer
    repeat = (await _frames_until(host_ws, _ack_or_error("c-1")))[-1]
    assert repeat == acked

    accept = {"type": "accept", "client_id": "a-1"}
    await guest_ws.send_json_to(accept)
    accepted = (await _frames_until(guest_ws, _ack_or_error("a-1")))[-1]
    await guest_ws.send_json_to(accept)
    accepted_again = (await _frames_until(guest_ws, _ack_or_error("a-1")))[-1]
    assert accepted["type"] == "ack" and accepted_again == accepted
    await host_ws.disconnect()
    await guest_ws.disconnect()

    assert len(await _events(negotiation, "offer.created")) == 2  # the guest's and one counter
    assert len(await _events(negotiation, "booking.created")) == 1
    count = await database_sync_to_async(Booking.objects.filter(guest=guest).count)()
    assert count == 1


async def test_a_refused_frame_is_tried_afresh_when_resent():
    negotiation, guest, host = await _setup()
    ws = _socket(negotiation.pk, guest)
    assert (await ws.connect())[0]
    frame = {"type": "offer", "amount": "320.00", "client_id": "o-2"}
    await ws.send_json_to(frame)  # the host's turn: refused, not remembered
    refused = (await _frames_until(ws, _ack_or_error("o-2")))[-1]
    assert refused["type"] == "error" and refused["code"] == "not_your_turn"
    await database_sync_to_async(services.negotiation_offer)(
        negotiation_id=negotiation.pk, user=host, amount="360.00"
    )
    await ws.send_json_to(frame)
    applied = (await _frames_until(ws, _ack_or_error("o-2")))[-1]
    assert applied["type"] == "ack"
    await ws.disconnect()


async def test_client_ids_are_per_user_and_an_over_long_one_is_refused():
    negotiation, guest, host = await _setup()
    guest_ws, host_ws = _socket(negotiation.pk, guest), _socket(negotiation.pk, host)
    assert (await guest_ws.connect())[0] and (await host_ws.connect())[0]
    await guest_ws.send_json_to({"type": "message", "body": "hi", "client_id": "same"})
    await host_ws.send_json_to({"type": "message", "body": "hello", "client_id": "same"})
    guest_ack = (await _frames_until(guest_ws, _ack_or_error("same")))[-1]
    host_ack = (await _frames_until(host_ws, _ack_or_error("same")))[-1]
    assert guest_ack["type"] == host_ack["type"] == "ack"
    assert guest_ack["seq"] != host_ack["seq"]

    for bad in ["x" * 65, "", 7]:
        await guest_ws.send_json_to({"type": "message", "body": "lost?", "client_id": bad})
        error = (await _frames_until(guest_ws, lambda f: f.get("type") == "error"))[-1]
        assert error["code"] == "invalid" and "client_id" in error["detail"]
    await guest_ws.disconnect()
    await host_ws.disconnect()
    assert len(await _events(negotiation, "message.created")) == 2


def test_rest_actions_honour_an_idempotency_key():
    negotiation, guest, host = _setup.func()
    host_client, guest_client = client_for(host), client_for(guest)
    url = f"/api/v1/negotiations/{negotiation.pk}"
    first = host_client.post(f"{url}/offers/", {"amount": "350.00"}, HTTP_IDEMPOTENCY_KEY="k1")
    again = host_client.post(f"{url}/offers/", {"amount": "350.00"}, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 200
    assert first.json()["seq"] == again.json()["seq"]
    message = guest_client.post(f"{url}/messages/", {"body": "ok"}, HTTP_IDEMPOTENCY_KEY="k2")
    repeat = guest_client.post(f"{url}/messages/", {"body": "ok"}, HTTP_IDEMPOTENCY_KEY="k2")
    assert message.status_code == repeat.status_code == 201
    assert message.json()["seq"] == repeat.json()["seq"]
    too_long = guest_client.post(f"{url}/messages/", {"body": "x"}, HTTP_IDEMPOTENCY_KEY="k" * 65)
    assert too_long.status_code == 400
    assert Event.objects.filter(negotiation=negotiation, type="offer.created").count() == 2
    assert Event.objects.filter(negotiation=negotiation, type="message.created").count() == 1
    assert ActionReceipt.objects.filter(negotiation=negotiation).count() == 2


async def test_read_marks_are_replayed_on_connect():
    negotiation, guest, host = await _setup()
    await database_sync_to_async(services.negotiation_read)(
        negotiation_id=negotiation.pk, user=host, seq=negotiation.last_seq
    )
    ws = _socket(negotiation.pk, guest, after=0)
    assert (await ws.connect())[0]
    frames = await _frames_until(ws, lambda f: f.get("type") == "read")
    assert frames[-1] == {"type": "read", "user": host.pk, "seq": negotiation.last_seq}
    events = [f["seq"] for f in frames if f["type"] == "event"]
    assert events == list(range(1, negotiation.last_seq + 1))  # after the replay
    await ws.disconnect()


async def test_presence_is_per_person_across_tabs():
    negotiation, guest, host = await _setup()
    guest_ws = _socket(negotiation.pk, guest)
    assert (await guest_ws.connect())[0]
    tab1, tab2 = _socket(negotiation.pk, host), _socket(negotiation.pk, host)
    assert (await tab1.connect())[0] and (await tab2.connect())[0]
    await _frames_until(guest_ws, lambda f: f.get("type") == "presence")
    await tab1.disconnect()  # one tab closed: the host is still here
    await asyncio.sleep(0.3)
    await guest_ws.send_json_to({"type": "ping"})
    after_one = await _frames_until(guest_ws, lambda f: f.get("type") == "pong")
    assert not [f for f in after_one if f.get("state") == "left"]
    await tab2.disconnect()  # the last one: now the host is away
    left = (await _frames_until(guest_ws, lambda f: f.get("state") == "left"))[-1]
    assert left == {"type": "presence", "user": host.pk, "state": "left"}
    await guest_ws.disconnect()

"""In-app notifications: created by the other apps' services, listed unread first, marked
read, streamed live and replayed with ?after= on /ws/notifications/."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from bookings.tests.factories import bookable_property, client_for, verified_guest
from config.asgi import application
from notifications.models import Notification

TODAY = timezone.now().date()


def _book(client, prop, days=20):
    return client.post(
        "/api/v1/bookings/",
        {"property": prop.pk, "check_in": (TODAY + timedelta(days=days)).isoformat(),
         "check_out": (TODAY + timedelta(days=days + 2)).isoformat(), "guests": 1,
         "stay_type": "standard", "payment_token": "tok_ok"},
    )  # fmt: skip


@pytest.mark.django_db
def test_booking_request_notifies_the_host_not_the_guest_and_lists_unread_first():
    prop = bookable_property(instant_book=False)
    guest = verified_guest()
    booking = _book(client_for(guest), prop).json()
    host = client_for(prop.host)
    rows = host.get("/api/v1/notifications/").json()["results"]
    assert [r["kind"] for r in rows] == ["booking.pending_host"]
    assert rows[0]["data"]["id"] == booking["id"] and rows[0]["read"] is False
    assert client_for(guest).get("/api/v1/notifications/").json()["results"] == []
    host.post(f"/api/v1/bookings/{booking['id']}/approve/")
    guest_rows = client_for(guest).get("/api/v1/notifications/").json()["results"]
    assert [r["kind"] for r in guest_rows] == ["booking.confirmed"]
    # the host approved: their copy of the confirmation is a receipt in the inbox
    host_rows = host.get("/api/v1/notifications/").json()["results"]
    assert sorted(r["kind"] for r in host_rows) == ["booking.confirmed", "booking.pending_host"]
    assert host.post("/api/v1/notifications/read/", {"all": True}).json() == {"marked": 2}

    _book(client_for(verified_guest()), prop, days=40)
    first = host.get("/api/v1/notifications/").json()["results"]
    assert host.post("/api/v1/notifications/read/", {"ids": [first[0]["id"]]}).json() == {
        "marked": 1
    }
    after = host.get("/api/v1/notifications/").json()["results"]
    assert [r["read"] for r in after] == [True, True, True]
    _book(client_for(verified_guest()), prop, days=50)
    assert host.post("/api/v1/notifications/read/", {"all": True}).json() == {"marked": 1}


@pytest.mark.django_db
def test_marking_someone_elses_or_unknown_notifications_is_404_and_changes_nothing():
    prop = bookable_property(instant_book=False)
    _book(client_for(verified_guest()), prop)
    theirs = Notification.objects.get(user=prop.host)
    stranger = client_for(verified_guest())
    response = stranger.post("/api/v1/notifications/read/", {"ids": [theirs.pk]})
    assert response.status_code == 404
    assert stranger.post("/api/v1/notifications/read/", {"ids": [999999]}).status_code == 404
    assert stranger.post("/api/v1/notifications/read/", {}).status_code == 400
    assert stranger.post("/api/v1/notifications/read/", {"ids": ["x"]}).status_code == 400
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.django_db
def test_preferences_are_per_kind():
    client = client_for(verified_guest())
    assert (
        client.put(
            "/api/v1/notifications/preferences/", {"kind": "review.invitation", "email": False}
        ).status_code
        == 200
    )
    assert client.get("/api/v1/notifications/preferences/").json() == [
        {"kind": "review.invitation", "email": False}
    ]
    assert (
        client.put(
            "/api/v1/notifications/preferences/", {"kind": "DROP TABLE", "email": False}
        ).status_code
        == 400
    )


def _socket(user, after=None):
    path = "/ws/notifications/" + (f"?after={after}" if after is not None else "")
    headers = [
        (b"origin", b"http://localhost"),
        (b"authorization", f"Bearer {AccessToken.for_user(user)}".encode()),
    ]
    return WebsocketCommunicator(application, path, headers=headers)


async def _next_notification(ws):
    for _ in range(10):
        frame = await ws.receive_json_from(timeout=3)
        if frame.get("type") == "notification":
            return frame
    raise AssertionError("no notification frame")


@pytest.mark.django_db(transaction=True)
async def test_notifications_stream_live_and_replay_after_an_id():
    prop = await database_sync_to_async(bookable_property)(instant_book=False)
    guest = await database_sync_to_async(verified_guest)()
    host = prop.host
    ws = _socket(host)
    assert (await ws.connect())[0]
    await database_sync_to_async(_book)(client_for(guest), prop)
    live = await _next_notification(ws)
    assert live["kind"] == "booking.pending_host"
    await ws.disconnect()
    # Missed while offline:
    await database_sync_to_async(_book)(
        client_for(await database_sync_to_async(verified_guest)()), prop, 40
    )
    again = _socket(host, after=live["id"])
    assert (await again.connect())[0]
    replayed = await _next_notification(again)
    assert replayed["id"] > live["id"] and replayed["kind"] == "booking.pending_host"
    assert await again.receive_json_from(timeout=3) == {"type": "unread", "count": 2}
    await again.send_json_to({"type": "ping"})
    assert await again.receive_json_from(timeout=3) == {"type": "pong"}
    await again.send_to(text_data="nope")
    assert (await again.receive_json_from(timeout=3))["code"] == "bad_json"
    await again.disconnect()

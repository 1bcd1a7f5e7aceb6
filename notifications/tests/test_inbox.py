"""Notifications behave like an inbox (issue 20): an unread count in the list and on the
socket; keyset paging, newest first, that neither new items nor read state shift; marking
read reaches every open socket of the user; a socket ends with its access token (4401);
payment and booking emails cannot be turned off."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from bookings.tests.factories import client_for, verified_guest
from config.asgi import application
from notifications.models import Notification
from notifications.services import notifications_mark_read, notify


def _make(user, count):
    return [notify(user_id=user.pk, kind="review.published", data={"n": n}) for n in range(count)]


def _ids(page):
    return [row["id"] for row in page["results"]]


@pytest.mark.django_db
def test_list_carries_unread_count_and_pages_stay_put_when_items_are_read_or_arrive():
    user = verified_guest()
    made = _make(user, 25)
    client = client_for(user)
    first = client.get("/api/v1/notifications/", {"page_size": 10}).json()
    assert first["unread_count"] == 25
    assert _ids(first) == [n.pk for n in reversed(made)][:10]  # newest first
    # Read page 1 (as a user would), and new items arrive meanwhile:
    assert client.post("/api/v1/notifications/read/", {"ids": _ids(first)}).json() == {"marked": 10}
    _make(user, 3)
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert _ids(second) + _ids(third) == [n.pk for n in reversed(made)][10:]  # none skipped
    assert third["next"] is None and second["unread_count"] == 25 - 10 + 3
    again = client.get("/api/v1/notifications/", {"page_size": 10}).json()
    assert [row["read"] for row in again["results"]] == [False] * 3 + [True] * 7


@pytest.mark.django_db
def test_list_counts_queries_and_refuses_a_bad_page_size(django_assert_max_num_queries):
    user = verified_guest()
    _make(user, 30)
    client = client_for(user)
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/notifications/").json()["results"]) > 0
    assert client.get("/api/v1/notifications/", {"page_size": 1000}).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["booking.awaiting_payment", "booking.confirmed"])
def test_payment_emails_cannot_be_turned_off(kind):
    client = client_for(verified_guest())
    response = client.put("/api/v1/notifications/preferences/", {"kind": kind, "email": False})
    assert response.status_code == 400
    assert "cannot be turned off" in response.json()["errors"][0]["detail"]
    assert client.get("/api/v1/notifications/preferences/").json() == []
    ok = client.put("/api/v1/notifications/preferences/", {"kind": kind, "email": True})
    assert ok.status_code == 200
    optional = {"kind": "review.invitation", "email": False}
    assert client.put("/api/v1/notifications/preferences/", optional).status_code == 200


def _socket(user, lifetime=None):
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    headers = [(b"origin", b"http://localhost"), (b"authorization", f"Bearer {token}".encode())]
    return WebsocketCommunicator(application, "/ws/notifications/", headers=headers)


async def _frame(ws, kind):
    for _ in range(10):
        frame = await ws.receive_json_from(timeout=3)
        if frame.get("type") == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


@pytest.mark.django_db(transaction=True)
async def test_two_tabs_get_the_unread_count_and_each_others_reads():
    user = await database_sync_to_async(verified_guest)()
    made = await database_sync_to_async(_make)(user, 3)
    tabs = [_socket(user), _socket(user)]
    for tab in tabs:
        assert (await tab.connect())[0]
        assert await tab.receive_json_from(timeout=3) == {"type": "unread", "count": 3}
    # a new notification: both tabs get it, then the new count
    new = await database_sync_to_async(notify)(user_id=user.pk, kind="review.published", data={})
    for tab in tabs:
        assert (await _frame(tab, "notification"))["id"] == new.pk
        assert await tab.receive_json_from(timeout=3) == {"type": "unread", "count": 4}
    # tab 1 marks one read over REST: both tabs hear it
    response = await database_sync_to_async(client_for(user).post)(
        "/api/v1/notifications/read/", {"ids": [made[0].pk]}, format="json"
    )
    assert response.json() == {"marked": 1}
    for tab in tabs:
        read = await _frame(tab, "read")
        assert read["ids"] == [made[0].pk]
        assert await tab.receive_json_from(timeout=3) == {"type": "unread", "count": 3}
    # mark all
    await database_sync_to_async(notifications_mark_read)(user=user)
    for tab in tabs:
        read = await _frame(tab, "read")
        assert sorted(read["ids"]) == sorted([n.pk for n in made[1:]] + [new.pk])
        assert await tab.receive_json_from(timeout=3) == {"type": "unread", "count": 0}
        await tab.disconnect()
    assert (
        await database_sync_to_async(Notification.objects.filter(user=user, read_at=None).count)()
        == 0
    )


@pytest.mark.django_db(transaction=True)
async def test_socket_closes_with_4401_when_its_access_token_expires():
    user = await database_sync_to_async(verified_guest)()
    ws = _socket(user, lifetime=timedelta(seconds=2))
    assert (await ws.connect())[0]
    assert (await ws.receive_json_from(timeout=3))["type"] == "unread"
    await asyncio.sleep(0.5)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=3) == {"type": "pong"}  # alive before expiry
    closed = await ws.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4401}
    await ws.disconnect()

"""Negotiation amounts are written with the currency's minor unit (issue 19): JPY without
decimals, EUR with two, in the list and detail answers and their offers, and in the
events the sockets carry (issue 21)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from bookings.tests.factories import bookable_property, client_for, verified_guest
from config.asgi import application
from core.money import format_amount
from negotiation import services
from negotiation.models import Event
from properties.quotes import property_today

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("currency", "nightly", "offer", "shown_offer"),
    [("JPY", "12000", "30000", "30000"), ("EUR", "100.00", "250", "250.00")],
)
def test_list_total_and_offers_in_the_currency_minor_unit(currency, nightly, offer, shown_offer):
    prop = bookable_property(nightly=nightly, currency=currency, cleaning_fee=Decimal("0"))
    guest = verified_guest()
    check_in = property_today(prop) + timedelta(days=20)
    negotiation = services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=check_in,
        check_out=check_in + timedelta(days=3), guests=1, stay_type="standard",
        amount=Decimal(offer),
    ).negotiation  # fmt: skip
    for url in ("/api/v1/negotiations/", f"/api/v1/negotiations/{negotiation.pk}/"):
        body = client_for(guest).get(url).json()
        item = body["results"][0] if "results" in body else body
        decimals = 0 if currency == "JPY" else 2
        _, _, fraction = item["list_total"].partition(".")
        assert len(fraction) == decimals, item["list_total"]
        assert Decimal(item["list_total"]) == negotiation.list_total
        assert item["offers"][0]["amount"] == shown_offer


def _socket(negotiation_id, user):
    return WebsocketCommunicator(
        application,
        f"/ws/negotiations/{negotiation_id}/?after=0",
        headers=[
            (b"origin", b"http://localhost"),
            (b"authorization", f"Bearer {AccessToken.for_user(user)}".encode()),
        ],
    )


async def _events_until(ws, event_type: str) -> dict:
    """Event frames by event type, up to the first ``event_type``."""
    seen = {}
    for _ in range(30):
        frame = await ws.receive_json_from(timeout=3)
        if frame.get("type") == "event":
            seen[frame["event"]] = frame["data"]
            if frame["event"] == event_type:
                return seen
    raise AssertionError(f"no {event_type} in {seen}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("currency", "nightly", "opening", "counter", "shown"),
    [
        ("JPY", "12000", "30000", "33000.00", {"opening": "30000", "counter": "33000"}),
        ("EUR", "100.00", "250", "275", {"opening": "250.00", "counter": "275.00"}),
    ],
)
async def test_socket_events_write_amounts_in_the_currency_minor_unit(
    currency, nightly, opening, counter, shown
):
    """``offer.created``, ``offer.accepted``, ``booking.created`` and ``negotiation.opened``
    as a socket replays and streams them: "33000" in JPY, "275.00" in EUR."""

    @database_sync_to_async
    def setup():
        prop = bookable_property(nightly=nightly, currency=currency, cleaning_fee=Decimal("0"))
        guest = verified_guest()
        check_in = property_today(prop) + timedelta(days=20)
        negotiation = services.negotiation_open(
            guest=guest, property_id=prop.pk, check_in=check_in,
            check_out=check_in + timedelta(days=3), guests=1, stay_type="standard",
            amount=Decimal(opening),
        ).negotiation  # fmt: skip
        return negotiation, guest, prop.host

    negotiation, guest, host = await setup()
    host_ws, guest_ws = _socket(negotiation.pk, host), _socket(negotiation.pk, guest)
    assert (await host_ws.connect())[0] and (await guest_ws.connect())[0]
    await host_ws.send_json_to({"type": "offer", "amount": counter, "client_id": "c"})
    seen = await _events_until(guest_ws, "offer.created")
    opened_total = seen["negotiation.opened"]["list_total"]
    assert opened_total == format_amount(negotiation.list_total, currency)
    assert ("." in opened_total) == (currency == "EUR")
    seen = await _events_until(guest_ws, "offer.created")  # the host's counter, live
    assert seen["offer.created"]["amount"] == shown["counter"]
    await guest_ws.send_json_to({"type": "accept", "client_id": "a"})
    seen = await _events_until(guest_ws, "booking.created")
    assert seen["offer.accepted"]["amount"] == shown["counter"]
    assert seen["booking.created"]["total"] == shown["counter"]
    await host_ws.disconnect()
    await guest_ws.disconnect()
    first_offer = await database_sync_to_async(
        lambda: (
            Event.objects.filter(negotiation=negotiation, type="offer.created")
            .order_by("seq")
            .first()
        )
    )()
    assert first_offer.data["amount"] == shown["opening"]

"""What the guest saw is what they pay (issue 17): a booking request may carry the quote's
``expected_total`` and ``expected_currency``; a price or currency that changed by then is
``409 price_changed`` with the new quote in the error, and nothing is booked or charged."""

from datetime import timedelta
from decimal import Decimal

import pytest

from bookings.models import Booking, Payment
from bookings.tests.factories import bookable_property, client_for, verified_guest
from properties.quotes import property_today
from properties.services import property_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def prop():
    # 3 nights at 120 + cleaning 30 + 10 % service fee = 429.00 EUR
    return bookable_property(nightly="120.00", instant_book=True, photos=3)


def _body(prop, **extra):
    check_in = property_today(prop) + timedelta(days=20)
    return {
        "property": prop.pk,
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=3)).isoformat(),
        "guests": 2,
        "stay_type": "standard",
        "payment_token": "tok_ok",
        **extra,
    }


def _quote(client, prop):
    body = _body(prop)
    query = {k: body[k] for k in ("check_in", "check_out", "guests", "stay_type")}
    return client.get(f"/api/v1/properties/{prop.pk}/quote/", query).json()


def test_the_quote_seen_books_at_that_total(prop):
    client = client_for(verified_guest())
    quote = _quote(client, prop)
    assert (quote["total"], quote["currency"]) == ("429.00", "EUR")
    response = client.post(
        "/api/v1/bookings/",
        _body(prop, expected_total=quote["total"], expected_currency=quote["currency"]),
        format="json",
    )
    assert response.status_code == 201
    assert (response.json()["total"], response.json()["status"]) == ("429.00", "confirmed")


def test_a_price_raised_after_the_quote_is_409_price_changed_with_the_new_quote(prop):
    client = client_for(verified_guest())
    quote = _quote(client, prop)
    property_update(
        prop=prop,
        stay_types=[{"kind": "standard", "nightly_price": Decimal("500.00")}],
        cleaning_fee=Decimal("300.00"),
    )
    response = client.post(
        "/api/v1/bookings/",
        _body(prop, expected_total=quote["total"], expected_currency="EUR"),
        format="json",
    )
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"] == "price_changed"
    assert (error["quote"]["total"], error["quote"]["currency"]) == ("1980.00", "EUR")
    assert [item["amount"] for item in error["quote"]["line_items"]] == [
        "1500.00",
        "300.00",
        "180.00",
    ]
    assert not Booking.objects.exists() and not Payment.objects.exists()


def test_a_currency_switched_after_the_quote_is_409_price_changed(prop):
    client = client_for(verified_guest())
    quote = _quote(client, prop)
    property_update(prop=prop, currency="USD")
    response = client.post(
        "/api/v1/bookings/",
        _body(prop, expected_total=quote["total"], expected_currency=quote["currency"]),
        format="json",
    )
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert (error["code"], error["quote"]["total"], error["quote"]["currency"]) == (
        "price_changed",
        "429.00",
        "USD",
    )
    assert not Booking.objects.exists() and not Payment.objects.exists()


def test_expected_total_is_optional_for_older_clients(prop):
    response = client_for(verified_guest()).post("/api/v1/bookings/", _body(prop), format="json")
    assert response.status_code == 201 and response.json()["total"] == "429.00"


def test_a_request_to_book_with_a_stale_total_authorizes_nothing():
    prop = bookable_property(nightly="120.00", instant_book=False)
    response = client_for(verified_guest()).post(
        "/api/v1/bookings/", _body(prop, expected_total="428.99"), format="json"
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["quote"]["total"] == "429.00"
    assert not Payment.objects.exists()


def test_an_idempotent_replay_with_the_same_expected_total_returns_the_booking(prop):
    client = client_for(verified_guest())
    body = _body(prop, expected_total="429.00", expected_currency="eur")
    first = client.post("/api/v1/bookings/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = client.post("/api/v1/bookings/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Payment.objects.filter(kind=Payment.Kind.CAPTURE).count() == 1

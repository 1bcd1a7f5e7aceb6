"""Issue 19: every amount the API writes has its currency's minor unit (core.api.fields
AmountField): "1000" in JPY, "1000.00" in EUR; the listing detail (and the owner's),
its stay types, seasonal rates, availability, search cards and bookings."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.tests.factories import bookable_property, client_for, verified_guest
from properties.models import SeasonalRate, StayType

pytestmark = pytest.mark.django_db
START = timezone.now().date() + timedelta(days=30)

# (currency, the figures as stored, as the API must write them)
CASES = [
    ("JPY", ("12000", "3000", "800", "15000", "9000"), ("12000", "3000", "800", "15000", "9000")),
    ("EUR", ("120", "30", "8", "150", "90"), ("120.00", "30.00", "8.00", "150.00", "90.00")),
]


def _listing(currency, nightly, cleaning, breakfast, rate, floor):
    prop = bookable_property(
        currency=currency,
        nightly=nightly,
        kinds=("standard", "with_meals"),
        cleaning_fee=Decimal(cleaning),
        floor_nightly_price=Decimal(floor),
    )
    StayType.objects.filter(property=prop, kind="with_meals").update(
        breakfast_price=Decimal(breakfast), lunch_price=None, dinner_price=None
    )
    SeasonalRate.objects.create(
        property=prop, start=START, end=START + timedelta(days=2), nightly_price=Decimal(rate)
    )
    return prop


@pytest.mark.parametrize(("currency", "stored", "written"), CASES)
def test_listing_detail_and_stay_types_write_the_minor_unit(currency, stored, written):
    nightly, cleaning, breakfast, _, floor = written
    prop = _listing(currency, *stored)
    body = client_for(verified_guest()).get(f"/api/v1/properties/{prop.pk}/").json()
    assert (body["currency"], body["nightly_price"], body["cleaning_fee"]) == (
        currency,
        nightly,
        cleaning,
    )
    meals = next(t for t in body["stay_types"] if t["kind"] == "with_meals")
    assert (meals["nightly_price"], meals["breakfast_price"], meals["lunch_price"]) == (
        nightly,
        breakfast,
        None,
    )
    owner = client_for(prop.host).get(f"/api/v1/properties/{prop.pk}/").json()
    assert (owner["floor_nightly_price"], owner["auto_accept_nightly_price"]) == (floor, None)


@pytest.mark.parametrize(("currency", "stored", "written"), CASES)
def test_seasonal_rates_write_the_minor_unit(currency, stored, written):
    prop = _listing(currency, *stored)
    rate = written[3]
    listed = client_for(verified_guest()).get(f"/api/v1/properties/{prop.pk}/rates/").json()
    assert [r["nightly_price"] for r in listed] == [rate]
    later = START + timedelta(days=10)
    created = client_for(prop.host).post(
        f"/api/v1/properties/{prop.pk}/rates/",
        {"start": later, "end": later + timedelta(days=1), "nightly_price": stored[3]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["nightly_price"] == rate


@pytest.mark.parametrize(("currency", "stored", "written"), CASES)
def test_availability_writes_the_minor_unit(currency, stored, written):
    prop = _listing(currency, *stored)
    days = client_for(verified_guest()).get(
        f"/api/v1/properties/{prop.pk}/availability/",
        {"start": START - timedelta(days=1), "end": START + timedelta(days=2)},
    )
    assert days.status_code == 200, days.json()
    assert [d["nightly_price"] for d in days.json()] == [written[0], written[3], written[3]]


@pytest.mark.parametrize(("currency", "stored", "written"), CASES)
def test_search_cards_write_the_minor_unit(currency, stored, written):
    prop = _listing(currency, *stored)
    cards = client_for(verified_guest()).get("/api/v1/properties/").json()["results"]
    assert [c["nightly_price"] for c in cards if c["id"] == prop.pk] == [written[0]]


@pytest.mark.parametrize(
    ("currency", "nightly", "total"),
    [
        # 2 nights x 1000 + cleaning 0 + service fee 10 % = 2200 (JPY: no decimals)
        ("JPY", "1000", "2200"),
        ("EUR", "1000", "2200.00"),
    ],
)
def test_booking_total_writes_the_minor_unit(currency, nightly, total):
    prop = bookable_property(
        currency=currency, nightly=nightly, instant_book=True, cleaning_fee=Decimal(0)
    )
    guest = verified_guest()
    response = client_for(guest).post(
        "/api/v1/bookings/",
        {
            "property": prop.pk,
            "check_in": START,
            "check_out": START + timedelta(days=2),
            "guests": 1,
            "stay_type": "standard",
            "payment_token": "tok_ok",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["total"] == total
    booking_id = response.json()["id"]
    assert client_for(guest).get(f"/api/v1/bookings/{booking_id}/").json()["total"] == total
    listed = client_for(prop.host).get("/api/v1/bookings/").json()["results"]
    assert [b["total"] for b in listed] == [total]

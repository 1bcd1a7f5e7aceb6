"""Location privacy (issue 18): before a guest has a booking, a listing and its search
cards show the neighbourhood, city and an approximate point (stable, about 500 m away),
never the street address or the exact point; the owner sees everything; the guest's
confirmed booking (and its email) carries the exact address; search by radius still
uses the exact point."""

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.tests.factories import bookable_property, client_for, verified_guest
from properties.location import approximate_point

pytestmark = pytest.mark.django_db

ADDRESS = "12 Secret Lane, Flat 3B"
LAT, LNG = Decimal("38.722252"), Decimal("-9.139337")


def _metres(lat1, lng1, lat2, lng2) -> float:
    lat1, lng1, lat2, lng2 = map(float, (lat1, lng1, lat2, lng2))
    dy = (lat2 - lat1) * 111_320
    dx = (lng2 - lng1) * 111_320 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


@pytest.fixture
def prop():
    return bookable_property(
        instant_book=True,
        address=ADDRESS,
        neighbourhood="Alfama",
        city="Lisbon",
        latitude=LAT,
        longitude=LNG,
    )


def _assert_approximate(body, prop):
    assert ADDRESS not in str(body)
    assert "address" not in body
    lat, lng = Decimal(body["latitude"]), Decimal(body["longitude"])
    assert (lat, lng) != (LAT, LNG)
    assert lat == lat.quantize(Decimal("0.001")) and lng == lng.quantize(Decimal("0.001"))
    assert 300 <= _metres(LAT, LNG, lat, lng) <= 700  # about 500 m, after rounding


def test_anonymous_listing_shows_neighbourhood_city_and_an_approximate_point(prop):
    body = APIClient().get(f"/api/v1/properties/{prop.pk}/").json()

    _assert_approximate(body, prop)
    assert body["neighbourhood"] == "Alfama" and body["city"] == "Lisbon"


def test_a_guest_without_a_booking_sees_the_same_approximate_point(prop):
    anonymous = APIClient().get(f"/api/v1/properties/{prop.pk}/").json()
    guest = client_for(verified_guest()).get(f"/api/v1/properties/{prop.pk}/").json()

    _assert_approximate(guest, prop)
    assert (guest["latitude"], guest["longitude"]) == (
        anonymous["latitude"],
        anonymous["longitude"],
    )


def test_search_results_show_the_approximate_point_and_no_address(prop):
    results = APIClient().get("/api/v1/properties/", {"city": "Lisbon"}).json()["results"]

    (card,) = [card for card in results if card["id"] == prop.pk]
    _assert_approximate(card, prop)
    detail = APIClient().get(f"/api/v1/properties/{prop.pk}/").json()
    assert (card["latitude"], card["longitude"]) == (detail["latitude"], detail["longitude"])


def test_the_offset_is_stable_per_listing_and_differs_between_listings(prop):
    other = bookable_property(latitude=LAT, longitude=LNG)

    assert approximate_point(prop.pk, LAT, LNG) == approximate_point(prop.pk, LAT, LNG)
    assert approximate_point(prop.pk, LAT, LNG) != approximate_point(other.pk, LAT, LNG)
    assert approximate_point(prop.pk, None, None) == (None, None)


def test_the_owner_sees_the_address_and_the_exact_point(prop):
    body = client_for(prop.host).get(f"/api/v1/properties/{prop.pk}/").json()

    assert body["address"] == ADDRESS
    assert (body["latitude"], body["longitude"]) == (str(LAT), str(LNG))


def test_radius_search_uses_the_exact_point(prop):
    # 150 m around the exact point: the listing is found although its shown point is
    # further away than that
    near = {"lat": str(LAT), "lng": str(LNG), "radius_km": "0.15"}

    ids = [card["id"] for card in APIClient().get("/api/v1/properties/", near).json()["results"]]

    assert prop.pk in ids


def _booking_body(prop, **extra):
    check_in = timezone.now().date() + timedelta(days=20)
    return {
        "property": prop.pk,
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=3)).isoformat(),
        "guests": 2,
        "stay_type": "standard",
        **extra,
    }


def test_the_exact_address_is_in_the_booking_once_paid(prop):
    client = client_for(verified_guest())
    held = client.post("/api/v1/bookings/", _booking_body(prop)).json()
    assert held["status"] == "awaiting_payment" and held["location"] is None

    paid = client.post(f"/api/v1/bookings/{held['id']}/pay/", {"payment_token": "tok_ok"})

    location = paid.json()["location"]
    assert location["address"] == ADDRESS and location["neighbourhood"] == "Alfama"
    assert (location["latitude"], location["longitude"]) == (str(LAT), str(LNG))
    assert client.get(f"/api/v1/bookings/{held['id']}/").json()["location"] == location
    # the listing page itself stays approximate
    _assert_approximate(client.get(f"/api/v1/properties/{prop.pk}/").json(), prop)


def test_the_confirmation_email_carries_the_address_and_a_request_does_not(
    django_capture_on_commit_callbacks,
):
    prop = bookable_property(instant_book=False, address=ADDRESS, neighbourhood="Alfama")
    guest = verified_guest()
    with django_capture_on_commit_callbacks(execute=True):
        requested = client_for(guest).post(
            "/api/v1/bookings/", _booking_body(prop, payment_token="tok_ok")
        )
    assert requested.json()["status"] == "pending_host"
    assert requested.json()["location"] is None
    assert mail.outbox and all(ADDRESS not in m.body for m in mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        client_for(prop.host).post(f"/api/v1/bookings/{requested.json()['id']}/approve/")

    (receipt,) = [m for m in mail.outbox if m.to == [guest.email] and "is confirmed" in m.body]
    assert f"Address: {ADDRESS}, Alfama, Lisbon" in receipt.body
    assert ADDRESS in receipt.alternatives[0][0]

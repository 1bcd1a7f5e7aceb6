"""A property row held locked past ``DB_LOCK_TIMEOUT_MS`` (core.locks): the booking API
answers 503 service_unavailable with Retry-After within the timeout, instead of a 500 or
a request hanging; nothing is booked or left authorized; once the lock is released the
same request books. Two real PostgreSQL connections: one holds the lock, the other is
the request's."""

import time
from datetime import timedelta

import pytest
from django.db import connection

from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import bookable_property, client_for, verified_guest
from bookings.tests.money import money_problems
from core.tests.held_lock import HeldLock
from properties.models import Property
from properties.quotes import property_today

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL"),
]


def _body(prop, token="tok_ok"):
    check_in = property_today(prop) + timedelta(days=20)
    return {
        "property": prop.pk,
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=3)).isoformat(),
        "guests": 2,
        "stay_type": "standard",
        "payment_token": token,
    }


def _answer(client, path, body=None):
    started = time.monotonic()
    response = client.post(path, body or {}, format="json")
    return response, time.monotonic() - started


def test_booking_a_property_locked_past_the_timeout_is_503_with_retry_after(settings):
    settings.DB_LOCK_TIMEOUT_MS = 500
    prop = bookable_property(instant_book=True)
    client = client_for(verified_guest())
    with HeldLock(Property.objects.filter(pk=prop.pk)):
        response, waited = _answer(client, "/api/v1/bookings/", _body(prop))
    assert response.status_code == 503, response.json()
    assert response.json()["errors"][0]["code"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0
    assert 0.45 <= waited < 5, waited  # it waited for the lock, then no longer
    assert not Booking.objects.exists()
    assert money_problems() == []  # the card authorized before the lock: voided

    again = client.post("/api/v1/bookings/", _body(prop), format="json")
    assert again.status_code == 201 and again.json()["status"] == BookingStatus.CONFIRMED


def test_approving_while_the_property_is_locked_past_the_timeout_is_503(settings):
    settings.DB_LOCK_TIMEOUT_MS = 500
    prop = bookable_property(instant_book=False)
    booking, _ = services.booking_create(
        guest=verified_guest(), property_id=prop.pk,
        check_in=property_today(prop) + timedelta(days=20),
        check_out=property_today(prop) + timedelta(days=23), guests=2, stay_type="standard",
        payment_token="tok_ok",
    )  # fmt: skip
    host = client_for(prop.host)
    with HeldLock(Property.objects.filter(pk=prop.pk)):
        response, waited = _answer(host, f"/api/v1/bookings/{booking.pk}/approve/")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert waited < 5
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING_HOST and not booking.payments.filter(
        kind="capture"
    )
    assert host.post(f"/api/v1/bookings/{booking.pk}/approve/").status_code == 200
    assert money_problems() == []

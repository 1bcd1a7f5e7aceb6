"""``GET bookings/?status=`` filters on the status a reader sees (issue 17): a lapsed hold
reads ``expired`` before the sweep records it, and is listed as such."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from bookings import services
from bookings.models import Booking
from bookings.tests.factories import bookable_property, client_for, verified_guest
from properties.quotes import property_today

pytestmark = pytest.mark.django_db


def _book(prop, guest, days, **kwargs):
    check_in = property_today(prop) + timedelta(days=days)
    booking, _ = services.booking_create(
        guest=guest,
        property_id=prop.pk,
        check_in=check_in,
        check_out=check_in + timedelta(days=3),
        guests=2,
        stay_type="standard",
        **kwargs,
    )
    return booking


@pytest.mark.parametrize("role", ["guest", "host"])
def test_status_filter_uses_the_status_shown_including_lapsed_holds(role):
    instant = bookable_property(instant_book=True)
    on_request = bookable_property(instant_book=False, host=instant.host)
    guest = verified_guest()
    awaiting = _book(instant, guest, 10)  # awaiting_payment, 30 minutes
    confirmed = _book(instant, guest, 20, payment_token="tok_ok")
    pending = _book(on_request, guest, 10, payment_token="tok_ok")  # pending_host, 24 h
    reader = guest if role == "guest" else instant.host

    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        client = client_for(reader)  # a token issued now
        assert Booking.objects.get(pk=awaiting.pk).status == "awaiting_payment"  # not swept
        shown = {
            row["id"]: row["status"]
            for row in client.get("/api/v1/bookings/", {"role": role}).json()["results"]
        }
        assert shown == {
            awaiting.pk: "expired",
            confirmed.pk: "confirmed",
            pending.pk: "pending_host",
        }
        for status in ("awaiting_payment", "expired", "confirmed", "pending_host"):
            listed = client.get("/api/v1/bookings/", {"role": role, "status": status}).json()
            assert sorted(row["id"] for row in listed["results"]) == sorted(
                pk for pk, seen in shown.items() if seen == status
            ), status

"""How many statements a paid instant booking sends, counted: the ORM's cost of building
a statement is most of a booking's CPU on the benchmark machine (docs/benchmarks.md,
issue 21), so a change that adds one should be a choice, not an accident.

Counted inside the test's transaction, so the booking's own transaction is a savepoint
and the calls made after its commit (the capture) are not run; 21 in production,
listed in docs/benchmarks.md."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings import services
from bookings.models import BookingStatus
from bookings.tests.factories import bookable_property, verified_guest
from properties.quotes import property_today

pytestmark = pytest.mark.django_db


def _book(prop, guest, days):
    check_in = property_today(prop) + timedelta(days=days)
    booking, _ = services.booking_create(
        guest=guest, property_id=prop.pk, check_in=check_in,
        check_out=check_in + timedelta(days=1), guests=2, stay_type="standard",
        payment_token="tok_ok",
    )  # fmt: skip
    return booking


def test_a_paid_instant_booking_sends_its_budget_of_statements():
    prop = bookable_property(instant_book=True)
    guest = verified_guest()
    _book(prop, guest, days=20)  # warm: content types, the first connection's settings
    with CaptureQueriesContext(connection) as queries:
        booking = _book(prop, guest, days=21)
    assert booking.status == BookingStatus.CONFIRMED
    statements = [q["sql"] for q in queries.captured_queries]
    transaction_control = [s for s in statements if s.split()[0] in ("SAVEPOINT", "RELEASE")]
    assert len(statements) - len(transaction_control) <= 16, "\n".join(statements)
    assert not [s for s in statements if "set_config" in s], "the lock timeout is the session's"

"""Random sequences of create / cancel / pay / time passing / expiry sweep on one property
never leave two holding bookings overlapping."""

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings import services, sweeps
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import bookable_property, verified_guest
from core.errors import ApplicationError

pytestmark = pytest.mark.django_db

create = st.tuples(
    st.just("create"),
    st.integers(min_value=1, max_value=20),  # days ahead
    st.integers(min_value=1, max_value=5),  # nights
    st.booleans(),  # with a payment token
)
cancel = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=30))
pay = st.tuples(st.just("pay"), st.integers(min_value=0, max_value=30))
wait = st.tuples(st.just("wait"), st.integers(min_value=1, max_value=45))  # minutes
sweep = st.tuples(st.just("sweep"))
operations = st.lists(st.one_of(create, cancel, pay, wait, sweep), min_size=1, max_size=25)


def _assert_no_overlap(prop, now):
    holding = list(Booking.objects.filter(property=prop).holding(now).order_by("check_in"))
    for earlier, later in itertools.pairwise(holding):
        assert earlier.check_out <= later.check_in, (earlier, later)
    # What the database itself holds (lapsed holds included) never overlaps either:
    recorded = list(
        Booking.objects.filter(
            property=prop,
            status__in=(
                BookingStatus.PENDING_HOST,
                BookingStatus.AWAITING_PAYMENT,
                BookingStatus.CONFIRMED,
            ),
        ).order_by("check_in")
    )
    for earlier, later in itertools.pairwise(recorded):
        assert earlier.check_out <= later.check_in, (earlier, later)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_random_operations_keep_dates_exclusive(ops):
    prop = bookable_property(instant_book=True)
    guests = [verified_guest() for _ in range(3)]
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        today = timezone.now().date()
        for step, op in enumerate(ops):
            ids = list(
                Booking.objects.filter(property=prop).order_by("pk").values_list("pk", flat=True)
            )
            try:
                if op[0] == "create":
                    _, days, nights, paid = op
                    services.booking_create(
                        guest=guests[step % 3],
                        property_id=prop.pk,
                        check_in=today + timedelta(days=days),
                        check_out=today + timedelta(days=days + nights),
                        guests=1,
                        stay_type="standard",
                        payment_token="tok_ok" if paid else "",
                    )
                elif op[0] == "cancel" and ids:
                    booking = Booking.objects.get(pk=ids[op[1] % len(ids)])
                    services.booking_cancel(booking_id=booking.pk, user=booking.guest)
                elif op[0] == "pay" and ids:
                    booking = Booking.objects.get(pk=ids[op[1] % len(ids)])
                    services.booking_pay(
                        booking_id=booking.pk, guest=booking.guest, payment_token="tok_ok"
                    )
                elif op[0] == "wait":
                    clock.shift(timedelta(minutes=op[1]))
                elif op[0] == "sweep":
                    sweeps.bookings_expire_lapsed()
            except ApplicationError:
                pass  # refused actions are fine; the invariant must hold regardless
            _assert_no_overlap(prop, timezone.now())

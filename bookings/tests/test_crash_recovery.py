"""A process killed between the steps of a payment, then the sweep: money and state end
consistent. Nothing is charged twice, no authorization is left dangling, the booking is
in the state its committed transaction left.

Each test runs a booking service in a real child process against the test database
(``bookings/tests/crash_worker.py``) that dies (``os._exit``) right after the gateway
carried a call out, or right after the transition committed and before the call; then
it checks what was left, runs the sweep (``bookings.charges.payments_reconcile``) twice
and checks the money (:func:`bookings.tests.money.money_problems`). On SQLite and on
PostgreSQL."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from bookings import charges, services
from bookings.models import Booking, BookingStatus, BuiltinGatewayCall, Payment
from bookings.tests.crash_worker import CRASHED
from bookings.tests.factories import book, bookable_property, verified_guest
from bookings.tests.money import money_problems
from properties.quotes import property_today

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
Kind, Status = Payment.Kind, Payment.Status


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _crash(scenario: str, **kwargs) -> None:
    """Run the scenario in a child process; it must die where the scenario says."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
    }
    connection.close()  # SQLite: nothing of ours open while the child writes
    result = subprocess.run(
        [sys.executable, "-m", "bookings.tests.crash_worker", scenario, json.dumps(kwargs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == CRASHED, (result.returncode, result.stdout, result.stderr)


def _sweep() -> int:
    """The sweep, once the rows are past their grace (twice: it must be idempotent)."""
    later = timezone.now() + charges.GRACE + timedelta(minutes=1)
    done = charges.payments_reconcile(now=later)
    assert charges.payments_reconcile(now=later) == 0
    return done


def _stay(prop, days=20, nights=3) -> dict:
    check_in = property_today(prop) + timedelta(days=days)
    return {
        "property_id": prop.pk,
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=nights)).isoformat(),
        "guests": 2,
        "stay_type": "standard",
    }


def _calls(operation: str) -> int:
    return BuiltinGatewayCall.objects.filter(operation=operation).count()


def test_a_crash_after_authorizing_a_new_booking_leaves_nothing_charged():
    prop = bookable_property(instant_book=True)
    guest = verified_guest()
    _crash("create_dies_after_authorizing", guest=guest.pk, payment_token="tok_ok", **_stay(prop))
    # the gateway authorized; our row never heard back; no booking was made
    [authorization] = Payment.objects.all()
    assert (authorization.kind, authorization.status) == (Kind.AUTHORIZE, Status.PENDING)
    assert _calls("authorize") == 1 and not Booking.objects.exists()

    assert _sweep() == 2  # the authorization settled from the gateway's answer, then voided
    authorization.refresh_from_db()
    assert authorization.status == Status.SUCCEEDED and authorization.booking is None
    assert authorization.followups.get().kind == Kind.VOID
    assert (_calls("void"), _calls("capture")) == (1, 0)
    assert money_problems() == []
    # the dates were never taken: the next guest books them
    assert book(prop, verified_guest()).status == BookingStatus.CONFIRMED
    assert money_problems() == []


def test_a_crash_between_confirming_and_capturing_is_captured_once_by_the_sweep():
    prop = bookable_property(instant_book=True)
    guest = verified_guest()
    _crash("create_dies_before_capturing", guest=guest.pk, payment_token="tok_ok", **_stay(prop))
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED  # committed before the crash
    capture = booking.payments.get(kind=Kind.CAPTURE)
    assert capture.status == Status.PENDING and _calls("capture") == 0

    assert _sweep() == 1
    capture.refresh_from_db()
    assert capture.status == Status.SUCCEEDED and capture.amount == booking.total
    assert _calls("capture") == 1
    assert money_problems() == []


def test_a_crash_after_the_gateway_captured_is_not_captured_again():
    prop = bookable_property(instant_book=False)
    booking = book(prop, verified_guest())
    assert booking.status == BookingStatus.PENDING_HOST
    _crash("approve_dies_after_capturing", booking_id=booking.pk, host=prop.host_id)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    capture = booking.payments.get(kind=Kind.CAPTURE)
    assert capture.status == Status.PENDING and _calls("capture") == 1

    assert _sweep() == 1
    capture.refresh_from_db()
    assert capture.status == Status.SUCCEEDED
    assert _calls("capture") == 1  # the call made again with its key: carried out once
    assert money_problems() == []


def test_a_crash_before_voiding_a_declined_request_is_voided_by_the_sweep():
    prop = bookable_property(instant_book=False)
    booking = book(prop, verified_guest())
    _crash("decline_dies_before_voiding", booking_id=booking.pk, host=prop.host_id)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DECLINED
    void = booking.payments.get(kind=Kind.VOID)
    assert void.status == Status.PENDING and _calls("void") == 0

    assert _sweep() == 1
    void.refresh_from_db()
    assert void.status == Status.SUCCEEDED and _calls("void") == 1
    assert money_problems() == []


def test_a_crash_before_refunding_a_cancellation_is_refunded_once_by_the_sweep():
    prop = bookable_property(instant_book=True, cancellation_policy="flexible")
    guest = verified_guest()
    booking = book(prop, guest, days=30)
    _crash("cancel_dies_before_refunding", booking_id=booking.pk, user=guest.pk)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    refund = booking.payments.get(kind=Kind.REFUND)
    assert refund.status == Status.PENDING and refund.amount == booking.total
    assert booking.price["refund"]["amount"] == str(booking.total)
    assert charges.refundable(booking) == 0  # the pending refund counts: nothing more goes

    assert _sweep() == 1
    refund.refresh_from_db()
    assert refund.status == Status.SUCCEEDED and _calls("refund") == 1
    assert money_problems() == []


def test_a_crash_after_authorizing_a_payment_voids_it_and_the_booking_can_still_be_paid():
    prop = bookable_property(instant_book=True)
    guest = verified_guest()
    booking = book(prop, guest, token="")
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    _crash("pay_dies_after_authorizing", booking_id=booking.pk, guest=guest.pk,
           payment_token="tok_ok")  # fmt: skip
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    authorization = Payment.objects.get(kind=Kind.AUTHORIZE)
    assert authorization.status == Status.PENDING and authorization.booking is None

    assert _sweep() == 2
    assert authorization.followups.get().kind == Kind.VOID
    assert money_problems() == []
    paid = services.booking_pay(booking_id=booking.pk, guest=guest, payment_token="tok_ok")
    assert paid.status == BookingStatus.CONFIRMED
    assert (_calls("authorize"), _calls("void"), _calls("capture")) == (2, 1, 1)
    assert money_problems() == []

"""Payment steps (bookings.charges): no gateway call while a transaction (so a row lock) is
open, whatever the flow; what happens when the booking changes while the card is being
authorized; a gateway failure after the booking changed; the sweep's grace.

A spy gateway (the built-in one, observed) records for every call whether a transaction
was open, and can run something in the middle of a call (another guest booking the
dates, the host changing the price) or fail it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from bookings import charges, services, sweeps
from bookings.models import Booking, BookingStatus, BuiltinGatewayCall, Payment
from bookings.payments import DatabaseGateway, PaymentGatewayError
from bookings.tests.factories import book, bookable_property, client_for, verified_guest
from bookings.tests.money import money_problems
from negotiation.lifecycle import property_archive, user_close
from properties.quotes import property_today
from properties.services import property_update

pytestmark = pytest.mark.django_db(transaction=True)
Kind, Status = Payment.Kind, Payment.Status


class SpyGateway(DatabaseGateway):
    calls: list[tuple[str, bool]] = []  # (operation, a transaction was open)
    during: dict = {}  # operation -> what happens while the gateway carries it out (once)
    failing: dict[str, int] = {}  # operation -> how many calls fail before one succeeds

    def _observe(self, operation: str) -> None:
        SpyGateway.calls.append((operation, connection.in_atomic_block))
        if SpyGateway.failing.get(operation):
            SpyGateway.failing[operation] -= 1
            raise PaymentGatewayError()

    def _then(self, operation: str, result):
        if meanwhile := SpyGateway.during.pop(operation, None):
            meanwhile()
        return result

    def authorize(self, **kwargs):
        self._observe("authorize")
        return self._then("authorize", super().authorize(**kwargs))

    def capture(self, **kwargs):
        self._observe("capture")
        return self._then("capture", super().capture(**kwargs))

    def void(self, **kwargs):
        self._observe("void")
        return self._then("void", super().void(**kwargs))

    def refund(self, **kwargs):
        self._observe("refund")
        return self._then("refund", super().refund(**kwargs))


@pytest.fixture(autouse=True)
def spy(settings):
    settings.PAYMENT_GATEWAY = f"{__name__}.SpyGateway"
    SpyGateway.calls, SpyGateway.during, SpyGateway.failing = [], {}, {}
    return SpyGateway


def test_no_gateway_call_is_made_while_a_transaction_is_open(spy):
    instant = bookable_property(instant_book=True, cancellation_policy="flexible")
    requests = bookable_property(instant_book=False)
    guest = verified_guest()
    later = timezone.now() + timedelta(hours=25)

    paid_at_once = book(instant, guest)  # authorize, capture
    services.booking_cancel(booking_id=paid_at_once.pk, user=guest)  # refund
    unpaid = book(instant, guest, token="", days=40)
    services.booking_pay(booking_id=unpaid.pk, guest=guest, payment_token="tok_ok")
    approved = book(requests, guest)
    services.booking_approve(booking_id=approved.pk, host=requests.host)  # capture
    declined = book(requests, guest, days=40)
    services.booking_decline(booking_id=declined.pk, host=requests.host)  # void
    book(requests, guest, days=60)
    assert sweeps.bookings_expire_lapsed(now=later) == 1  # void, after the sweep's commit
    archived = bookable_property(instant_book=False)
    book(archived, guest)
    property_archive(prop=archived)  # void, after the archive's own transaction commits
    leaving = verified_guest()  # the factory's password: correct-horse-battery
    book(instant, leaving, days=90)  # confirmed: cancelled and refunded on closing
    book(bookable_property(instant_book=False), leaving)  # a request: cancelled, voided
    user_close(user=leaving, password="correct-horse-battery", confirm=True)

    operations = {operation for operation, _ in spy.calls}
    assert operations == {"authorize", "capture", "void", "refund"}
    assert [call for call in spy.calls if call[1]] == []  # not one inside a transaction
    assert len([c for c in spy.calls if c[0] == "void"]) == 4
    assert money_problems() == []


def test_dates_taken_while_the_card_is_authorized_are_409_and_the_authorization_voided(spy):
    prop = bookable_property(instant_book=True)
    rival = verified_guest()
    spy.during["authorize"] = lambda: book(prop, rival, token="")  # holds them for payment
    with pytest.raises(services.DatesUnavailable):
        book(prop, verified_guest())
    [held] = Booking.objects.all()
    assert (held.guest, held.status) == (rival, BookingStatus.AWAITING_PAYMENT)
    authorization = Payment.objects.get(kind=Kind.AUTHORIZE)
    assert authorization.booking is None
    assert authorization.followups.get().kind == Kind.VOID
    assert [operation for operation, _ in spy.calls] == ["authorize", "void"]
    assert money_problems() == []


def test_a_price_changed_while_the_card_is_authorized_is_409_with_the_new_quote(spy):
    prop = bookable_property(instant_book=True, nightly="120.00", photos=3)
    spy.during["authorize"] = lambda: property_update(
        prop=prop, stay_types=[{"kind": "standard", "nightly_price": Decimal("150.00")}]
    )
    response = client_for(verified_guest()).post(
        "/api/v1/bookings/",
        {
            "property": prop.pk,
            "check_in": (property_today(prop) + timedelta(days=20)).isoformat(),
            "check_out": (property_today(prop) + timedelta(days=23)).isoformat(),
            "guests": 2,
            "stay_type": "standard",
            "payment_token": "tok_ok",
        },
        format="json",
    )
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert (error["code"], error["quote"]["total"]) == ("price_changed", "528.00")
    assert not Booking.objects.exists()
    assert Payment.objects.get(kind=Kind.AUTHORIZE).amount == Decimal("429.00")
    assert Payment.objects.get(kind=Kind.VOID).status == Status.SUCCEEDED
    assert money_problems() == []


def test_a_failed_capture_leaves_the_approval_and_the_sweep_captures(spy):
    prop = bookable_property(instant_book=False)
    booking = book(prop, verified_guest())
    spy.failing["capture"] = 1
    response = client_for(prop.host).post(f"/api/v1/bookings/{booking.pk}/approve/")
    assert response.status_code == 200 and response.json()["status"] == "confirmed"
    capture = Payment.objects.get(kind=Kind.CAPTURE)
    assert capture.status == Status.PENDING
    assert charges.payments_reconcile() == 0  # within its grace: still the request's
    assert charges.payments_reconcile(now=timezone.now() + charges.GRACE * 2) == 1
    capture.refresh_from_db()
    assert capture.status == Status.SUCCEEDED
    assert BuiltinGatewayCall.objects.filter(operation="capture").count() == 1
    assert money_problems() == []


def test_a_request_slower_than_the_grace_finds_its_authorization_released(spy):
    """The sweep voided the authorization of a request that took too long; the request
    cannot use it then: 502 payment_gateway_error, nothing booked, nothing charged."""
    prop = bookable_property(instant_book=True)
    spy.during["authorize"] = lambda: charges.payments_reconcile(
        now=timezone.now() + charges.GRACE * 2
    )
    with pytest.raises(PaymentGatewayError):
        book(prop, verified_guest())
    assert not Booking.objects.exists()
    assert Payment.objects.get(kind=Kind.VOID).status == Status.SUCCEEDED
    assert money_problems() == []

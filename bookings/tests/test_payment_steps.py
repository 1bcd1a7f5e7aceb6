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
from django.http import Http404
from django.utils import timezone

from bookings import charges, services, sweeps
from bookings.models import Booking, BookingStatus, BuiltinGatewayCall, Payment
from bookings.payments import DatabaseGateway, PaymentGatewayError
from bookings.tests.factories import book, bookable_property, client_for, verified_guest
from bookings.tests.money import money_problems
from negotiation.lifecycle import property_archive, user_close
from properties.quotes import property_today
from properties.services import property_unlist, property_update, rate_create

pytestmark = pytest.mark.django_db(transaction=True)
Kind, Status = Payment.Kind, Payment.Status


class SpyGateway(DatabaseGateway):
    calls: list[tuple[str, bool]] = []  # (operation, a transaction was open)
    during: dict = {}  # operation -> what happens while the gateway carries it out (once)
    before: dict = {}  # operation -> what happens just before the gateway carries it out
    failing: dict[str, int] = {}  # operation -> how many calls fail before one succeeds

    def _observe(self, operation: str) -> None:
        SpyGateway.calls.append((operation, connection.in_atomic_block))
        if meanwhile := SpyGateway.before.pop(operation, None):
            meanwhile()
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
    SpyGateway.before = {}
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


def test_a_seasonal_rate_added_while_the_card_is_authorized_is_409_with_the_new_quote(spy):
    """The quote made before the lock stands only for the listing version it was made
    from: a rate is a row of its own, and adding it moves the listing's version."""
    prop = bookable_property(instant_book=True, nightly="120.00")
    check_in = property_today(prop) + timedelta(days=20)
    spy.during["authorize"] = lambda: rate_create(
        prop=prop, start=check_in, end=check_in + timedelta(days=30), nightly_price=Decimal("200")
    )
    with pytest.raises(services.PriceChanged):
        book(prop, verified_guest())
    assert not Booking.objects.exists()
    assert Payment.objects.get(kind=Kind.VOID).status == Status.SUCCEEDED
    assert money_problems() == []


def test_a_listing_unlisted_while_the_card_is_authorized_is_404_and_the_authorization_voided(
    spy,
):
    prop = bookable_property(instant_book=True)
    spy.during["authorize"] = lambda: property_unlist(prop=prop)
    with pytest.raises(Http404):
        book(prop, verified_guest())
    assert not Booking.objects.exists()
    assert Payment.objects.get(kind=Kind.VOID).status == Status.SUCCEEDED
    assert money_problems() == []


def test_the_authorization_is_recorded_by_the_claim_that_takes_it(spy):
    """One statement under the lock gives the authorization to the booking and records
    the gateway's answer; until then the row is pending (a crash leaves it to the sweep)."""
    seen = {}
    spy.during["authorize"] = lambda: seen.update(
        Payment.objects.filter(kind=Kind.AUTHORIZE).values("status", "booking").get()
    )
    booking = book(bookable_property(instant_book=True), verified_guest())
    assert seen == {"status": Status.PENDING, "booking": None}
    authorization = Payment.objects.get(kind=Kind.AUTHORIZE)
    assert (authorization.booking, authorization.status) == (booking, Status.SUCCEEDED)
    call = BuiltinGatewayCall.objects.get(operation="authorize")
    assert authorization.gateway_reference == call.reference
    assert authorization.settled_at is not None
    assert money_problems() == []


def test_a_sweep_that_asked_while_the_call_was_under_way_loses_to_the_gateways_answer(spy):
    """The sweep (a request slower than the grace) found no trace of the call yet and
    marked the authorization failed; the call then went through. The request's claim
    refuses the row, and the request records the gateway's answer and voids it: 502,
    nothing booked, nothing held on the card."""
    prop = bookable_property(instant_book=True)
    spy.before["authorize"] = lambda: charges.payments_reconcile(
        now=timezone.now() + charges.GRACE * 2
    )
    with pytest.raises(PaymentGatewayError):
        book(prop, verified_guest())
    assert not Booking.objects.exists()
    authorization = Payment.objects.get(kind=Kind.AUTHORIZE)
    assert authorization.status == Status.SUCCEEDED  # the gateway's word
    assert authorization.followups.get().kind == Kind.VOID
    assert [operation for operation, _ in spy.calls] == ["authorize", "void"]
    assert money_problems() == []


def test_an_authorization_the_sweep_settled_but_did_not_void_is_still_claimed(spy):
    """The claim's usual path expects the row pending; one already settled (the sweep
    asked the gateway, found the call, and the request then went on) is claimed too,
    after looking for a void."""
    spy.during["authorize"] = lambda: charges.settle(
        Payment.objects.get(kind=Kind.AUTHORIZE, status=Status.PENDING).pk
    )
    booking = book(bookable_property(instant_book=True), verified_guest())
    assert booking.status == BookingStatus.CONFIRMED
    authorization = Payment.objects.get(kind=Kind.AUTHORIZE)
    assert (authorization.booking, authorization.status) == (booking, Status.SUCCEEDED)
    assert [operation for operation, _ in spy.calls] == ["authorize", "capture"]
    assert money_problems() == []


def test_a_lost_request_that_dies_between_its_void_and_the_record_is_repaired_by_the_sweep(
    spy,
):
    """The request's own void is made first and recorded after (no pending row): if it
    stops in between, the sweep voids the unclaimed authorization again with the same
    key, which the gateway carries out once, and records it."""
    prop = bookable_property(instant_book=True)
    rival = verified_guest()
    spy.during["authorize"] = lambda: book(prop, rival, token="")  # the dates are taken

    def crash():
        raise RuntimeError("the process stopped here")

    spy.during["void"] = crash
    with pytest.raises(services.DatesUnavailable):
        book(prop, verified_guest())
    authorization = Payment.objects.get(kind=Kind.AUTHORIZE, booking__isnull=True)
    assert not authorization.followups.exists()  # voided at the gateway, not recorded
    assert charges.payments_reconcile(now=timezone.now() + charges.GRACE * 2) == 1
    void = authorization.followups.get()
    assert (void.kind, void.status) == (Kind.VOID, Status.SUCCEEDED)
    assert BuiltinGatewayCall.objects.filter(operation="void").count() == 1
    assert money_problems() == []

"""A request for dates whose card is being authorized by another request waits for that
authorization to end instead of authorizing its own card (bookings.services.dates
``wait_for_rival_authorizations``). Each test runs the two requests in two threads with
their own connections to PostgreSQL: the rival's authorization is held open by a gateway
that pauses inside the call, while the other request arrives."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingStatus, BuiltinGatewayCall, Payment
from bookings.payments import DatabaseGateway, PaymentDeclined
from bookings.services import dates
from bookings.tests.factories import book, bookable_property, verified_guest
from bookings.tests.money import money_problems
from properties.quotes import property_today

pytestmark = pytest.mark.django_db(transaction=True)
Kind, Status = Payment.Kind, Payment.Status
PAUSE = 0.4  # how long the rival's gateway call lasts once the other request is on its way


class PausingGateway(DatabaseGateway):
    """The built-in gateway; its next authorization first runs ``meanwhile`` (once)."""

    meanwhile = None
    authorized_tokens: list[str] = []

    def authorize(self, *, token, **kwargs):
        PausingGateway.authorized_tokens.append(token)
        if (meanwhile := PausingGateway.meanwhile) is not None:
            PausingGateway.meanwhile = None
            meanwhile()
        return super().authorize(token=token, **kwargs)


@pytest.fixture
def pauses(monkeypatch):
    """The pauses a request waiting for a rival asks for, in seconds (then taken)."""
    asked: list[float] = []
    sleep = dates.time.sleep

    def recorded(seconds):
        asked.append(seconds)
        sleep(seconds)

    monkeypatch.setattr(dates, "_sleep", recorded)
    return asked


@pytest.fixture(autouse=True)
def gateway(settings):
    settings.PAYMENT_GATEWAY = f"{__name__}.PausingGateway"
    PausingGateway.meanwhile, PausingGateway.authorized_tokens = None, []
    return PausingGateway


class Request(threading.Thread):
    """A booking request in a thread of its own: its outcome, and how long it took."""

    def __init__(self, prop, guest, token="tok_ok"):
        super().__init__()
        self.prop, self.guest, self.token = prop, guest, token
        self.booking = self.error = None
        self.elapsed = 0.0

    def run(self):
        started = time.monotonic()
        try:
            self.booking = book(self.prop, self.guest, token=self.token)
        except Exception as exc:
            self.error = exc
        finally:
            self.elapsed = time.monotonic() - started
            connections.close_all()


def _arrives_during_the_rivals_call(other: Request):
    """What the rival's gateway does: let the other request start, then take PAUSE."""

    def meanwhile():
        other.start()
        time.sleep(PAUSE)

    return meanwhile


def test_a_request_for_dates_being_authorized_waits_and_is_refused_without_touching_a_card(
    gateway,
):
    prop = bookable_property(instant_book=True)
    rival, late = verified_guest(), verified_guest()
    second = Request(prop, late, token="tok_late")  # the gateway would refuse it: never sent
    gateway.meanwhile = _arrives_during_the_rivals_call(second)

    first = book(prop, rival)
    second.join(timeout=10)

    assert first.status == BookingStatus.CONFIRMED
    assert isinstance(second.error, services.DatesUnavailable), second.error
    assert gateway.authorized_tokens == ["tok_ok"]  # the late guest's card never touched
    assert list(Payment.objects.values_list("kind", flat=True)) == ["authorize", "capture"]
    assert not Payment.objects.filter(kind=Kind.VOID).exists()
    assert BuiltinGatewayCall.objects.count() == 2
    assert money_problems() == []


def test_when_the_rivals_card_is_declined_the_waiting_request_books_the_dates(gateway):
    prop = bookable_property(instant_book=True)
    second = Request(prop, verified_guest())
    gateway.meanwhile = _arrives_during_the_rivals_call(second)

    with pytest.raises(PaymentDeclined):
        book(prop, verified_guest(), token="tok_declined")
    second.join(timeout=10)

    assert second.error is None, second.error
    assert second.booking.status == BookingStatus.CONFIRMED
    assert second.elapsed >= PAUSE * 0.75  # it waited for the declined card's answer
    assert gateway.authorized_tokens == ["tok_declined", "tok_ok"]
    [booking] = Booking.objects.all()
    assert booking.payments.get(kind=Kind.AUTHORIZE).status == Status.SUCCEEDED
    assert money_problems() == []


def _pending_authorization(prop, check_in, check_out, *, age=timedelta(0)) -> Payment:
    """An authorization under way (or left pending by a request that crashed ``age`` ago)."""
    row = Payment.objects.create(
        kind=Kind.AUTHORIZE,
        amount=100,
        currency=prop.currency,
        status=Status.PENDING,
        gateway="database",
        idempotency_key=f"authorize-hung-{check_in}-{age.total_seconds()}",
        property=prop,
        check_in=check_in,
        check_out=check_out,
    )
    Payment.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)
    return row


def test_adjacent_dates_and_a_crashed_requests_authorization_are_not_waited_for(pauses):
    prop = bookable_property(instant_book=True)
    check_in = property_today(prop) + timedelta(days=20)  # book()'s stay: 3 nights from there
    _pending_authorization(prop, check_in - timedelta(days=2), check_in)  # ends as it starts
    _pending_authorization(prop, check_in + timedelta(days=3), check_in + timedelta(days=5))
    stale = dates.RIVAL_STALE + timedelta(seconds=1)
    _pending_authorization(prop, check_in, check_in + timedelta(days=3), age=stale)
    other_listing = bookable_property(instant_book=True)
    _pending_authorization(other_listing, check_in, check_in + timedelta(days=3))

    booking = book(prop, verified_guest())

    assert booking.status == BookingStatus.CONFIRMED
    assert pauses == []  # looked once, did not wait


def test_a_rival_that_never_ends_is_waited_for_a_bounded_time_and_the_lock_decides(
    monkeypatch, pauses
):
    monkeypatch.setattr(dates, "RIVAL_WAIT_SECONDS", 0.3)
    prop = bookable_property(instant_book=True)
    check_in = property_today(prop) + timedelta(days=21)  # overlaps book()'s 3 nights
    hung = _pending_authorization(prop, check_in, check_in + timedelta(days=1))

    booking = book(prop, verified_guest())

    assert booking.status == BookingStatus.CONFIRMED
    assert pauses[:3] == [0.01, 0.02, 0.04]  # doubling from 10 ms
    assert 0.3 <= sum(pauses) < 0.3 + 0.2  # then it stopped waiting
    hung.refresh_from_db()
    assert hung.status == Status.PENDING  # the sweep's, not the request's


def test_a_request_for_a_booking_waiting_for_payment_does_not_wait():
    """Paying a booking that already holds its dates records no stay: nobody waits on it."""
    prop = bookable_property(instant_book=True)
    held = book(prop, verified_guest(), token="")
    services.booking_pay(booking_id=held.pk, guest=held.guest, payment_token="tok_ok")
    authorization = held.payments.get(kind=Kind.AUTHORIZE)
    assert (authorization.property_id, authorization.check_in) == (None, None)


def test_a_burst_for_the_same_dates_books_once_and_leaves_no_money_out_of_place():
    prop = bookable_property(instant_book=True)
    requests = [Request(prop, verified_guest()) for _ in range(8)]
    for request in requests:
        request.start()
    for request in requests:
        request.join(timeout=20)

    made = [r.booking for r in requests if r.booking is not None]
    refused = [r.error for r in requests if r.error is not None]
    assert len(made) == 1 and len(refused) == 7
    assert all(isinstance(error, services.DatesUnavailable) for error in refused), refused
    voids = Payment.objects.filter(kind=Kind.VOID).count()
    authorizations = Payment.objects.filter(kind=Kind.AUTHORIZE).count()
    assert authorizations == 1 + voids  # each card touched for nothing was released
    assert not Payment.objects.filter(status=Status.PENDING).exists()
    assert money_problems() == []


def test_a_retry_with_the_same_key_while_the_first_request_is_under_way_gets_its_booking(
    gateway,
):
    """A client that timed out and sent its request again, same Idempotency-Key: the
    retry waits for the first request's card, then answers with the booking it made."""
    prop = bookable_property(instant_book=True)
    guest = verified_guest()
    check_in = property_today(prop) + timedelta(days=20)
    request = {
        "guest": guest, "property_id": prop.pk, "check_in": check_in,
        "check_out": check_in + timedelta(days=3), "guests": 2, "stay_type": "standard",
        "payment_token": "tok_ok", "idempotency_key": "retry-after-a-timeout",
    }  # fmt: skip
    retried = {}

    def retry():
        try:
            retried["answer"] = services.booking_create(**request)
        finally:
            connections.close_all()

    second = threading.Thread(target=retry)

    def meanwhile():
        second.start()
        time.sleep(PAUSE)

    gateway.meanwhile = meanwhile
    first, created = services.booking_create(**request)
    second.join(timeout=10)

    assert created and first.status == BookingStatus.CONFIRMED
    assert retried["answer"] == (first, False)  # a replay, not 409 dates_unavailable
    assert gateway.authorized_tokens == ["tok_ok"]  # one card authorization in all
    assert money_problems() == []

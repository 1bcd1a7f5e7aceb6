"""Booking flows over HTTP, as a client sees them."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.models import Booking, BookingStatus, Payment
from bookings.tests.factories import bookable_property, client_for, verified_guest

pytestmark = pytest.mark.django_db


def _body(prop, days_ahead=20, nights=3, **extra):
    check_in = timezone.now().date() + timedelta(days=days_ahead)
    return {
        "property": prop.pk,
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=nights)).isoformat(),
        "guests": 2,
        "stay_type": "standard",
        **extra,
    }


def _codes(response):
    return [error["code"] for error in response.json()["errors"]]


@pytest.fixture
def guest():
    return verified_guest()


@pytest.fixture
def guest_client(guest):
    return client_for(guest)


def test_instant_book_with_token_is_confirmed_and_captured(guest_client):
    prop = bookable_property(instant_book=True)
    response = guest_client.post("/api/v1/bookings/", _body(prop, payment_token="tok_ok"))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "confirmed"
    assert Decimal(data["total"]) > 0
    assert data["price"]["total"] == data["total"]
    kinds = list(Payment.objects.filter(booking_id=data["id"]).values_list("kind", flat=True))
    assert kinds == ["authorize", "capture"]


def test_instant_book_without_token_holds_for_payment_then_pay_confirms(guest_client):
    prop = bookable_property(instant_book=True)
    data = guest_client.post("/api/v1/bookings/", _body(prop)).json()
    assert data["status"] == "awaiting_payment"
    assert data["hold_expires_at"] is not None
    paid = guest_client.post(f"/api/v1/bookings/{data['id']}/pay/", {"payment_token": "tok_ok"})
    assert paid.status_code == 200 and paid.json()["status"] == "confirmed"
    again = guest_client.post(f"/api/v1/bookings/{data['id']}/pay/", {"payment_token": "tok_ok"})
    assert again.status_code == 409 and _codes(again) == ["invalid_transition"]


def test_request_to_book_needs_a_token_and_waits_for_the_host():
    prop = bookable_property(instant_book=False)
    client = client_for(verified_guest())
    missing = client.post("/api/v1/bookings/", _body(prop))
    assert missing.status_code == 400 and _codes(missing) == ["payment_token_required"]
    assert not Booking.objects.exists()
    data = client.post("/api/v1/bookings/", _body(prop, payment_token="tok_ok")).json()
    assert data["status"] == "pending_host"
    host = client_for(prop.host)
    approved = host.post(f"/api/v1/bookings/{data['id']}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "confirmed"
    kinds = list(Payment.objects.filter(booking_id=data["id"]).values_list("kind", flat=True))
    assert kinds == ["authorize", "capture"]


def test_host_decline_voids_the_authorization():
    prop = bookable_property(instant_book=False)
    data = (
        client_for(verified_guest())
        .post("/api/v1/bookings/", _body(prop, payment_token="tok_ok"))
        .json()
    )
    declined = client_for(prop.host).post(
        f"/api/v1/bookings/{data['id']}/decline/", {"reason": "busy"}
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    kinds = list(Payment.objects.filter(booking_id=data["id"]).values_list("kind", flat=True))
    assert kinds == ["authorize", "void"]


def test_overlapping_request_gets_409_dates_unavailable(guest_client):
    prop = bookable_property(instant_book=True)
    assert (
        guest_client.post(
            "/api/v1/bookings/", _body(prop, nights=4, payment_token="tok_ok")
        ).status_code
        == 201
    )
    other = client_for(verified_guest())
    response = other.post(
        "/api/v1/bookings/", _body(prop, days_ahead=22, nights=4, payment_token="tok_ok")
    )
    assert response.status_code == 409 and _codes(response) == ["dates_unavailable"]
    assert Booking.objects.count() == 1


def test_expired_hold_frees_the_dates_lazily(guest):
    prop = bookable_property(instant_book=True)
    held = client_for(guest).post("/api/v1/bookings/", _body(prop)).json()
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        guest_client = client_for(guest)  # a fresh access token at the new time
        seen = guest_client.get(f"/api/v1/bookings/{held['id']}/").json()
        assert seen["status"] == "expired"
        other = client_for(verified_guest())
        response = other.post("/api/v1/bookings/", _body(prop, payment_token="tok_ok"))
        assert response.status_code == 201, response.json()
        pay = guest_client.post(f"/api/v1/bookings/{held['id']}/pay/", {"payment_token": "tok_ok"})
        assert pay.status_code == 409
    assert Booking.objects.get(pk=held["id"]).status == BookingStatus.EXPIRED


def test_declined_card_and_gateway_error_leave_nothing_behind(guest_client):
    prop = bookable_property(instant_book=True)
    declined = guest_client.post("/api/v1/bookings/", _body(prop, payment_token="tok_declined"))
    assert declined.status_code == 402 and _codes(declined) == ["payment_declined"]
    failed = guest_client.post("/api/v1/bookings/", _body(prop, payment_token="tok_error"))
    assert failed.status_code == 502 and _codes(failed) == ["payment_gateway_error"]
    assert not Booking.objects.exists() and not Payment.objects.exists()
    ok = guest_client.post("/api/v1/bookings/", _body(prop, payment_token="tok_ok"))
    assert ok.status_code == 201


def test_idempotency_key_replays_and_refuses_a_different_body(guest_client):
    prop = bookable_property(instant_book=True)
    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-123"}
    first = guest_client.post("/api/v1/bookings/", _body(prop, payment_token="tok_ok"), **headers)
    again = guest_client.post("/api/v1/bookings/", _body(prop, payment_token="tok_ok"), **headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    other = guest_client.post(
        "/api/v1/bookings/", _body(prop, nights=5, payment_token="tok_ok"), **headers
    )
    assert other.status_code == 409 and _codes(other) == ["idempotency_key_reused"]
    assert Booking.objects.count() == 1


def test_guest_cancel_of_confirmed_booking_returns_the_refund(guest_client):
    prop = bookable_property(instant_book=True, cancellation_policy="flexible")
    data = guest_client.post(
        "/api/v1/bookings/", _body(prop, days_ahead=30, payment_token="tok_ok")
    ).json()
    response = guest_client.post(
        f"/api/v1/bookings/{data['id']}/cancel/", {"reason": "plans changed"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "cancelled"
    assert Decimal(body["refund"]["amount"]) == Decimal(data["total"])
    assert Payment.objects.filter(booking_id=data["id"], kind="refund").count() == 1
    twice = guest_client.post(f"/api/v1/bookings/{data['id']}/cancel/")
    assert twice.status_code == 409 and _codes(twice) == ["invalid_transition"]


def test_host_cancel_refunds_in_full_and_counts_against_the_host(guest_client):
    prop = bookable_property(instant_book=True, cancellation_policy="strict")
    data = guest_client.post(
        "/api/v1/bookings/", _body(prop, days_ahead=3, payment_token="tok_ok")
    ).json()
    response = client_for(prop.host).post(f"/api/v1/bookings/{data['id']}/cancel/")
    assert response.status_code == 200
    assert Decimal(response.json()["refund"]["amount"]) == Decimal(data["total"])
    prop.host.refresh_from_db()
    assert prop.host.host_cancellations == 1


def test_only_the_parties_see_a_booking(guest_client):
    prop = bookable_property(instant_book=True)
    data = guest_client.post("/api/v1/bookings/", _body(prop, payment_token="tok_ok")).json()
    assert client_for(prop.host).get(f"/api/v1/bookings/{data['id']}/").status_code == 200
    stranger = client_for(verified_guest())
    other_host = client_for(bookable_property().host)
    for client in (stranger, other_host):
        assert client.get(f"/api/v1/bookings/{data['id']}/").status_code == 404
        assert client.post(f"/api/v1/bookings/{data['id']}/cancel/").status_code == 404
    assert APIClient().get(f"/api/v1/bookings/{data['id']}/").status_code == 401
    assert Booking.objects.get(pk=data["id"]).status == "confirmed"


def test_lists_by_role_and_time(guest_client, guest):
    prop = bookable_property(instant_book=True)
    guest_client.post("/api/v1/bookings/", _body(prop, payment_token="tok_ok"))
    as_guest = guest_client.get("/api/v1/bookings/?role=guest&when=upcoming").json()
    as_host = client_for(prop.host).get("/api/v1/bookings/?role=host").json()
    assert len(as_guest["results"]) == 1 and len(as_host["results"]) == 1
    assert guest_client.get("/api/v1/bookings/?role=host").json()["results"] == []
    bad = guest_client.get("/api/v1/bookings/?role=owner")
    assert bad.status_code == 400


def test_unverified_guest_cannot_book():
    prop = bookable_property(instant_book=True)
    client = client_for(verified_guest(verified=False))
    response = client.post("/api/v1/bookings/", _body(prop, payment_token="tok_ok"))
    assert response.status_code == 403 and _codes(response) == ["email_unverified"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"check_out": "2020-01-01"}, "invalid_dates"),
        ({"guests": 0}, "min_value"),
        ({"guests": "two"}, "invalid"),
        ({"property": 999999}, "not_found"),
        ({"stay_type": "paying_guest"}, None),
        ({"meals": {"breakfast": True}}, None),
        ({"meals": {"brunch": True}}, "unknown_meal"),
        ({"check_in": "yesterday"}, "invalid"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_writes_nothing(guest_client, change, code):
    prop = bookable_property(instant_book=True)
    response = guest_client.post(
        "/api/v1/bookings/", {**_body(prop, payment_token="tok_ok"), **change}
    )
    assert 400 <= response.status_code < 500, response.content
    if code:
        assert code in _codes(response)
    assert not Booking.objects.exists()


def test_past_dates_and_too_many_guests_are_refused(guest_client):
    prop = bookable_property(instant_book=True)
    past = guest_client.post(
        "/api/v1/bookings/", _body(prop, days_ahead=-5, payment_token="tok_ok")
    )
    crowd = guest_client.post(
        "/api/v1/bookings/", {**_body(prop, payment_token="tok_ok"), "guests": 99}
    )
    assert past.status_code == 400 and crowd.status_code == 400
    assert not Booking.objects.exists()


def test_page_size_over_the_cap_is_a_400(guest_client):
    assert guest_client.get("/api/v1/bookings/?page_size=1000").status_code == 400
    assert guest_client.get("/api/v1/bookings/?page_size=0").status_code == 400
    assert guest_client.get("/api/v1/bookings/?page_size=50").status_code == 200

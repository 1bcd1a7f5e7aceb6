"""Issue 19, reputation: the response rate counts only requests and negotiations the host
could answer; gaining or losing superhost tells the host; averages round half up
(docs/analytics.md "Reputation"). Figures worked out by hand in each test."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from bookings import reviews, services
from bookings.models import Booking, BookingStatus, Review
from bookings.tests.factories import bookable_property, client_for, verified_guest
from negotiation import services as negotiation_services
from negotiation.models import Negotiation
from negotiation.reporting import host_record, superhosts_recompute
from notifications.models import Notification

pytestmark = pytest.mark.django_db
TODAY = timezone.now().date()


def _stay(prop, *, days_ahead: int, rating: int) -> Booking:
    """A completed instant-book stay of ``prop``, reviewed by both sides (published)."""
    guest = verified_guest()
    booking, _ = services.booking_create(
        guest=guest,
        property_id=prop.pk,
        check_in=TODAY + timedelta(days=days_ahead),
        check_out=TODAY + timedelta(days=days_ahead + 2),
        guests=1,
        stay_type="standard",
        payment_token="tok_ok",
    )
    Booking.objects.filter(pk=booking.pk).update(
        status=BookingStatus.COMPLETED, completed_at=timezone.now()
    )
    reviews.review_submit(booking_id=booking.pk, author=guest, overall=rating)
    reviews.review_submit(booking_id=booking.pk, author=prop.host, overall=5)
    return booking


def _superhost(ratings=(5,) * 8 + (4,) * 2):
    """A host with 10 stays rated 4.80 (8 x 5 + 2 x 4 = 48 / 10), superhost; and a second
    listing of theirs that takes requests (not instant book) and offers."""
    instant = bookable_property(instant_book=True)
    for n, rating in enumerate(ratings):
        _stay(instant, days_ahead=10 + 3 * n, rating=rating)
    host = instant.host
    assert superhosts_recompute() == 1
    host.refresh_from_db()
    assert host.is_superhost
    requests = bookable_property(instant_book=False, host=host)
    return host, requests


def _request(prop, *, days_ahead=200):
    booking, _ = services.booking_create(
        guest=verified_guest(),
        property_id=prop.pk,
        check_in=TODAY + timedelta(days=days_ahead),
        check_out=TODAY + timedelta(days=days_ahead + 2),
        guests=1,
        stay_type="standard",
        payment_token="tok_ok",
    )
    assert booking.status == BookingStatus.PENDING_HOST
    return booking


def _open(prop, *, days_ahead=300):
    return negotiation_services.negotiation_open(
        guest=verified_guest(),
        property_id=prop.pk,
        check_in=TODAY + timedelta(days=days_ahead),
        check_out=TODAY + timedelta(days=days_ahead + 2),
        guests=1,
        stay_type="standard",
        amount=Decimal("150.00"),
    ).negotiation


def test_a_request_withdrawn_a_moment_later_does_not_count_and_superhost_stays():
    host, prop = _superhost()
    booking = _request(prop)
    services.booking_cancel(booking_id=booking.pk, user=booking.guest)  # withdrawn
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        record = host_record(host_id=host.pk)
        assert record.response_rate == Decimal(1)  # nothing the host could answer
        assert record.rating == Decimal("4.80")
        assert superhosts_recompute() == 0
    host.refresh_from_db()
    assert host.is_superhost
    assert not Notification.objects.filter(user=host, kind="superhost.lost").exists()


def test_a_negotiation_withdrawn_within_the_window_does_not_count():
    host, prop = _superhost()
    negotiation = _open(prop)
    negotiation_services.negotiation_withdraw(negotiation_id=negotiation.pk, user=negotiation.guest)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert host_record(host_id=host.pk).response_rate == Decimal(1)
        assert superhosts_recompute() == 0


def test_a_request_still_inside_its_window_does_not_count_yet():
    host, prop = _superhost()
    _request(prop)
    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        assert host_record(host_id=host.pk).response_rate == Decimal(1)


def test_response_rate_against_a_hand_worked_table():
    """Two requests approved / declined in time, one answered after 30 h, one left
    waiting past its window (it expires), one withdrawn after 30 h without an answer (the
    host could have answered: counts), one withdrawn after 1 minute (does not count);
    a negotiation answered by a message in 2 h, one countered after 25 h, one withdrawn
    within 10 min (does not count), one ignored for 24 h.
    Counted: 4 requests + 1 late-withdrawn + 3 negotiations = 8; in time: 2 + 1 = 3.
    Rate 3 / 8 = 0.375."""
    host, prop = _superhost()
    start = timezone.now()
    at = lambda hours: time_machine.travel(start + timedelta(hours=hours), tick=False)  # noqa: E731
    with at(0):
        approved, declined, late, _ignored, withdrawn_late, withdrawn_soon = (
            _request(prop, days_ahead=100 + 3 * n) for n in range(6)
        )
        messaged, countered, withdrawn, _silent = (
            _open(prop, days_ahead=200 + 3 * n) for n in range(4)
        )
    with at(0.02):
        services.booking_cancel(booking_id=withdrawn_soon.pk, user=withdrawn_soon.guest)
    with at(0.15):
        negotiation_services.negotiation_withdraw(negotiation_id=withdrawn.pk, user=withdrawn.guest)
    with at(2):
        services.booking_approve(booking_id=approved.pk, host=host)
        services.booking_decline(booking_id=declined.pk, host=host)
        negotiation_services.negotiation_message(
            negotiation_id=messaged.pk, user=host, body="Hello, which dates exactly?"
        )
    with at(20):
        Booking.objects.filter(pk=late.pk).update(hold_expires_at=start + timedelta(days=3))
        Negotiation.objects.filter(pk=countered.pk).update(expires_at=start + timedelta(days=3))
    with at(25):
        negotiation_services.negotiation_offer(
            negotiation_id=countered.pk, user=host, amount=Decimal("190.00")
        )
    with at(30):
        services.booking_decline(booking_id=late.pk, host=host)
        Booking.objects.filter(pk=withdrawn_late.pk).update(
            hold_expires_at=start + timedelta(days=3)
        )
        services.booking_cancel(booking_id=withdrawn_late.pk, user=withdrawn_late.guest)
    with at(48):
        record = host_record(host_id=host.pk)
        assert record.response_rate == Decimal("0.375")
        assert superhosts_recompute() == 1
    host.refresh_from_db()
    assert not host.is_superhost


def test_losing_and_gaining_superhost_tells_the_host_in_app_and_by_email(
    django_capture_on_commit_callbacks,
):
    host, prop = _superhost()
    gained = Notification.objects.get(user=host, kind="superhost.gained")
    assert gained.data["completed_stays"] == 10 and gained.data["rating"] == "4.80"
    mail.outbox.clear()
    booking = _request(prop)
    with (
        time_machine.travel(timezone.now() + timedelta(days=2)),  # never answered
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert superhosts_recompute() == 1
    host.refresh_from_db()
    assert not host.is_superhost
    lost = Notification.objects.get(user=host, kind="superhost.lost")
    assert lost.data["response_rate"] == "0.0000"
    assert lost.data["criteria"]["min_response_rate"] == "0.90"
    (email,) = [m for m in mail.outbox if m.to == [host.email]]
    assert email.subject == "You are no longer a Superhost"
    assert "Response rate: 0.0000 (at least 0.90, answered within 24 hours)" in email.body
    assert "Response rate" in email.alternatives[0][0]
    # the request leaves the last 365 days: the status comes back, and the host is told
    Booking.objects.filter(pk=booking.pk).update(created_at=timezone.now() - timedelta(days=400))
    assert superhosts_recompute() == 1
    assert Notification.objects.filter(user=host, kind="superhost.gained").count() == 2


def test_averages_round_half_up():
    """Ratings 5, 5, 5, 5, 5, 4, 4, 4: 37 / 8 = 4.625, shown 4.63 (half-even gave 4.62)."""
    prop = bookable_property(instant_book=True)
    for n, rating in enumerate((5, 5, 5, 5, 5, 4, 4, 4)):
        _stay(prop, days_ahead=10 + 3 * n, rating=rating)
    prop.refresh_from_db()
    prop.host.refresh_from_db()
    assert prop.rating_avg == Decimal("4.63")
    assert prop.host.host_rating_avg == Decimal("4.63")
    assert host_record(host_id=prop.host_id).rating == Decimal("4.63")
    body = client_for(verified_guest()).get(f"/api/v1/properties/{prop.pk}/").json()
    assert body["rating"] == "4.63"
    assert body["rating_breakdown"]["overall"] == "4.63"
    assert body["host"]["rating"] == "4.63"


def test_category_averages_round_half_up():
    """Cleanliness 5, 4 over two stays: 4.5; 3 of 5 and 1 of 4 over eight: 4.625 -> 4.63."""
    prop = bookable_property(instant_book=True)
    for n, clean in enumerate((5, 5, 5, 5, 5, 4, 4, 4)):
        guest = verified_guest()
        booking, _ = services.booking_create(
            guest=guest,
            property_id=prop.pk,
            check_in=TODAY + timedelta(days=10 + 3 * n),
            check_out=TODAY + timedelta(days=12 + 3 * n),
            guests=1,
            stay_type="standard",
            payment_token="tok_ok",
        )
        Booking.objects.filter(pk=booking.pk).update(
            status=BookingStatus.COMPLETED, completed_at=timezone.now()
        )
        reviews.review_submit(booking_id=booking.pk, author=guest, overall=5, cleanliness=clean)
        reviews.review_submit(booking_id=booking.pk, author=prop.host, overall=5)
    prop.refresh_from_db()
    assert prop.rating_categories == {"cleanliness": "4.63"}
    assert prop.rating_avg == Decimal("5.00")


def _guest_with_a_host_review(*, stars=4, text="Left the flat spotless."):
    """A guest whose past stay the host reviewed (published): the guest's rating 4.00."""
    prop = bookable_property(instant_book=True)
    booking = _stay(prop, days_ahead=10, rating=5)
    Review.objects.filter(booking=booking, side=Review.Side.HOST).update(overall=stars, text=text)
    reviews._refresh_user_aggregates(booking.guest_id)
    return booking.guest


def test_the_guest_reads_the_reviews_hosts_wrote_of_them():
    guest = _guest_with_a_host_review()
    body = client_for(guest).get("/api/v1/auth/me/reviews/").json()
    assert [(r["side"], r["overall"], r["text"]) for r in body] == [
        ("host", 4, "Left the flat spotless.")
    ]
    assert client_for(verified_guest()).get("/api/v1/auth/me/reviews/").json() == []


def test_a_host_the_guest_asks_reads_the_guests_reviews_on_the_request_and_negotiation():
    guest = _guest_with_a_host_review()
    prop = bookable_property(instant_book=False)
    booking, _ = services.booking_create(
        guest=guest,
        property_id=prop.pk,
        check_in=TODAY + timedelta(days=100),
        check_out=TODAY + timedelta(days=102),
        guests=1,
        stay_type="standard",
        payment_token="tok_ok",
    )
    host = client_for(prop.host)
    seen = host.get(f"/api/v1/bookings/{booking.pk}/").json()["guest_reviews"]
    assert seen["rating"] == "4.00" and seen["count"] == 1
    assert [r["text"] for r in seen["reviews"]] == ["Left the flat spotless."]
    # the guest reading their own booking gets no such field filled
    assert client_for(guest).get(f"/api/v1/bookings/{booking.pk}/").json()["guest_reviews"] is None
    negotiation = negotiation_services.negotiation_open(
        guest=guest,
        property_id=prop.pk,
        check_in=TODAY + timedelta(days=200),
        check_out=TODAY + timedelta(days=202),
        guests=1,
        stay_type="standard",
    ).negotiation
    seen = host.get(f"/api/v1/negotiations/{negotiation.pk}/").json()["guest_reviews"]
    assert [r["overall"] for r in seen["reviews"]] == [4]
    # once the guest no longer asks (declined, withdrawn), the host reads nothing more
    services.booking_decline(booking_id=booking.pk, host=prop.host)
    negotiation_services.negotiation_withdraw(negotiation_id=negotiation.pk, user=guest)
    assert host.get(f"/api/v1/bookings/{booking.pk}/").json()["guest_reviews"] is None
    assert host.get(f"/api/v1/negotiations/{negotiation.pk}/").json()["guest_reviews"] is None
    # another host, whom the guest never asked, has no way to read them
    assert (
        client_for(bookable_property().host).get(f"/api/v1/bookings/{booking.pk}/").status_code
        == 404
    )

"""Booking services: the state table, events after commit, periodic work, reviews, superhost."""

import asyncio
import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from bookings import reviews, services, sweeps, transitions
from bookings.models import TRANSITIONS, Booking, BookingStatus, BookingStatusChange, Review
from bookings.tests.factories import bookable_property, verified_guest
from core.errors import InvalidTransition
from negotiation.reporting import superhosts_recompute
from notifications.events import user_group

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = timezone.now().date()


def _book(prop, guest, *, days_ahead=10, nights=2, token="tok_ok"):
    booking, _ = services.booking_create(
        guest=guest,
        property_id=prop.pk,
        check_in=TODAY + timedelta(days=days_ahead),
        check_out=TODAY + timedelta(days=days_ahead + nights),
        guests=1,
        stay_type="standard",
        payment_token=token,
    )
    return booking


ALL = list(BookingStatus.values)


@pytest.mark.parametrize(("source", "target"), list(itertools.product(ALL, ALL)))
def test_transition_table(source, target):
    prop = bookable_property(instant_book=True)
    booking = _book(prop, verified_guest())
    Booking.objects.filter(pk=booking.pk).update(status=source, hold_expires_at=None)
    booking.refresh_from_db()
    if target in TRANSITIONS[source]:
        with transaction.atomic():
            transitions.transition(booking, target, actor=None, reason="test")
        assert Booking.objects.get(pk=booking.pk).status == target
        assert BookingStatusChange.objects.filter(
            booking=booking, from_status=source, to_status=target
        ).exists()
    else:
        with pytest.raises(InvalidTransition), transaction.atomic():
            transitions.transition(booking, target, actor=None)
        assert Booking.objects.get(pk=booking.pk).status == source


async def _received_while(user_ids, action, timeout=2.0):
    """Subscribe to the users' groups, run the sync ``action``, collect what arrives."""
    layer = get_channel_layer()
    channels = {}
    for user_id in user_ids:
        channels[user_id] = await layer.new_channel()
        await layer.group_add(user_group(user_id), channels[user_id])
    result = await sync_to_async(action)()
    received = {}
    for user_id, channel in channels.items():
        try:
            received[user_id] = await asyncio.wait_for(layer.receive(channel), timeout)
        except TimeoutError:
            received[user_id] = None
        await layer.group_discard(user_group(user_id), channel)
    return result, received


def test_events_reach_both_parties_after_commit():
    prop = bookable_property(instant_book=True)
    guest = verified_guest()
    booking, received = async_to_sync(_received_while)(
        [guest.pk, prop.host_id], lambda: _book(prop, guest)
    )
    for user_id in (guest.pk, prop.host_id):
        payload = received[user_id]["payload"]
        assert payload["type"] == "booking.confirmed"
        assert payload["booking"]["id"] == booking.pk


def test_a_rolled_back_transaction_publishes_nothing():
    prop = bookable_property(instant_book=True)
    guest = verified_guest()

    def book_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            _book(prop, guest)
            raise RuntimeError("abort")

    _, received = async_to_sync(_received_while)([guest.pk], book_then_fail, timeout=0.5)
    assert not Booking.objects.exists()
    assert received[guest.pk] is None


def test_expiry_sweep_records_lapsed_holds_and_voids_authorizations():
    prop = bookable_property(instant_book=False)
    booking = _book(prop, verified_guest())
    assert booking.status == BookingStatus.PENDING_HOST
    assert sweeps.bookings_expire_lapsed() == 0
    later = timezone.now() + timedelta(hours=25)
    assert sweeps.bookings_expire_lapsed(now=later) == 1
    assert sweeps.bookings_expire_lapsed(now=later) == 0  # idempotent
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED
    assert list(booking.payments.values_list("kind", flat=True)) == ["authorize", "void"]


def test_completion_waits_for_check_out_in_the_property_time_zone():
    prop = bookable_property(instant_book=True, timezone="Pacific/Auckland")
    booking = _book(prop, verified_guest(), days_ahead=1, nights=1)
    check_out = booking.check_out
    # Just before midnight of check-out day in Auckland: not yet.
    before = datetime.combine(
        check_out, datetime.min.time(), ZoneInfo("Pacific/Auckland")
    ) - timedelta(minutes=1)
    assert sweeps.bookings_complete_finished(now=before) == 0
    after = before + timedelta(minutes=2)
    assert sweeps.bookings_complete_finished(now=after) == 1
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED and booking.completed_at is not None


def _completed_stay(prop=None, guest=None):
    prop = prop or bookable_property(instant_book=True)
    guest = guest or verified_guest()
    booking = _book(prop, guest)
    Booking.objects.filter(pk=booking.pk).update(
        status=BookingStatus.COMPLETED, completed_at=timezone.now()
    )
    return Booking.objects.select_related("property").get(pk=booking.pk), guest


def test_reviews_are_double_blind_and_update_aggregates():
    booking, guest = _completed_stay()
    host = booking.property.host
    first = reviews.review_submit(
        booking_id=booking.pk, author=guest, overall=5, cleanliness=4, text="Lovely"
    )
    assert first.published_at is None
    booking.property.refresh_from_db()
    assert booking.property.review_count == 0
    with pytest.raises(reviews.AlreadyReviewed):
        reviews.review_submit(booking_id=booking.pk, author=guest, overall=1)
    reviews.review_submit(booking_id=booking.pk, author=host, overall=4)
    assert Review.objects.filter(booking=booking, published_at__isnull=False).count() == 2
    prop = booking.property
    prop.refresh_from_db()
    host.refresh_from_db()
    guest.refresh_from_db()
    assert (prop.rating_avg, prop.review_count) == (Decimal("5.00"), 1)
    assert prop.rating_categories["cleanliness"] == "4.00"
    assert (host.host_rating_avg, guest.guest_rating_avg) == (Decimal("5.00"), Decimal("4.00"))
    reply = reviews.review_reply(review_id=first.pk, host=host, text="Thank you!")
    assert reply.host_reply == "Thank you!"
    with pytest.raises(reviews.ReplyNotAllowed):
        reviews.review_reply(review_id=first.pk, host=host, text="Again")


def test_review_window_closes_and_lone_reviews_publish():
    booking, guest = _completed_stay()
    reviews.review_submit(booking_id=booking.pk, author=guest, overall=3)
    assert reviews.reviews_publish_due() == 0
    later = timezone.now() + timedelta(days=15)
    with pytest.raises(reviews.ReviewNotAllowed):
        reviews.review_submit(
            booking_id=booking.pk, author=booking.property.host, overall=5, now=later
        )
    assert reviews.reviews_publish_due(now=later) == 1
    booking.property.refresh_from_db()
    assert booking.property.review_count == 1


def test_only_completed_stays_of_the_parties_can_be_reviewed():
    prop = bookable_property(instant_book=True)
    guest = verified_guest()
    booking = _book(prop, guest)
    with pytest.raises(reviews.ReviewNotAllowed):
        reviews.review_submit(booking_id=booking.pk, author=guest, overall=5)
    with pytest.raises(Booking.DoesNotExist):
        reviews.review_submit(booking_id=booking.pk, author=verified_guest(), overall=5)


def test_superhost_needs_ten_great_stays_and_no_cancellations():
    prop = bookable_property(instant_book=True)
    host = prop.host
    for n in range(10):
        booking = _book(prop, verified_guest(), days_ahead=10 + 3 * n)
        Booking.objects.filter(pk=booking.pk).update(
            status=BookingStatus.COMPLETED, completed_at=timezone.now()
        )
        reviews.review_submit(booking_id=booking.pk, author=booking.guest, overall=5)
        reviews.review_submit(booking_id=booking.pk, author=host, overall=5)
    assert superhosts_recompute() == 1
    host.refresh_from_db()
    assert host.is_superhost
    assert superhosts_recompute() == 0  # idempotent
    cancelled = _book(prop, verified_guest(), days_ahead=100)
    services.booking_cancel(booking_id=cancelled.pk, user=host)
    superhosts_recompute()
    host.refresh_from_db()
    assert not host.is_superhost


def test_time_travel_keeps_lazy_expiry_consistent_with_the_sweep():
    prop = bookable_property(instant_book=True)
    guest = verified_guest()
    booking, _ = services.booking_create(
        guest=guest,
        property_id=prop.pk,
        check_in=TODAY + timedelta(days=5),
        check_out=TODAY + timedelta(days=7),
        guests=1,
        stay_type="standard",
    )
    later = timezone.now() + timedelta(minutes=30, seconds=1)
    with time_machine.travel(later), pytest.raises(services.HoldExpired):
        services.booking_pay(booking_id=booking.pk, guest=guest, payment_token="tok_ok")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT  # the refused call rolled back
    assert sweeps.bookings_expire_lapsed(now=timezone.now() + timedelta(minutes=31)) == 1

"""Superhost status, recomputed daily from the last 365 days of a host's activity.

The definitions are documented in docs/analytics.md ("Reputation"):

- completed stays: bookings of the host's listings created in the last 365 days and
  completed; at least ``MIN_STAYS``;
- rating: the average overall rating of the published guest reviews of the host in
  that period, rounded half up to 2 decimals (4.625 is 4.63); at least ``MIN_RATING``;
- cancellation rate: confirmed bookings the host cancelled over bookings that were
  confirmed; below ``MAX_CANCELLATION_RATE``;
- response rate: of the requests to book (``pending_host``) and the negotiations a guest
  opened, those the host *could answer*, answered by the host within
  ``RESPONSE_TIME``; at least ``MIN_RESPONSE_RATE``. The host could answer one if the
  host did answer it (at any time), or if it was still waiting for the host when its
  response window closed. A request or negotiation that ended before its window closed
  without the host (the guest withdrew, another booking took the dates, the
  host's auto-accept price accepted it) does not count, nor does one whose window is
  still open. With none to count the rate is 1.

Gaining or losing the status tells the host (``superhost.gained`` /
``superhost.lost``: in-app and email).

This module works out a host's record from bookings and reviews, given the other things
the host could answer (:func:`host_record`), and stores the status (:func:`superhost_set`);
:mod:`negotiation.reporting` composes them with the negotiations a guest opened
(``superhosts_recompute``, the daily task).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum

from accounts.models import User
from bookings.models import Booking, BookingStatus, BookingStatusChange, Review
from bookings.reviews import average
from notifications.services import notify

MIN_STAYS = 10
MIN_RATING = Decimal("4.8")
MAX_CANCELLATION_RATE = Decimal("0.01")
MIN_RESPONSE_RATE = Decimal("0.90")
RESPONSE_TIME = timedelta(hours=24)
PERIOD = timedelta(days=365)


@dataclass(frozen=True)
class Answerable:
    """A request or negotiation waiting for the host from ``opened_at``: ``deadline`` ends
    its response window; ``host_answered_at`` is the host's first answer (or None);
    ``ended_at`` is when it stopped waiting for the host some other way (or None)."""

    opened_at: datetime
    deadline: datetime
    host_answered_at: datetime | None
    ended_at: datetime | None

    def counts(self, now: datetime) -> bool:
        if self.host_answered_at is not None:
            return True
        if self.ended_at is not None and self.ended_at < self.deadline:
            return False  # withdrawn, taken or auto-accepted before the host had to answer
        return now >= self.deadline

    def answered_in_time(self) -> bool:
        return self.host_answered_at is not None and self.host_answered_at <= self.deadline


def response_rate(items: list[Answerable], *, now: datetime) -> tuple[Decimal, int, int]:
    """(rate, answered in time, counted); the rate is 1 with nothing counted."""
    counted = [item for item in items if item.counts(now)]
    answered = sum(1 for item in counted if item.answered_in_time())
    rate = Decimal(answered) / Decimal(len(counted)) if counted else Decimal(1)
    return rate, answered, len(counted)


def booking_requests_answerable(host_id: int, since: datetime) -> list[Answerable]:
    """The requests to book (``pending_host``) of the host's listings made since ``since``."""
    requests = BookingStatusChange.objects.filter(
        booking__property__host_id=host_id,
        booking__created_at__gte=since,
        from_status="",
        to_status=BookingStatus.PENDING_HOST,
    ).values_list("booking_id", "at")
    opened = dict(requests)
    left: dict[int, tuple] = {}
    for booking_id, at, actor_id in (
        BookingStatusChange.objects.filter(
            booking_id__in=list(opened), from_status=BookingStatus.PENDING_HOST
        )
        .order_by("at", "pk")
        .values_list("booking_id", "at", "actor_id")
    ):
        left.setdefault(booking_id, (at, actor_id))
    items = []
    for booking_id, opened_at in opened.items():
        at, actor_id = left.get(booking_id, (None, None))
        by_host = at is not None and actor_id == host_id
        items.append(
            Answerable(
                opened_at=opened_at,
                deadline=opened_at + RESPONSE_TIME,
                host_answered_at=at if by_host else None,
                ended_at=at if not by_host else None,
            )
        )
    return items


@dataclass(frozen=True)
class HostRecord:
    completed_stays: int
    rating: Decimal | None
    cancellation_rate: Decimal
    response_rate: Decimal

    @property
    def qualifies(self) -> bool:
        return (
            self.completed_stays >= MIN_STAYS
            and self.rating is not None
            and self.rating >= MIN_RATING
            and self.cancellation_rate < MAX_CANCELLATION_RATE
            and self.response_rate >= MIN_RESPONSE_RATE
        )


def host_record(*, host_id: int, now: datetime, also_answerable: list[Answerable]) -> HostRecord:
    """The host's record over the ``PERIOD`` before ``now``; the response rate counts the
    host's requests to book and ``also_answerable`` (the negotiations a guest opened)."""
    since = now - PERIOD
    bookings = Booking.objects.filter(property__host_id=host_id, created_at__gte=since)
    completed = bookings.filter(status=BookingStatus.COMPLETED).count()
    ratings = Review.objects.filter(
        subject_id=host_id, side=Review.Side.GUEST, published_at__gte=since
    ).aggregate(total=Sum("overall"), n=Count("pk"))
    host_cancelled = BookingStatusChange.objects.filter(
        booking__in=bookings, to_status=BookingStatus.CANCELLED, actor_id=host_id
    ).count()
    held = BookingStatusChange.objects.filter(
        booking__in=bookings, to_status=BookingStatus.CONFIRMED
    ).count()
    rate, _, _ = response_rate(
        booking_requests_answerable(host_id, since) + also_answerable, now=now
    )
    return HostRecord(
        completed_stays=completed,
        rating=average(ratings["total"], ratings["n"]),
        cancellation_rate=Decimal(host_cancelled) / Decimal(held) if held else Decimal(0),
        response_rate=rate,
    )


@transaction.atomic
def superhost_set(*, host_id: int, record: HostRecord) -> bool:
    """Store whether the host qualifies, under the user row's lock; a change tells the host
    (``superhost.gained`` or ``superhost.lost``, in-app and by email). Returns whether it
    changed."""
    host = User.objects.select_for_update().get(pk=host_id)
    if host.is_superhost == record.qualifies:
        return False
    host.is_superhost = record.qualifies
    host.save(update_fields=["is_superhost"])
    notify(
        user_id=host_id,
        kind="superhost.gained" if record.qualifies else "superhost.lost",
        data=_record_data(record),
    )
    return True


def _record_data(record: HostRecord) -> dict:
    """The figures the notification shows (and the email explains)."""
    return {
        "completed_stays": record.completed_stays,
        "rating": None if record.rating is None else str(record.rating),
        "cancellation_rate": str(record.cancellation_rate.quantize(Decimal("0.0001"))),
        "response_rate": str(record.response_rate.quantize(Decimal("0.0001"))),
        "criteria": {
            "min_stays": MIN_STAYS,
            "min_rating": str(MIN_RATING),
            "max_cancellation_rate": str(MAX_CANCELLATION_RATE),
            "min_response_rate": str(MIN_RESPONSE_RATE),
            "response_hours": int(RESPONSE_TIME.total_seconds() // 3600),
        },
    }

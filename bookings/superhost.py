"""Superhost status, recomputed daily from the last 365 days of a host's stays.

Criteria: at least 10 completed stays; average guest rating >= 4.8; host
cancellation rate below 1 %; response rate >= 90 % (requests to book answered,
approved or declined, within 24 hours; offers join this once negotiation lands).
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Avg, F
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, BookingStatus, BookingStatusChange, Review
from notifications.services import notify

MIN_STAYS = 10
MIN_RATING = Decimal("4.8")
MAX_CANCELLATION_RATE = Decimal("0.01")
MIN_RESPONSE_RATE = Decimal("0.90")
RESPONSE_TIME = timedelta(hours=24)


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


def host_record(*, host_id: int, now=None) -> HostRecord:
    now = now or timezone.now()
    since = now - timedelta(days=365)
    bookings = Booking.objects.filter(property__host_id=host_id, created_at__gte=since)
    completed = bookings.filter(status=BookingStatus.COMPLETED).count()
    rating = Review.objects.filter(
        subject_id=host_id, side=Review.Side.GUEST, published_at__gte=since
    ).aggregate(avg=Avg("overall"))["avg"]
    host_cancelled = BookingStatusChange.objects.filter(
        booking__in=bookings, to_status=BookingStatus.CANCELLED, actor_id=host_id
    ).count()
    held = BookingStatusChange.objects.filter(
        booking__in=bookings, to_status=BookingStatus.CONFIRMED
    ).count()
    requests = BookingStatusChange.objects.filter(
        booking__in=bookings, from_status="", to_status=BookingStatus.PENDING_HOST
    )
    answered_in_time = BookingStatusChange.objects.filter(
        booking__in=requests.values("booking_id"),
        from_status=BookingStatus.PENDING_HOST,
        to_status__in=(BookingStatus.CONFIRMED, BookingStatus.DECLINED),
        actor_id=host_id,
        at__lte=F("booking__created_at") + RESPONSE_TIME,
    ).count()
    request_count = requests.count()
    return HostRecord(
        completed_stays=completed,
        rating=Decimal(str(rating)).quantize(Decimal("0.01")) if rating is not None else None,
        cancellation_rate=Decimal(host_cancelled) / Decimal(held) if held else Decimal(0),
        response_rate=Decimal(answered_in_time) / Decimal(request_count)
        if request_count
        else Decimal(1),
    )


def superhosts_recompute(*, now=None) -> int:
    """Recompute every host; returns how many changed. Idempotent."""
    changed = 0
    for host_id in User.objects.filter(is_host=True).values_list("pk", flat=True).iterator():
        qualifies = host_record(host_id=host_id, now=now).qualifies
        with transaction.atomic():
            host = User.objects.select_for_update().get(pk=host_id)
            if host.is_superhost != qualifies:
                host.is_superhost = qualifies
                host.save(update_fields=["is_superhost"])
                changed += 1
                if qualifies:
                    notify(user_id=host_id, kind="superhost.gained", data={})
    return changed

"""Periodic booking work: idempotent, bounded per run, safe when two runs overlap
(``skip_locked``)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from bookings import fanout
from bookings.models import Booking, BookingStatus
from bookings.reminders import invite_reviews
from bookings.transitions import expire, transition


def bookings_expire_lapsed(*, now: datetime | None = None, batch: int = 200) -> int:
    now = now or timezone.now()
    with transaction.atomic():
        lapsed = list(
            Booking.objects.select_for_update(skip_locked=True)
            .select_related("property")
            .filter(
                status__in=(BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT),
                hold_expires_at__lte=now,
            )
            .order_by("hold_expires_at")[:batch]
        )
        for booking in lapsed:
            expire(booking, now=now)
    return len(lapsed)


def bookings_complete_finished(*, now: datetime | None = None, batch: int = 200) -> int:
    """Confirmed stays whose check-out date has passed in the property's time zone."""
    now = now or timezone.now()
    done = 0
    with transaction.atomic():
        candidates = (
            Booking.objects.select_for_update(skip_locked=True)
            .select_related("property")
            .filter(status=BookingStatus.CONFIRMED, check_out__lte=now.date() + timedelta(days=1))
            .order_by("check_out")[:batch]
        )
        for booking in candidates:
            local_today = now.astimezone(ZoneInfo(booking.property.timezone or "UTC")).date()
            if booking.check_out <= local_today:
                booking.completed_at = now
                booking.save(update_fields=["completed_at"])
                transition(booking, BookingStatus.COMPLETED, actor=None, reason="stay finished")
                fanout.tell_booking_completed(booking)
                invite_reviews(booking)
                done += 1
    return done

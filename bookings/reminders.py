"""Periodic reminders (idempotent: one notification per booking and kind, see notify_once).

- a request waiting for the host expires within 2 hours -> remind the host;
- check-in is tomorrow in the property's time zone -> remind the guest, with the
  check-in time and address;
- a stay completed -> invite both sides to review (sent by the completion service).
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from bookings.events import stay_summary
from bookings.models import Booking, BookingStatus
from notifications.services import notify_once

REQUEST_REMINDER_AHEAD = timedelta(hours=2)


def remind_expiring_requests(*, now=None, batch: int = 500) -> int:
    now = now or timezone.now()
    due = (
        Booking.objects.filter(
            status=BookingStatus.PENDING_HOST,
            hold_expires_at__gt=now,
            hold_expires_at__lte=now + REQUEST_REMINDER_AHEAD,
        )
        .select_related("property")
        .order_by("hold_expires_at")[:batch]
    )
    sent = 0
    for booking in due:
        minutes_left = int((booking.hold_expires_at - now).total_seconds() // 60)
        sent += bool(
            notify_once(
                user_id=booking.property.host_id,
                kind="booking.request_expiring",
                key=f"booking:{booking.pk}",
                data={**_summary(booking), "minutes_left": minutes_left},
            )
        )
    return sent


def remind_check_ins(*, now=None, batch: int = 2000) -> int:
    now = now or timezone.now()
    candidates = (
        Booking.objects.filter(
            status=BookingStatus.CONFIRMED,
            check_in__gte=now.date(),
            check_in__lte=now.date() + timedelta(days=2),
        )
        .select_related("property")
        .order_by("check_in")[:batch]
    )
    sent = 0
    for booking in candidates:
        prop = booking.property
        tomorrow = now.astimezone(ZoneInfo(prop.timezone or "UTC")).date() + timedelta(days=1)
        if booking.check_in != tomorrow:
            continue
        data = {
            **_summary(booking),
            "title": prop.title,
            "address": f"{prop.address}, {prop.city}".strip(", "),
            "check_in_time": prop.check_in_time.strftime("%H:%M"),
        }
        sent += bool(
            notify_once(
                user_id=booking.guest_id,
                kind="booking.checkin_reminder",
                key=f"booking:{booking.pk}",
                data=data,
            )
        )
    return sent


def invite_reviews(booking: Booking) -> None:
    for user_id in (booking.guest_id, booking.property.host_id):
        notify_once(
            user_id=user_id,
            kind="review.invitation",
            key=f"booking:{booking.pk}",
            data=_summary(booking),
        )


def _summary(booking: Booking) -> dict:
    return {
        "id": booking.pk,
        "check_in": booking.check_in.isoformat(),
        "check_out": booking.check_out.isoformat(),
        "total": str(booking.total),
        "currency": booking.currency,
        "hold_expires_at": booking.hold_expires_at.isoformat() if booking.hold_expires_at else None,
        "property": booking.property_id,
        **stay_summary(booking),  # what the email says: listing, times, guests, names
    }

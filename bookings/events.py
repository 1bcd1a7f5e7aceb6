"""Booking events for both parties' notification groups (``booking.*``), after commit."""

from bookings.models import Booking
from notifications.events import publish_to_users


def booking_event_payload(booking: Booking, event: str) -> dict:
    return {
        "type": event,
        "booking": {
            "id": booking.pk,
            "status": booking.status,
            "property": booking.property_id,
            "check_in": booking.check_in.isoformat(),
            "check_out": booking.check_out.isoformat(),
            "total": str(booking.total),
            "currency": booking.currency,
            "hold_expires_at": booking.hold_expires_at.isoformat()
            if booking.hold_expires_at
            else None,
        },
    }


def booking_published(booking: Booking, event: str) -> None:
    publish_to_users(
        [booking.guest_id, booking.property.host_id], booking_event_payload(booking, event)
    )

"""The payload of a booking's live ``booking.*`` event (and of its notifications and
emails). Sending it is :mod:`bookings.fanout`'s, called by the services."""

from django.utils import timezone

from bookings.models import Booking, BookingStatus


def _minutes_left(booking: Booking) -> int | None:
    if booking.hold_expires_at is None:
        return None
    return max(0, int((booking.hold_expires_at - timezone.now()).total_seconds() // 60))


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
            "minutes_left": _minutes_left(booking),
            "refund": booking.price.get("refund"),
            # the receipt: the booking's own items, which add up to ``total``
            "line_items": [
                {"label": item["label"], "amount": item["amount"]}
                for item in booking.price.get("line_items", [])
            ],
            "address": _address_once_confirmed(booking),
            **stay_summary(booking),
        },
    }


def stay_summary(booking: Booking) -> dict:
    """What a person reading about the booking away from the site needs (its emails): the
    listing, the times in the property's time zone, the guests, the terms, first names."""
    prop = booking.property
    return {
        "title": prop.title,
        "timezone": prop.timezone or "UTC",
        "check_in_time": prop.check_in_time.strftime("%H:%M") if prop.check_in_time else "",
        "check_out_time": prop.check_out_time.strftime("%H:%M") if prop.check_out_time else "",
        "guests": booking.guests,
        "stay_type": booking.stay_type,
        "cancellation_policy": booking.cancellation_policy,
        "guest_id": booking.guest_id,
        "host_id": prop.host_id,
        "guest_name": booking.guest.first_name,
        "host_name": prop.host.first_name,
    }


def _address_once_confirmed(booking: Booking) -> str | None:
    """Where the stay is, for the confirmation email: only once it is confirmed (paid)."""
    if booking.status not in {BookingStatus.CONFIRMED, BookingStatus.COMPLETED}:
        return None
    prop = booking.property
    return ", ".join(part for part in (prop.address, prop.neighbourhood, prop.city) if part)

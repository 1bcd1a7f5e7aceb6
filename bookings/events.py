"""Booking events for both parties' notification groups (``booking.*``), after commit."""

from django.utils import timezone

from bookings.models import Booking, BookingStatus
from notifications.events import publish_to_users
from notifications.services import tell


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


def booking_published(
    booking: Booking, event: str, actor_id: int | None = None, reason: str = ""
) -> None:
    """The live ``booking.*`` event to both parties, and the notifications the table says
    (``notifications.recipients``: the guest is told a booking waits for payment whoever
    accepted; both parties of a confirmation or cancellation, the actor's copy a receipt).
    ``reason`` is the history row's (``listing_archived`` when archiving the listing
    released the booking: the email says so)."""
    payload = booking_event_payload(booking, event)
    payload["booking"]["reason"] = reason
    parties = [booking.guest_id, booking.property.host_id]
    publish_to_users(parties, payload)
    tell(
        kind=event,
        guest_id=booking.guest_id,
        host_id=booking.property.host_id,
        actor_id=actor_id,
        data={**payload["booking"], "by": _actor_side(booking, actor_id)},
    )


def _actor_side(booking: Booking, actor_id: int | None) -> str:
    if actor_id == booking.guest_id:
        return "guest"
    if actor_id is not None and actor_id == booking.property.host_id:
        return "host"
    return "system"

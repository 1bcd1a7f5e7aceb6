"""Who may act on a booking, checked under its lock, and the hold check every action on a
payment hold makes."""

from datetime import datetime

from accounts.models import User
from bookings.models import Booking
from bookings.services.errors import HoldExpired
from bookings.transitions import hold_lapsed, lock_booking


def lock_for_party(booking_id: int, *, user: User, role: str) -> Booking:
    """Lock the booking; only its guest (``role="guest"``) or host may act. Others: 404."""
    booking = lock_booking(booking_id)
    refuse_unless_party(booking, user=user, role=role)
    return booking


def refuse_unless_party(booking: Booking, *, user: User, role: str) -> None:
    allowed = booking.guest_id if role == "guest" else booking.property.host_id
    if user.pk != allowed:
        raise Booking.DoesNotExist


def refuse_if_lapsed(booking: Booking, now: datetime) -> None:
    """A hold past its ``hold_expires_at`` is expired whether or not the sweep recorded it
    (the sweep records it; this action only refuses)."""
    if hold_lapsed(booking, now):
        raise HoldExpired()

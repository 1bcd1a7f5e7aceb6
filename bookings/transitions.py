"""The one place a booking changes status: the transition table, the history row, the
event published after commit; and expiry, which also releases the authorization."""

from datetime import datetime

from accounts.models import User
from bookings import charges, events
from bookings.models import TRANSITIONS, Booking, BookingStatus, BookingStatusChange
from core.errors import InvalidTransition


def check_transition(booking: Booking, to_status: str) -> None:
    if to_status not in TRANSITIONS[booking.status]:
        raise InvalidTransition(
            f"A booking that is {booking.get_status_display().lower()} cannot become {to_status}."
        )


def transition(booking: Booking, to_status: str, *, actor: User | None, reason: str = "") -> None:
    """Checks the table, writes the status, records history."""
    check_transition(booking, to_status)
    from_status = booking.status
    booking.status = to_status
    if to_status not in (BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT):
        booking.hold_expires_at = None
    booking.save(update_fields=["status", "hold_expires_at", "updated_at"])
    record(booking, from_status=from_status, actor=actor, reason=reason)


def record(booking: Booking, *, from_status: str, actor: User | None, reason: str = "") -> None:
    """History row for the booking's current status (``from_status=""`` when created)."""
    BookingStatusChange.objects.create(
        booking=booking,
        from_status=from_status,
        to_status=booking.status,
        actor=actor,
        reason=reason,
    )
    events.booking_published(
        booking, f"booking.{booking.status}", actor_id=actor.pk if actor else None, reason=reason
    )


def lock_booking(booking_id: int) -> Booking:
    return Booking.objects.select_for_update().select_related("property").get(pk=booking_id)


def hold_lapsed(booking: Booking, now: datetime) -> bool:
    return booking.hold_expires_at is not None and booking.hold_expires_at <= now


def expire(booking: Booking, *, now: datetime) -> None:
    charges.void_authorization(booking)
    transition(booking, BookingStatus.EXPIRED, actor=None, reason="hold expired")

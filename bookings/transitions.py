"""The one place a booking changes status: the transition table and the history row.

``transition`` and ``record`` write rows and nothing else. What leaves a service when a
booking changes (the live event, notifications and emails: :mod:`bookings.fanout`; the
payment steps: :mod:`bookings.charges`) is called by the service itself, where its
reader sees it. ``expire``, the transition the system makes on its own (lazily under a
lock, or from the sweep), writes its effects out too.
"""

from datetime import datetime

from django.db.models import Subquery

from accounts.models import User
from bookings import charges, fanout
from bookings.models import TRANSITIONS, Booking, BookingStatus, BookingStatusChange
from core import locks
from core.errors import InvalidTransition
from properties.models import Property


def check_transition(booking: Booking, to_status: str) -> None:
    if to_status not in TRANSITIONS[booking.status]:
        raise InvalidTransition(
            f"A booking that is {booking.get_status_display().lower()} cannot become {to_status}."
        )


def transition(booking: Booking, to_status: str, *, actor: User | None, reason: str = "") -> None:
    """Checks the table, writes the status and its history row."""
    check_transition(booking, to_status)
    from_status = booking.status
    booking.status = to_status
    if to_status not in (BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT):
        booking.hold_expires_at = None
    booking.save(update_fields=["status", "hold_expires_at", "updated_at"])
    record(booking, from_status=from_status, actor=actor, reason=reason)


def record(
    booking: Booking, *, from_status: str, actor: User | None, reason: str = ""
) -> BookingStatusChange:
    """The history row for the booking's current status (``from_status=""`` when created)."""
    return BookingStatusChange.objects.create(
        booking=booking,
        from_status=from_status,
        to_status=booking.status,
        actor=actor,
        reason=reason,
    )


def lock_booking(booking_id: int) -> Booking:
    """Lock the booking's property, then the booking: the order every writer of a
    property's dates keeps (``Booking.DoesNotExist`` if there is no such booking)."""
    of_booking = Booking.objects.filter(pk=booking_id).values("property_id")[:1]
    locks.lock_rows(Property.objects.filter(pk=Subquery(of_booking)).values_list("pk"))
    return locks.lock_one(
        Booking.objects.select_related("property").filter(pk=booking_id),
        of=("self",),
        timeout_already_set=True,  # by the property lock just above
    )


def hold_lapsed(booking: Booking, now: datetime) -> bool:
    return booking.hold_expires_at is not None and booking.hold_expires_at <= now


def expire(booking: Booking, *, now: datetime) -> None:
    """Record a lapsed hold as expired (the caller holds its lock)."""
    charges.void_after_commit(booking)
    transition(booking, BookingStatus.EXPIRED, actor=None, reason="hold expired")
    fanout.tell_booking_expired(booking)

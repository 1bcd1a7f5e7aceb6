"""What leaves a booking service when a booking changes: one function per kind of change,
each called by the service that made it, in its transaction.

Each sends the live ``booking.<status>`` event to both parties' notification groups and
tells the parties as the table in :mod:`notifications.recipients` says (in-app, and by
email for the kinds that have one: the guest is told a booking waits for payment
whoever accepted; both parties of a confirmation or cancellation, the actor's copy a
receipt). Both leave only after commit: a rolled-back transaction sends nothing.
``reason`` is the history row's (``listing_archived`` when archiving the listing
released the booking: the email says so).
"""

from accounts.models import User
from bookings.events import booking_event_payload
from bookings.models import Booking
from notifications.events import publish_to_users
from notifications.services import tell


def tell_booking_created(booking: Booking, *, actor: User | None, reason: str) -> None:
    """A new booking: ``pending_host``, ``awaiting_payment`` or ``confirmed``."""
    _publish_and_tell(booking, actor=actor, reason=reason)


def tell_booking_confirmed(booking: Booking, *, actor: User, reason: str) -> None:
    _publish_and_tell(booking, actor=actor, reason=reason)


def tell_booking_declined(booking: Booking, *, actor: User, reason: str) -> None:
    _publish_and_tell(booking, actor=actor, reason=reason)


def tell_booking_cancelled(booking: Booking, *, actor: User, reason: str) -> None:
    _publish_and_tell(booking, actor=actor, reason=reason)


def tell_booking_expired(booking: Booking) -> None:
    _publish_and_tell(booking, actor=None, reason="hold expired")


def tell_booking_completed(booking: Booking) -> None:
    _publish_and_tell(booking, actor=None, reason="stay finished")


def _publish_and_tell(booking: Booking, *, actor: User | None, reason: str) -> None:
    event = f"booking.{booking.status}"
    actor_id = actor.pk if actor else None
    payload = booking_event_payload(booking, event)
    payload["booking"]["reason"] = reason
    publish_to_users([booking.guest_id, booking.property.host_id], payload)
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

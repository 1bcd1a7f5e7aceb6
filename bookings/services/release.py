"""Releasing payment holds in bulk when what they depend on ends: a listing archived, a
guest's account closed. Each booking released is told like any other (its event, in-app,
email); its authorization is voided once the caller's transaction commits."""

from datetime import datetime

from accounts.models import User
from bookings import charges, fanout
from bookings.models import Booking, BookingStatus
from bookings.transitions import expire, hold_lapsed, transition
from core import locks

_HOLDS = (BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT)


def bookings_release_holds(*, property_id: int, actor: User, reason: str, now: datetime) -> int:
    """Release every payment hold of a property (it is being archived): requests waiting
    for the host are declined, bookings waiting for payment cancelled, their
    authorizations voided; lapsed ones are recorded as expired. The caller holds the
    property lock. Returns how many."""
    held = locks.lock_rows(
        Booking.objects.select_related("property").filter(
            property_id=property_id, status__in=_HOLDS
        ),
        of=("self",),
    )
    for booking in held:
        if hold_lapsed(booking, now):
            expire(booking, now=now)
            continue
        if booking.status == BookingStatus.PENDING_HOST:
            transition(booking, BookingStatus.DECLINED, actor=actor, reason=reason)
            charges.void_after_commit(booking)
            fanout.tell_booking_declined(booking, actor=actor, reason=reason)
        else:
            transition(booking, BookingStatus.CANCELLED, actor=actor, reason=reason)
            charges.void_after_commit(booking)
            fanout.tell_booking_cancelled(booking, actor=actor, reason=reason)
    return len(held)


def bookings_release_for_guest(*, guest: User, reason: str, now: datetime) -> list[Booking]:
    """Release every payment hold of a guest whose account is closing: each request or
    booking awaiting payment is cancelled (by the guest) and its authorization voided;
    lapsed ones are recorded as expired. Returns the bookings released."""
    held = locks.lock_rows(
        Booking.objects.select_related("property").filter(guest=guest, status__in=_HOLDS),
        of=("self",),
    )
    released = []
    for booking in held:
        if hold_lapsed(booking, now):
            expire(booking, now=now)
            continue
        transition(booking, BookingStatus.CANCELLED, actor=guest, reason=reason)
        charges.void_after_commit(booking)
        fanout.tell_booking_cancelled(booking, actor=guest, reason=reason)
        released.append(booking)
    return released

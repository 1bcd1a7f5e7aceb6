"""The host answers a request to book: approve (the authorization is captured once the
booking is confirmed) or decline (it is voided)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bookings import charges, fanout
from bookings.models import Booking, BookingStatus
from bookings.services.parties import lock_for_party, refuse_if_lapsed
from bookings.transitions import transition
from core.errors import InvalidTransition


def booking_approve(*, booking_id: int, host: User, now: datetime | None = None) -> Booking:
    now = now or timezone.now()
    reason = "approved by host"
    with transaction.atomic():
        booking = lock_for_party(booking_id, user=host, role="host")
        if booking.status != BookingStatus.PENDING_HOST:
            # awaiting_payment also leads to confirmed, but by the guest paying: there is
            # no authorization for the host to capture (a fuzz-found 500)
            raise InvalidTransition("Only a request waiting for the host can be approved.")
        refuse_if_lapsed(booking, now)
        transition(booking, BookingStatus.CONFIRMED, actor=host, reason=reason)
        charges.capture_after_commit(booking)
        fanout.tell_booking_confirmed(booking, actor=host, reason=reason)
    return booking


def booking_decline(*, booking_id: int, host: User, reason: str = "") -> Booking:
    reason = reason or "declined"
    with transaction.atomic():
        booking = lock_for_party(booking_id, user=host, role="host")
        if booking.status != BookingStatus.PENDING_HOST:
            raise InvalidTransition("Only a request waiting for the host can be declined.")
        transition(booking, BookingStatus.DECLINED, actor=host, reason=reason)
        charges.void_after_commit(booking)
        fanout.tell_booking_declined(booking, actor=host, reason=reason)
    return booking

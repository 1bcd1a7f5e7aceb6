"""The guest pays for a booking waiting for payment (instant book without a token, or an
accepted negotiation).

The card is authorized first, without a lock (no provider call under a row lock); then,
under the booking's lock, the booking is checked again, takes the authorization and is
confirmed, and the capture is made once that commits. If the booking can no longer be
paid by then (it expired, was cancelled or its listing archived), the authorization is
voided at once and the error answered.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bookings import charges, fanout
from bookings.models import Booking, BookingStatus
from bookings.services.parties import lock_for_party, refuse_if_lapsed, refuse_unless_party
from bookings.transitions import transition
from core.errors import InvalidTransition


def booking_pay(
    *, booking_id: int, guest: User, payment_token: str, now: datetime | None = None
) -> Booking:
    now = now or timezone.now()
    booking = Booking.objects.select_related("property").get(pk=booking_id)
    refuse_unless_party(booking, user=guest, role="guest")
    _refuse_unless_payable(booking, now)  # before the card is authorized for nothing
    authorization = charges.authorize(
        token=payment_token, amount=booking.total, currency=booking.currency
    )
    try:
        with transaction.atomic():
            booking = lock_for_party(booking_id, user=guest, role="guest")
            _refuse_unless_payable(booking, now)
            charges.claim(authorization, booking)
            transition(booking, BookingStatus.CONFIRMED, actor=guest, reason="paid")
            charges.capture_after_commit(booking)
            fanout.tell_booking_confirmed(booking, actor=guest, reason="paid")
    except BaseException:
        charges.void_lost(authorization)  # the booking was not paid
        raise
    return booking


def _refuse_unless_payable(booking: Booking, now: datetime) -> None:
    if booking.status != BookingStatus.AWAITING_PAYMENT:
        raise InvalidTransition("Only a booking waiting for payment can be paid.")
    if booking.property.status == booking.property.Status.ARCHIVED:
        # archiving releases every hold under the property lock; this is the backstop
        raise InvalidTransition("This listing was archived; the booking can't be paid.")
    refuse_if_lapsed(booking, now)

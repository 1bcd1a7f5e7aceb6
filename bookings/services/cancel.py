"""Cancelling a booking, and the refund it gives (one pure function of the policy,
:mod:`bookings.refunds`, capped at what may still be refunded). The refund is written
with the cancellation and sent to the gateway once that commits."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from bookings import charges, fanout
from bookings.models import Booking, BookingStatus
from bookings.refunds import Refund, RefundInput, compute_refund
from bookings.services.parties import refuse_if_lapsed
from bookings.transitions import check_transition, lock_booking, transition
from core.errors import InvalidTransition


def booking_cancel(
    *, booking_id: int, user: User, reason: str = "", now: datetime | None = None
) -> tuple[Booking, Refund | None]:
    """Cancel as the guest or the host; returns the booking and the refund issued."""
    now = now or timezone.now()
    reason = reason or "cancelled"
    with transaction.atomic():
        booking = lock_booking(booking_id)
        by_host = user.pk == booking.property.host_id
        if not by_host and user.pk != booking.guest_id:
            raise Booking.DoesNotExist
        if booking.status in (BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT):
            if by_host:
                raise InvalidTransition("A host declines a request instead of cancelling it.")
            refuse_if_lapsed(booking, now)
            transition(booking, BookingStatus.CANCELLED, actor=user, reason=reason)
            charges.void_after_commit(booking)
            fanout.tell_booking_cancelled(booking, actor=user, reason=reason)
            return booking, None
        check_transition(booking, BookingStatus.CANCELLED)
        refund = compute_refund(
            _refund_input(booking, now=now, by_host=by_host, refundable=charges.refundable(booking))
        )
        booking.price = {**booking.price, "refund": refund.as_dict()}
        booking.save(update_fields=["price"])
        if by_host:
            User.objects.filter(pk=booking.property.host_id).update(
                host_cancellations=F("host_cancellations") + 1
            )
        transition(booking, BookingStatus.CANCELLED, actor=user, reason=reason)
        charges.refund_after_commit(booking, refund.amount)
        fanout.tell_booking_cancelled(booking, actor=user, reason=reason)
        return booking, refund


def booking_refund_quote(*, booking: Booking, by_host: bool, now: datetime) -> Refund:
    """The refund cancelling ``booking`` at ``now`` would give: what ``booking_cancel``
    computes, with the same pure function and cap, without cancelling anything."""
    return compute_refund(
        _refund_input(booking, now=now, by_host=by_host, refundable=charges.refundable(booking))
    )


def check_in_instant(booking: Booking) -> datetime:
    prop = booking.property
    tz = ZoneInfo(prop.timezone or "UTC")
    check_in_time = getattr(prop, "check_in_time", None) or datetime.min.time().replace(hour=15)
    return datetime.combine(booking.check_in, check_in_time, tzinfo=tz)


def _refund_input(
    booking: Booking, *, now: datetime, by_host: bool, refundable: Decimal | None = None
) -> RefundInput:
    """The policy applies to the booking's own line items (an agreed booking's are the
    list items scaled to the agreed total), capped at what may still be refunded."""
    price = booking.price
    return RefundInput(
        policy=booking.cancellation_policy,
        booked_at=booking.created_at,
        cancelled_at=now,
        check_in_at=check_in_instant(booking),
        nights=booking.nights,
        stay_subtotal=Decimal(price.get("stay_subtotal", "0")),
        cleaning_fee=Decimal(price.get("cleaning_fee", "0")),
        service_fee=Decimal(price.get("service_fee", "0")),
        currency=booking.currency,
        by_host=by_host,
        refundable=refundable,
    )

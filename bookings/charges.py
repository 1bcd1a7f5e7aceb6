"""A booking's payment steps through the gateway, each recorded as a ``Payment`` row.

Every call carries an idempotency key derived from the booking, so a retried request
cannot charge twice. They run inside the caller's transaction: a gateway failure rolls
the booking back with them.
"""

from decimal import Decimal

from django.db.models import Sum

from bookings.models import Booking, Payment
from bookings.payments import get_gateway
from core.errors import ConflictError


class RefundExceedsCapture(ConflictError):
    default_code = "refund_exceeds_capture"
    default_detail = "A refund cannot exceed what was captured minus what was refunded."


def authorize(booking: Booking, token: str) -> Payment:
    key = f"booking-{booking.pk}-authorize-{booking.payments.count()}"
    result = get_gateway().authorize(
        token=token, amount=booking.total, currency=booking.currency, idempotency_key=key
    )
    return _record(booking, Payment.Kind.AUTHORIZE, booking.total, result.reference, key)


def capture(booking: Booking) -> Payment:
    authorization = _authorization(booking)
    key = f"booking-{booking.pk}-capture"
    result = get_gateway().capture(
        reference=authorization.gateway_reference,
        amount=booking.total,
        currency=booking.currency,
        idempotency_key=key,
    )
    return _record(booking, Payment.Kind.CAPTURE, booking.total, result.reference, key)


def void_authorization(booking: Booking) -> None:
    """Release an uncaptured authorization (once; nothing to do without one)."""
    authorization = _authorization(booking)
    if authorization is None or booking.payments.filter(kind=Payment.Kind.CAPTURE).exists():
        return
    key = f"booking-{booking.pk}-void"
    if Payment.objects.filter(idempotency_key=key).exists():
        return
    result = get_gateway().void(reference=authorization.gateway_reference, idempotency_key=key)
    _record(booking, Payment.Kind.VOID, Decimal(0), result.reference, key)


def refundable(booking: Booking) -> Decimal:
    """What may still be refunded: succeeded captures minus succeeded refunds."""
    sums = {
        row["kind"]: row["total"]
        for row in booking.payments.filter(
            status=Payment.Status.SUCCEEDED, kind__in=(Payment.Kind.CAPTURE, Payment.Kind.REFUND)
        )
        .values("kind")
        .annotate(total=Sum("amount"))
    }
    captured = sums.get(Payment.Kind.CAPTURE) or Decimal(0)
    return captured - (sums.get(Payment.Kind.REFUND) or Decimal(0))


def refund(booking: Booking, amount: Decimal) -> None:
    """Refund ``amount`` of the capture. The one place money goes back: it never sends
    more than :func:`refundable` (``409 refund_exceeds_capture``, nothing sent)."""
    capture_row = booking.payments.filter(kind=Payment.Kind.CAPTURE).first()
    if capture_row is None or amount <= 0:
        return
    if amount > refundable(booking):
        raise RefundExceedsCapture()
    earlier = booking.payments.filter(kind=Payment.Kind.REFUND).count()
    key = f"booking-{booking.pk}-refund" + (f"-{earlier + 1}" if earlier else "")
    result = get_gateway().refund(
        reference=capture_row.gateway_reference,
        amount=amount,
        currency=booking.currency,
        idempotency_key=key,
    )
    _record(booking, Payment.Kind.REFUND, amount, result.reference, key)


def _authorization(booking: Booking) -> Payment | None:
    return booking.payments.filter(kind=Payment.Kind.AUTHORIZE).order_by("-pk").first()


def _record(booking: Booking, kind: str, amount: Decimal, reference: str, key: str) -> Payment:
    return Payment.objects.create(
        booking=booking,
        kind=kind,
        amount=amount,
        currency=booking.currency,
        status=Payment.Status.SUCCEEDED,
        gateway=get_gateway().name,
        gateway_reference=reference,
        idempotency_key=key,
    )

"""What must hold of the money after any sequence of booking actions, crashes and sweeps,
checked from our payment rows and from the built-in gateway's own memory of its calls."""

from django.db.models import Count

from bookings.models import Booking, BookingStatus, BuiltinGatewayCall, Payment
from bookings.selectors import payments_out_of_balance

Kind, Status = Payment.Kind, Payment.Status

# what a booking in each status has done with the authorization it took
KEPT = {BookingStatus.PENDING_HOST}  # held, neither captured nor voided
CAPTURED = {BookingStatus.CONFIRMED, BookingStatus.COMPLETED}
VOIDED = {BookingStatus.DECLINED, BookingStatus.EXPIRED}


def money_problems() -> list[str]:
    """Everything wrong with the money; empty when it is consistent."""
    problems = []
    pending = list(Payment.objects.filter(status=Status.PENDING).values_list("pk", "kind"))
    if pending:
        problems.append(f"steps never made: {pending}")
    ours = set(
        Payment.objects.filter(status=Status.SUCCEEDED, gateway="builtin").values_list(
            "idempotency_key", flat=True
        )
    )
    theirs = set(BuiltinGatewayCall.objects.values_list("idempotency_key", flat=True))
    if ours != theirs:
        problems.append(f"gateway calls we have no record of: {sorted(theirs - ours)}")
        problems.append(f"records of calls the gateway never made: {sorted(ours - theirs)}")
    twice = (
        BuiltinGatewayCall.objects.filter(operation="capture")
        .values("reference")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    if twice:
        problems.append(f"an authorization captured twice: {list(twice)}")
    for authorization in Payment.objects.filter(kind=Kind.AUTHORIZE, status=Status.SUCCEEDED):
        problem = _authorization_problem(authorization)
        if problem:
            problems.append(f"authorization {authorization.pk}: {problem}")
    for booking in Booking.objects.filter(status__in=CAPTURED, payments__isnull=False).distinct():
        captured = booking.payments.filter(kind=Kind.CAPTURE, status=Status.SUCCEEDED)
        if [p.amount for p in captured] != [booking.total]:
            problems.append(f"booking {booking.pk} ({booking.status}) captured {list(captured)}")
    if out := payments_out_of_balance():
        problems.append(f"refunded beyond the capture: {out}")
    return problems


def _authorization_problem(authorization: Payment) -> str:
    followups = set(
        authorization.followups.filter(status=Status.SUCCEEDED).values_list("kind", flat=True)
    )
    voided, captured = Kind.VOID in followups, Kind.CAPTURE in followups
    booking = authorization.booking
    if booking is None:
        return "" if voided and not captured else "no booking took it and it was not voided"
    if voided and captured:
        return "both captured and voided"
    if booking.status in KEPT:
        return "" if not (voided or captured) else f"released while {booking.status}"
    if booking.status in CAPTURED:
        return "" if captured else f"not captured while {booking.status}"
    if booking.status in VOIDED:
        return "" if voided else f"left dangling, booking {booking.status}"
    if booking.status == BookingStatus.CANCELLED:
        return "" if voided or captured else "left dangling, booking cancelled"
    return f"taken by a booking {booking.status}"

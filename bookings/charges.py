"""A booking's payment steps through the gateway, each one a ``Payment`` row.

No gateway call runs while a row lock is held (DESIGN.md section 1): every call is
written first as a ``pending`` row (with its idempotency key), made outside any
transaction, then settled (``succeeded`` with the gateway's reference, or ``failed``);
one exception, the request's own void below, whose key the sweep can always redo.
docs/money.md ("Payment steps") walks through it.

- **authorize** (:func:`authorize`), before the booking's lock: the pending row commits
  on its own, then the call is made. A definite no (a declined card, an unknown token, a
  provider error) deletes the row: nothing happened.
- **claim** (:func:`claim`), under the lock, in the transaction that makes the booking
  hold its dates or confirm: one UPDATE records the gateway's answer (``succeeded``, its
  reference) and gives the authorization to the booking. If that transaction fails (the
  dates were taken meanwhile, the price changed, the hold lapsed, a lock timed out),
  nobody took it and the request voids it at once (:func:`void_lost`: the answer
  recorded, the call, then the void's row, already settled).
- **capture, void, refund** (:func:`capture_after_commit`, :func:`void_after_commit`,
  :func:`refund_after_commit`): the pending row is written under the lock with the
  status change; the call is made when that transaction commits (:func:`settle` on
  commit: right after the service's own transaction, or after the caller's if the
  service ran inside one). A call that fails leaves its row pending.
- **the sweep** (:func:`payments_reconcile`, a periodic task) finishes what a crash or a
  failed call left, for rows older than ``GRACE``: a pending authorization is settled
  by asking the gateway whether the call with its key happened; any other pending step
  is made again with the same key (the gateway carries a key out once); an
  authorization nobody claimed is voided.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings.models import Booking, Payment
from bookings.payments import (
    GatewayResult,
    InvalidPaymentToken,
    PaymentDeclined,
    PaymentGateway,
    PaymentGatewayError,
    get_gateway,
)
from core.errors import ApplicationError, ConflictError

logger = logging.getLogger(__name__)

# Older pending rows and unclaimed authorizations are the sweep's: no request takes
# anywhere near this long between its gateway call and its commit.
GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class StayDates:
    """The listing and the half-open range ``[check_in, check_out)`` of a stay."""

    property_id: int
    check_in: date
    check_out: date


Kind, Status = Payment.Kind, Payment.Status
_DEFINITE_NO = (PaymentDeclined, InvalidPaymentToken, PaymentGatewayError)
_COUNTED = (Status.PENDING, Status.SUCCEEDED)  # made, or to be made by the sweep


class RefundExceedsCapture(ConflictError):
    default_code = "refund_exceeds_capture"
    default_detail = "A refund cannot exceed what was captured minus what was refunded."


class AuthorizationAbandoned(PaymentGatewayError):
    default_detail = "The payment took too long and was released; nothing was charged. Try again."


# --- before the lock -----------------------------------------------------------------------


def authorize(
    *, token: str, amount: Decimal, currency: str, stay: StayDates | None = None
) -> Payment:
    """Authorize ``amount`` on the card of ``token``, before any lock is taken. Returns the
    authorization with the gateway's reference; its row stays ``pending`` until a booking
    takes it (:func:`claim`, the statement that records the answer) or it is voided
    (:func:`void_lost`, :func:`void_unclaimed`). A crash before either leaves the row to
    the sweep.

    ``stay``: the dates of a booking not made yet, written on the row, so that while it
    is pending a request for overlapping dates waits for it instead of authorizing a
    card of its own (:func:`bookings.services.dates.wait_for_rival_authorizations`)."""
    gateway = get_gateway()
    row = Payment.objects.create(  # one INSERT: committed on its own (autocommit)
        kind=Kind.AUTHORIZE,
        amount=amount,
        currency=currency,
        status=Status.PENDING,
        gateway=gateway.name,
        idempotency_key=f"authorize-{uuid.uuid4().hex}",
        property_id=stay.property_id if stay else None,
        check_in=stay.check_in if stay else None,
        check_out=stay.check_out if stay else None,
    )
    try:
        result = gateway.authorize(
            token=token, amount=amount, currency=currency, idempotency_key=row.idempotency_key
        )
    except _DEFINITE_NO:
        row.delete()  # nothing was authorized: nothing to reconcile
        raise
    row.gateway_reference = result.reference
    return row


def void_lost(authorization: Payment | None) -> Payment | None:
    """Void the authorization of a request that did not make its booking (the dates were
    taken meanwhile, the price changed, a lock timed out), outside any transaction; the
    request's own way out, where :func:`void_unclaimed` is the sweep's. Returns the void,
    or None if there was nothing to void. A failure is logged, not raised (the sweep
    voids what is left).

    No pending row first, unlike every other step: only this request could have claimed
    the authorization, and the void's key is the one :func:`void_unclaimed` uses, so a
    crash between the call and its record is repaired by the sweep voiding the unclaimed
    authorization again with the same key, which the gateway carries out once. Three
    statements where the sweep's way takes seven, on the path of every request that
    loses a race after authorizing. The first records the gateway's answer on the row,
    if still unclaimed: it waits for the row if the failed transaction's commit is still
    in doubt, and a booking that did get the authorization keeps it."""
    if authorization is None:
        return None
    try:
        if not _record_answer_if_unclaimed(authorization):
            return None  # the booking was made after all: its authorization stands
        gateway = get_gateway()
        key = f"{authorization.idempotency_key}-void"
        result = gateway.void(reference=authorization.gateway_reference, idempotency_key=key)
        return Payment.objects.create(
            parent=authorization,
            kind=Kind.VOID,
            amount=Decimal(0),
            currency=authorization.currency,
            status=Status.SUCCEEDED,
            gateway=gateway.name,
            gateway_reference=result.reference,
            idempotency_key=key,
            settled_at=timezone.now(),
        )
    except IntegrityError:
        return None  # the sweep recorded the void first (the same key)
    except Exception:
        logger.exception("could not void authorization %s; the sweep will", authorization.pk)
        return None


def void_unclaimed(authorization: Payment | None) -> Payment | None:
    """The sweep's void of an authorization no booking took (its request crashed or gave
    up), outside any other transaction. Returns the void, or None when there is nothing
    to void (claimed, or voided already). A failure is logged, not raised: the next
    sweep voids what is left.

    The authorization is settled (read from the database) or comes from
    :func:`authorize`: either way its ``gateway_reference`` is the gateway's answer. The
    statement that locks the unclaimed row also records that answer, for a row still
    pending or one marked failed while the call was under way: the gateway's word wins.
    The void's row is written pending with that update, and the call made after commit,
    so a claim waiting for the row sees it (:func:`claim`)."""
    if authorization is None:
        return None
    try:
        if not authorization.gateway_reference:
            raise ValueError(f"authorization {authorization.pk} has no answer to record")
        with transaction.atomic():
            if not _record_answer_if_unclaimed(authorization) or _voided(authorization):
                return None
            authorization.status = Status.SUCCEEDED
            key = f"{authorization.idempotency_key}-void"
            void = _pending(None, Kind.VOID, Decimal(0), key, authorization)
            settle_after_commit(void)
        return void
    except Exception:
        logger.exception("could not void authorization %s; the sweep will", authorization.pk)
        return None


# --- under the lock, with the status change ---------------------------------------------------


def claim(authorization: Payment, booking: Booking) -> None:
    """The booking takes the authorization (and its row records the gateway's answer), in
    the transaction that makes it hold its dates or confirm. Refused (``502
    payment_gateway_error``, nothing charged) if the sweep has released it meanwhile.

    The update locks the row until commit. Usually the row is still ``pending``, as
    :func:`authorize` left it: then nobody has voided it. The sweep's
    :func:`void_unclaimed` updates the row (to ``succeeded``) in the transaction that
    writes the void, which would have failed this one's condition (PostgreSQL checks it
    again on the row it waited for); :func:`void_lost` is the request's own, after its
    claim. Otherwise (the sweep settled the row while the request was slow) the void is
    looked for after the update, in a statement of its own, so that a void committed
    while the update waited is seen. A row the sweep found ``failed`` (it asked while the
    call was under way) is not taken: the caller's :func:`void_lost` records the answer
    and voids it."""
    if (authorization.amount, authorization.currency) != (booking.total, booking.currency):
        raise ValueError(
            f"authorization {authorization.pk} is not for booking {booking.pk}'s total"
        )
    settled_at = timezone.now()
    unclaimed = Payment.objects.filter(pk=authorization.pk, booking__isnull=True)
    answer = {
        "booking": booking,
        "status": Status.SUCCEEDED,
        "gateway_reference": authorization.gateway_reference,
        "settled_at": settled_at,
    }
    taken = unclaimed.filter(status=Status.PENDING).update(**answer) or (
        unclaimed.filter(status=Status.SUCCEEDED).update(**answer) and not _voided(authorization)
    )
    if not taken:
        raise AuthorizationAbandoned()
    authorization.booking, authorization.status = booking, Status.SUCCEEDED
    authorization.settled_at = settled_at


def capture_after_commit(booking: Booking, authorization: Payment | None = None) -> Payment:
    """The capture of the booking's authorization (``authorization`` if the caller has it
    at hand, as :func:`claim`'s caller does), made once this transaction commits."""
    row = _pending(
        booking,
        Kind.CAPTURE,
        booking.total,
        f"booking-{booking.pk}-capture",
        authorization or _authorization(booking),
    )
    settle_after_commit(row)
    return row


def void_after_commit(booking: Booking) -> Payment | None:
    """Release the booking's uncaptured authorization once this transaction commits
    (once; nothing to do without one)."""
    authorization = _authorization(booking)
    if (
        authorization is None
        or booking.payments.filter(kind=Kind.CAPTURE).exists()
        or _voided(authorization)
    ):
        return None
    row = _pending(
        booking, Kind.VOID, Decimal(0), f"{authorization.idempotency_key}-void", authorization
    )
    settle_after_commit(row)
    return row


def refund_after_commit(booking: Booking, amount: Decimal) -> Payment | None:
    """Refund ``amount`` of the capture once this transaction commits. The one place money
    goes back: never more than :func:`refundable` (``409 refund_exceeds_capture``,
    nothing written)."""
    capture_row = booking.payments.filter(kind=Kind.CAPTURE, status__in=_COUNTED).first()
    if capture_row is None or amount <= 0:
        return None
    if amount > refundable(booking):
        raise RefundExceedsCapture()
    earlier = booking.payments.filter(kind=Kind.REFUND).count()
    key = f"booking-{booking.pk}-refund" + (f"-{earlier + 1}" if earlier else "")
    row = _pending(booking, Kind.REFUND, amount, key, capture_row)
    settle_after_commit(row)
    return row


def refundable(booking: Booking) -> Decimal:
    """What may still be refunded: captures minus refunds, those made and those the sweep
    will make (pending)."""
    sums = {
        row["kind"]: row["total"]
        for row in booking.payments.filter(
            status__in=_COUNTED, kind__in=(Kind.CAPTURE, Kind.REFUND)
        )
        .values("kind")
        .annotate(total=Sum("amount"))
    }
    captured = sums.get(Kind.CAPTURE) or Decimal(0)
    return captured - (sums.get(Kind.REFUND) or Decimal(0))


# --- the gateway call of a pending row, after commit ----------------------------------------


def settle_after_commit(row: Payment) -> None:
    """Make the row's gateway call once the current transaction commits (at once outside
    one). Its failures are logged: the row stays pending for the sweep."""
    transaction.on_commit(lambda: settle(row.pk, row=row), robust=True)


def settle(payment_id: int, *, row: Payment | None = None) -> Payment:
    """Make the call a pending row stands for and record its result; a settled row comes
    back as it is. Safe to run twice, or in two processes at once: the gateway carries a
    key out once, and only a row not yet succeeded is updated. ``row``: the pending row
    as its writer just committed it, with its parent (not read again)."""
    if row is None:
        row = Payment.objects.select_related("parent").get(pk=payment_id)
    if row.status != Status.PENDING:
        return row
    gateway = get_gateway()
    if row.kind == Kind.AUTHORIZE:  # no token is kept: only the gateway knows if it happened
        result = gateway.lookup(idempotency_key=row.idempotency_key)
        return _settled(row, result.reference) if result else _failed(row)
    parent = row.parent
    if parent is not None and parent.status == Status.PENDING:
        parent = settle(parent.pk)
    if parent is None or parent.status != Status.SUCCEEDED:
        logger.error("payment %s (%s): what it acts on never happened", row.pk, row.kind)
        return _failed(row)
    try:
        result = _call(gateway, row, parent)
    except ApplicationError as exc:
        logger.warning("payment %s (%s) not made (%s); the sweep retries", row.pk, row.kind, exc)
        return row
    return _settled(row, result.reference)


def payments_reconcile(*, now: datetime | None = None, batch: int = 100) -> int:
    """The sweep: finish the payment steps older than ``GRACE`` that a crash or a failed
    call left (see the module docstring). Idempotent, bounded per run, safe when two runs
    overlap. Returns how many rows it settled or voided."""
    cutoff = (now or timezone.now()) - GRACE
    done = 0
    pending = Payment.objects.filter(status=Status.PENDING, created_at__lte=cutoff)
    for payment_id in pending.order_by("pk").values_list("pk", flat=True)[:batch]:
        done += settle(payment_id).status != Status.PENDING
    unclaimed = (
        Payment.objects.filter(
            kind=Kind.AUTHORIZE,
            status=Status.SUCCEEDED,
            booking__isnull=True,
            created_at__lte=cutoff,
        )
        .exclude(followups__kind=Kind.VOID)
        .order_by("pk")[:batch]
    )
    for authorization in list(unclaimed):
        done += void_unclaimed(authorization) is not None
    return done


def _call(gateway: PaymentGateway, row: Payment, parent: Payment) -> GatewayResult:
    key, reference = row.idempotency_key, parent.gateway_reference
    if row.kind == Kind.VOID:
        return gateway.void(reference=reference, idempotency_key=key)
    step = gateway.capture if row.kind == Kind.CAPTURE else gateway.refund
    return step(reference=reference, amount=row.amount, currency=row.currency, idempotency_key=key)


# --- rows ---------------------------------------------------------------------------------


def _pending(
    booking: Booking | None, kind: str, amount: Decimal, key: str, parent: Payment | None
) -> Payment:
    return Payment.objects.create(
        booking=booking,
        parent=parent,
        kind=kind,
        amount=amount,
        currency=booking.currency if booking else parent.currency,
        status=Status.PENDING,
        gateway=get_gateway().name,
        idempotency_key=key,
    )


def _settled(row: Payment, reference: str) -> Payment:
    # The gateway's word wins: an authorization the sweep took for never made (it asked
    # while the call was still under way) becomes a succeeded one nobody has claimed.
    settled_at = timezone.now()
    updated = (
        Payment.objects.filter(pk=row.pk)
        .exclude(status=Status.SUCCEEDED)
        .update(status=Status.SUCCEEDED, gateway_reference=reference, settled_at=settled_at)
    )
    if updated:
        row.status, row.gateway_reference, row.settled_at = (
            Status.SUCCEEDED,
            reference,
            settled_at,
        )
    else:  # settled meanwhile (by the sweep, or a repeat): what the database holds
        row.refresh_from_db()
    return row


def _record_answer_if_unclaimed(authorization: Payment) -> bool:
    """Record the gateway's answer (``succeeded``, its reference) on an authorization no
    booking took; False if one did. The update holds the row until commit, and waits for
    it if a transaction that may claim it is still open."""
    first_settled = Value(timezone.now(), output_field=DateTimeField())
    return bool(
        Payment.objects.filter(pk=authorization.pk, booking__isnull=True).update(
            status=Status.SUCCEEDED,
            gateway_reference=authorization.gateway_reference,
            settled_at=Coalesce("settled_at", first_settled),
        )
    )


def _failed(row: Payment) -> Payment:
    Payment.objects.filter(pk=row.pk, status=Status.PENDING).update(
        status=Status.FAILED, settled_at=timezone.now()
    )
    row.refresh_from_db()
    return row


def _authorization(booking: Booking) -> Payment | None:
    return (
        booking.payments.filter(kind=Kind.AUTHORIZE, status=Status.SUCCEEDED)
        .order_by("-pk")
        .first()
    )


def _voided(authorization: Payment) -> bool:
    return authorization.followups.filter(kind=Kind.VOID).exclude(status=Status.FAILED).exists()

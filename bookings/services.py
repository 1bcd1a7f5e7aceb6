"""Booking use-cases. Each write locks the property (or booking) row, checks, writes,
records history and registers its side effects on commit.

Double bookings are impossible by construction: every writer that takes dates
locks the property row first (``select_for_update``), expires lapsed holds,
checks for overlap and inserts, all in one transaction; on PostgreSQL the
exclusion constraint ``booking_no_overlap`` is the backstop and its violation
(SQLSTATE 23P01) is answered as ``409 dates_unavailable``. On SQLite the
transaction is IMMEDIATE, so check and insert cannot interleave.

Status changes and their history live in ``bookings.transitions``, payment steps in
``bookings.charges``, the periodic sweeps in ``bookings.sweeps``.
"""

import hashlib
import json
import logging
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from bookings import charges
from bookings.models import Booking, BookingStatus
from bookings.refunds import Refund, RefundInput, compute_refund
from bookings.transitions import (
    check_transition,
    expire,
    hold_lapsed,
    lock_booking,
    record,
    transition,
)
from core.errors import ApplicationError, ConflictError, InvalidTransition
from properties.errors import DatesUnavailable

logger = logging.getLogger(__name__)

PENDING_HOST_HOLD = timedelta(hours=settings.BOOKING_PENDING_HOST_HOURS)
AWAITING_PAYMENT_HOLD = timedelta(minutes=settings.BOOKING_PAYMENT_HOLD_MINUTES)
_RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock, serialization failure
_EXCLUSION_VIOLATION = "23P01"


class IdempotencyKeyReused(ConflictError):
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was used with a different request."


class PaymentTokenRequired(ApplicationError):
    default_code = "payment_token_required"
    default_detail = "A payment token is required to request this booking."


class HoldExpired(ConflictError):
    default_code = "hold_expired"
    default_detail = "The hold on these dates has expired."


class PriceChanged(ConflictError):
    """The quote the guest saw (``expected_total`` / ``expected_currency``) is not the
    price any more; the error carries the new quote and nothing was charged."""

    default_code = "price_changed"
    default_detail = "The price of this stay has changed; check the new quote and book again."


class OwnProperty(ApplicationError):
    default_code = "own_property"
    default_detail = "You cannot book your own property."


def _sqlstate(exc: Exception) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def run_with_retry(fn, *, attempts: int = 4):
    """Run ``fn`` (a whole transaction) again after a deadlock or serialization failure."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except OperationalError as exc:
            if _sqlstate(exc) not in _RETRYABLE_SQLSTATES or attempt == attempts:
                raise
            logger.info("retrying after %s (attempt %s)", _sqlstate(exc), attempt)
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def request_fingerprint(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- availability under the property lock -------------------------------------------------


def lock_property(property_id: int, *, published_only: bool = False):
    """Lock the property row: every writer of its dates goes through here first.

    A missing property (or, with ``published_only``, one not on sale) is a 404.
    """
    from properties.models import Property

    queryset = Property.objects.select_for_update()
    if published_only:
        queryset = queryset.filter(status=Property.Status.PUBLISHED)
    prop = queryset.filter(pk=property_id).first()
    if prop is None:
        raise Http404("No such property.")
    return prop


def expire_lapsed_holds(*, property_id: int, start: date, end: date, now: datetime) -> None:
    """Record holds that lapsed (lazy expiry) so they stop holding dates, also in the DB."""
    lapsed = (
        Booking.objects.select_for_update()
        .filter(
            property_id=property_id,
            status__in=(BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT),
            hold_expires_at__lte=now,
        )
        .overlapping(start, end)
    )
    for booking in lapsed:
        expire(booking, now=now)


def ensure_dates_free(*, property_id: int, start: date, end: date, now: datetime) -> None:
    """Raise ``DatesUnavailable`` if a holding booking or a host block overlaps. Caller holds
    the property lock."""
    from properties.selectors import blocks_overlapping

    expire_lapsed_holds(property_id=property_id, start=start, end=end, now=now)
    taken = Booking.objects.filter(property_id=property_id).holding(now).overlapping(start, end)
    if taken.exists() or blocks_overlapping(property_id=property_id, start=start, end=end):
        raise DatesUnavailable()


def insert_booking(booking: Booking, *, negotiation_id: int | None = None) -> Booking:
    """Insert in a savepoint; the exclusion constraint's veto becomes ``dates_unavailable``.

    Every other open negotiation over these dates becomes ``unavailable`` in the same
    transaction.
    """
    from negotiation.services import negotiations_mark_unavailable

    try:
        with transaction.atomic():
            booking.save(force_insert=True)
    except IntegrityError as exc:
        if _sqlstate(exc) == _EXCLUSION_VIOLATION:
            raise DatesUnavailable() from exc
        raise
    negotiations_mark_unavailable(
        property_id=booking.property_id,
        start=booking.check_in,
        end=booking.check_out,
        except_id=negotiation_id,
    )
    return booking


# --- use-cases -------------------------------------------------------------------------------


def booking_create(
    *,
    guest: User,
    property_id: int,
    check_in: date,
    check_out: date,
    guests: int,
    stay_type: str,
    meals: dict | None = None,
    payment_token: str = "",
    idempotency_key: str = "",
    expected_total: Decimal | None = None,
    expected_currency: str = "",
    now: datetime | None = None,
) -> tuple[Booking, bool]:
    """Create a booking at the list price; returns ``(booking, created)``.

    ``created`` is False when an ``Idempotency-Key`` replays an earlier identical
    request. ``expected_total`` and ``expected_currency`` are the quote the guest saw:
    if the price recomputed under the lock differs, ``409 price_changed`` carries the
    new quote and nothing is booked or charged.
    """
    meals = meals or {}
    expected_currency = expected_currency.upper()
    request = {
        "property": property_id,
        "check_in": check_in,
        "check_out": check_out,
        "guests": guests,
        "stay_type": stay_type,
        "meals": meals,
        "payment_token": payment_token,
    }
    if expected_total is not None or expected_currency:  # older fingerprints unchanged
        request["expected"] = [str(expected_total), expected_currency]
    fingerprint = request_fingerprint(request)
    if idempotency_key:
        replay = _idempotent_replay(guest, idempotency_key, fingerprint)
        if replay is not None:
            return replay, False
    _refuse_if_visibly_taken(property_id, check_in, check_out, now or timezone.now())

    def attempt() -> Booking:
        with transaction.atomic():
            return _create_locked(
                guest=guest,
                property_id=property_id,
                check_in=check_in,
                check_out=check_out,
                guests=guests,
                stay_type=stay_type,
                meals=meals,
                payment_token=payment_token,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                expected_total=expected_total,
                expected_currency=expected_currency,
                now=now or timezone.now(),
            )

    try:
        return run_with_retry(attempt), True
    except IntegrityError:
        # Two requests with the same key raced: the loser answers like a replay.
        if idempotency_key:
            replay = _idempotent_replay(guest, idempotency_key, fingerprint)
            if replay is not None:
                return replay, False
        raise


def _refuse_if_visibly_taken(property_id: int, check_in: date, check_out: date, now) -> None:
    """A fast path, not the guarantee: dates a committed booking or block already holds
    are refused from a plain read, without queueing for the property lock. Under
    contention all but the first request of a burst are such losers, and each one that
    skips the lock is one less in the queue (docs/benchmarks.md). Dates that look free
    are checked again under the lock."""
    from properties.selectors import dates_taken

    if dates_taken(property_id=property_id, start=check_in, end=check_out, now=now):
        raise DatesUnavailable()


def _idempotent_replay(guest: User, key: str, fingerprint: str) -> Booking | None:
    earlier = Booking.objects.filter(guest=guest, idempotency_key=key).first()
    if earlier is None:
        return None
    if earlier.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return earlier


def _create_locked(
    *,
    guest,
    property_id,
    check_in,
    check_out,
    guests,
    stay_type,
    meals,
    payment_token,
    idempotency_key,
    fingerprint,
    expected_total,
    expected_currency,
    now,
) -> Booking:
    from properties.services import quote_for_stay

    prop = lock_property(property_id, published_only=True)
    if prop.host_id == guest.pk:
        raise OwnProperty()
    # First what most requests of a burst fail on, so the queue behind the lock drains fast.
    ensure_dates_free(property_id=prop.pk, start=check_in, end=check_out, now=now)
    quote = quote_for_stay(
        property=prop,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        stay_type=stay_type,
        meals=meals,
        now=now,
    )
    if (expected_total is not None and expected_total != quote.total) or (
        expected_currency and expected_currency != quote.currency
    ):
        raise PriceChanged(quote=quote.as_dict())

    if prop.instant_book:
        status = BookingStatus.CONFIRMED if payment_token else BookingStatus.AWAITING_PAYMENT
    else:
        if not payment_token:
            raise PaymentTokenRequired()
        status = BookingStatus.PENDING_HOST
    holds = {
        BookingStatus.PENDING_HOST: now + PENDING_HOST_HOLD,
        BookingStatus.AWAITING_PAYMENT: now + AWAITING_PAYMENT_HOLD,
    }
    booking = insert_booking(
        Booking(
            property=prop,
            guest=guest,
            check_in=check_in,
            check_out=check_out,
            guests=guests,
            stay_type=stay_type,
            meals=meals,
            price=quote.as_dict(),
            total=quote.total,
            currency=prop.currency,
            status=status,
            hold_expires_at=holds.get(status),
            cancellation_policy=prop.cancellation_policy,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint,
        )
    )
    if payment_token:
        charges.authorize(booking, payment_token)
        if status == BookingStatus.CONFIRMED:
            charges.capture(booking)
    record(booking, from_status="", actor=guest, reason="created")
    return booking


def booking_create_agreed(
    *,
    prop,
    guest: User,
    negotiation_id: int,
    check_in: date,
    check_out: date,
    guests: int,
    stay_type: str,
    meals: dict,
    price: dict,
    total: Decimal,
    currency: str,
    cancellation_policy: str,
    now: datetime,
    actor: User | None,
) -> Booking:
    """The booking of an accepted negotiation: ``awaiting_payment`` at the agreed total.
    ``actor`` accepted it (the guest, the host, or ``None`` for an automatic acceptance);
    whoever it is, the guest is the one told to pay.

    The terms are the negotiation's, fixed when it opened (currency, cancellation policy,
    guests, stay type, meals), whatever the listing says by now. ``price`` is the list
    quote snapshot; the booking stores it scaled to the agreed total
    (:func:`properties.pricing.agreed_price`), so its line items add up to ``total``.
    The caller holds the property lock and runs inside its transaction.
    """
    from properties.pricing import agreed_price

    if prop.status == prop.Status.ARCHIVED:  # archiving ended its negotiations: a backstop
        raise DatesUnavailable("This listing was archived; nothing can be booked there.")
    ensure_dates_free(property_id=prop.pk, start=check_in, end=check_out, now=now)
    booking = insert_booking(
        Booking(
            property=prop,
            guest=guest,
            check_in=check_in,
            check_out=check_out,
            guests=guests,
            stay_type=stay_type,
            meals=meals,
            price=agreed_price(price, total),
            total=total,
            currency=currency,
            status=BookingStatus.AWAITING_PAYMENT,
            hold_expires_at=now + AWAITING_PAYMENT_HOLD,
            cancellation_policy=cancellation_policy,
        ),
        negotiation_id=negotiation_id,
    )
    record(booking, from_status="", actor=actor, reason="negotiated price accepted")
    return booking


def bookings_release_holds(*, property_id: int, actor: User, reason: str, now: datetime) -> int:
    """Release every payment hold of a property (it is being archived): requests waiting
    for the host are declined, bookings waiting for payment cancelled, their
    authorizations voided; lapsed ones are recorded as expired. Each guest is told through
    the booking's event. The caller holds the property lock. Returns how many."""
    held = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("property")
        .filter(
            property_id=property_id,
            status__in=(BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT),
        )
        .order_by("pk")
    )
    count = 0
    for booking in held:
        count += 1
        if hold_lapsed(booking, now):
            expire(booking, now=now)
            continue
        charges.void_authorization(booking)
        to_status = (
            BookingStatus.DECLINED
            if booking.status == BookingStatus.PENDING_HOST
            else BookingStatus.CANCELLED
        )
        transition(booking, to_status, actor=actor, reason=reason)
    return count


def bookings_release_for_guest(*, guest: User, reason: str, now: datetime) -> list[Booking]:
    """Release every payment hold of a guest whose account is closing: each request or
    booking awaiting payment is cancelled (by the guest) and its authorization voided;
    lapsed ones are recorded as expired. Each host is told through the booking's event.
    Returns the bookings released."""
    held = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("property")
        .filter(
            guest=guest,
            status__in=(BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT),
        )
        .order_by("pk")
    )
    released = []
    for booking in held:
        if hold_lapsed(booking, now):
            expire(booking, now=now)
            continue
        charges.void_authorization(booking)
        transition(booking, BookingStatus.CANCELLED, actor=guest, reason=reason)
        released.append(booking)
    return released


def booking_refund_quote(*, booking: Booking, by_host: bool, now: datetime) -> Refund:
    """The refund cancelling ``booking`` at ``now`` would give: what ``booking_cancel``
    computes, with the same pure function and cap, without cancelling anything."""
    return compute_refund(
        _refund_input(booking, now=now, by_host=by_host, refundable=charges.refundable(booking))
    )


def _for_update_as(booking_id: int, *, user: User, role: str) -> Booking:
    """Lock the booking; only its guest (``role="guest"``) or host may act. Others: 404."""
    booking = lock_booking(booking_id)
    allowed = booking.guest_id if role == "guest" else booking.property.host_id
    if user.pk != allowed:
        raise Booking.DoesNotExist
    return booking


def _check_not_lapsed(booking: Booking, now: datetime) -> None:
    if hold_lapsed(booking, now):
        expire(booking, now=now)
        raise HoldExpired()


def booking_approve(*, booking_id: int, host: User, now: datetime | None = None) -> Booking:
    now = now or timezone.now()
    with transaction.atomic():
        booking = _for_update_as(booking_id, user=host, role="host")
        if booking.status != BookingStatus.PENDING_HOST:
            # awaiting_payment also leads to confirmed, but by the guest paying: there is
            # no authorization for the host to capture (a fuzz-found 500)
            raise InvalidTransition("Only a request waiting for the host can be approved.")
        _check_not_lapsed(booking, now)
        charges.capture(booking)
        transition(booking, BookingStatus.CONFIRMED, actor=host, reason="approved by host")
        return booking


def booking_decline(*, booking_id: int, host: User, reason: str = "") -> Booking:
    with transaction.atomic():
        booking = _for_update_as(booking_id, user=host, role="host")
        if booking.status != BookingStatus.PENDING_HOST:
            raise InvalidTransition("Only a request waiting for the host can be declined.")
        charges.void_authorization(booking)
        transition(booking, BookingStatus.DECLINED, actor=host, reason=reason or "declined")
        return booking


def booking_pay(
    *, booking_id: int, guest: User, payment_token: str, now: datetime | None = None
) -> Booking:
    now = now or timezone.now()
    with transaction.atomic():
        booking = _for_update_as(booking_id, user=guest, role="guest")
        if booking.status != BookingStatus.AWAITING_PAYMENT:
            raise InvalidTransition("Only a booking waiting for payment can be paid.")
        if booking.property.status == booking.property.Status.ARCHIVED:
            # archiving releases every hold under the property lock; this is the backstop
            raise InvalidTransition("This listing was archived; the booking can't be paid.")
        _check_not_lapsed(booking, now)
        charges.authorize(booking, payment_token)
        charges.capture(booking)
        transition(booking, BookingStatus.CONFIRMED, actor=guest, reason="paid")
        return booking


def booking_cancel(
    *, booking_id: int, user: User, reason: str = "", now: datetime | None = None
) -> tuple[Booking, Refund | None]:
    """Cancel as the guest or the host; returns the booking and the refund issued."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = lock_booking(booking_id)
        by_host = user.pk == booking.property.host_id
        if not by_host and user.pk != booking.guest_id:
            raise Booking.DoesNotExist
        if booking.status in (BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT):
            if by_host:
                raise InvalidTransition("A host declines a request instead of cancelling it.")
            _check_not_lapsed(booking, now)
            charges.void_authorization(booking)
            transition(booking, BookingStatus.CANCELLED, actor=user, reason=reason or "cancelled")
            return booking, None
        check_transition(booking, BookingStatus.CANCELLED)
        refund = compute_refund(
            _refund_input(booking, now=now, by_host=by_host, refundable=charges.refundable(booking))
        )
        charges.refund(booking, refund.amount)
        booking.price = {**booking.price, "refund": refund.as_dict()}
        booking.save(update_fields=["price"])
        if by_host:
            _count_host_cancellation(booking.property.host_id)
        transition(booking, BookingStatus.CANCELLED, actor=user, reason=reason or "cancelled")
        return booking, refund


def _count_host_cancellation(host_id: int) -> None:
    from django.db.models import F

    User.objects.filter(pk=host_id).update(host_cancellations=F("host_cancellations") + 1)


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

"""Creating bookings: at the list price (instant book or a request to the host), and the
booking of an accepted negotiation.

With a payment token the card is authorized before the property lock is taken (no
provider call under a row lock, DESIGN.md section 1): the stay is quoted first, without
the lock, and the authorization is for that total. Under the lock the dates are checked,
and the quote stands if the listing has not changed since (every price edit locks the
listing and saves it, moving its ``updated_at``; otherwise the stay is quoted again). The
booking takes the authorization in the transaction that inserts it, and an instant
booking paid at once is captured when that transaction commits. If the booking is not
made (the dates were taken meanwhile, the price changed, a lock timed out), the
authorization is voided at once (``bookings.charges``).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from bookings import charges, dates_taken, fanout
from bookings.models import Booking, BookingStatus, Payment
from bookings.services.dates import (
    ensure_dates_free,
    insert_booking,
    lock_property,
    lock_property_version,
    refuse_if_visibly_taken,
    rival_authorizations,
    run_with_retry,
    wait_for_rival_authorizations,
)
from bookings.services.errors import (
    IdempotencyKeyReused,
    OwnProperty,
    PaymentTokenRequired,
    PriceChanged,
)
from bookings.transitions import record
from properties.errors import DatesUnavailable
from properties.models import Property
from properties.pricing import Quote, agreed_price
from properties.quotes import quote_for_stay

PENDING_HOST_HOLD = timedelta(hours=settings.BOOKING_PENDING_HOST_HOURS)
AWAITING_PAYMENT_HOLD = timedelta(minutes=settings.BOOKING_PAYMENT_HOLD_MINUTES)


def request_fingerprint(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    if the price recomputed differs, ``409 price_changed`` carries the new quote and
    nothing is booked or charged.
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
    now = now or timezone.now()
    stay = {
        "check_in": check_in,
        "check_out": check_out,
        "guests": guests,
        "stay_type": stay_type,
        "meals": meals,
        "now": now,
    }
    new_booking = {"idempotency_key": idempotency_key, "request_fingerprint": fingerprint}
    expected = (expected_total, expected_currency)
    # Most refusals of a burst, before anything else (a refusal here is not looked up as a
    # replay: the first request had to commit since the lookup above, a millisecond ago).
    refuse_if_visibly_taken(property_id, check_in, check_out, now)
    try:
        return _book(guest, property_id, stay, expected, payment_token, new_booking), True
    except (IntegrityError, DatesUnavailable):
        # Two requests with the same key raced (a client retrying while its first request
        # was still under way): the one that lost answers like a replay of the winner.
        if idempotency_key:
            replay = _idempotent_replay(guest, idempotency_key, fingerprint)
            if replay is not None:
                return replay, False
        raise


def _book(
    guest: User,
    property_id: int,
    stay: dict,
    expected: tuple,
    payment_token: str,
    new_booking: dict,
) -> Booking:
    authorization = quoted = None
    if payment_token:
        dates = charges.StayDates(property_id, stay["check_in"], stay["check_out"])
        quoted = _quote_before_lock(guest, dates, stay, expected)
        authorization = charges.authorize(
            token=payment_token,
            amount=quoted.quote.total,
            currency=quoted.quote.currency,
            stay=dates,
        )

    def attempt() -> Booking:
        return _create_locked(
            guest, property_id, stay, expected, payment_token, (quoted, authorization), new_booking
        )

    try:
        return run_with_retry(attempt)
    except BaseException:
        charges.void_lost(authorization)  # the booking was not made
        raise


def _idempotent_replay(guest: User, key: str, fingerprint: str) -> Booking | None:
    earlier = Booking.objects.filter(guest=guest, idempotency_key=key).first()
    if earlier is None:
        return None
    if earlier.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return earlier


@dataclass(frozen=True)
class _QuoteSeen:
    """A quote and the listing row it was made from."""

    quote: Quote
    listing: Property


def _quote_before_lock(
    guest: User, dates: charges.StayDates, stay: dict, expected: tuple
) -> _QuoteSeen:
    """What the card is authorized for: the stay quoted without the lock, after the checks
    that would refuse the request under it (so a refused request authorizes nothing).

    The listing's read also looks for another request's authorization of these dates
    under way (no statement of its own); if there is one, this request waits for it
    before quoting, and is refused if that booking took the dates."""
    published = Property.objects.filter(pk=dates.property_id, status=Property.Status.PUBLISHED)
    rival = Exists(rival_authorizations(dates))
    prop = published.select_related("host").annotate(rival_seen=rival).first()
    if prop is None:
        raise Http404("No such property.")
    if prop.host_id == guest.pk:
        raise OwnProperty()
    wait_for_rival_authorizations(dates, stay["now"], rival_seen=prop.rival_seen)
    quote = quote_for_stay(property=prop, **stay)
    _refuse_if_price_changed(quote, expected)
    return _QuoteSeen(quote, prop)


def _lock_listing(property_id: int, quoted: _QuoteSeen | None) -> Property:
    """Lock the listing's row. If it was read before the lock (to quote the stay) and is
    still that version, the row read then is the listing: only the version is read."""
    if quoted is not None and lock_property_version(property_id) == quoted.listing.updated_at:
        return quoted.listing
    return lock_property(property_id, published_only=True)


def _quote_locked(prop: Property, stay: dict, quoted: _QuoteSeen | None) -> Quote:
    """The stay's quote under the lock: the one made before it if the listing is the
    version it was made from, else made again."""
    if quoted is not None and prop is quoted.listing:
        return quoted.quote
    return quote_for_stay(property=prop, **stay)


def _refuse_if_price_changed(quote: Quote, expected: tuple) -> None:
    expected_total, expected_currency = expected
    if (expected_total is not None and expected_total != quote.total) or (
        expected_currency and expected_currency != quote.currency
    ):
        raise PriceChanged(quote=quote.as_dict())


def _create_locked(
    guest: User,
    property_id: int,
    stay: dict,
    expected: tuple,
    payment_token: str,
    paid: tuple[_QuoteSeen | None, Payment | None],
    new_booking: dict,
) -> Booking:
    now = stay["now"]
    quoted, authorization = paid
    with transaction.atomic():
        prop = _lock_listing(property_id, quoted)
        if prop.host_id == guest.pk:
            raise OwnProperty()
        # First what most requests of a burst fail on, so the queue behind the lock drains.
        ensure_dates_free(
            property_id=prop.pk, start=stay["check_in"], end=stay["check_out"], now=now
        )
        quote = _quote_locked(prop, stay, quoted)
        _refuse_if_price_changed(quote, expected)
        if authorization is not None and (quote.total, quote.currency) != (
            authorization.amount,
            authorization.currency,
        ):  # the listing's price changed after the card was authorized
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
                check_in=stay["check_in"],
                check_out=stay["check_out"],
                guests=stay["guests"],
                stay_type=stay["stay_type"],
                meals=stay["meals"],
                price=quote.as_dict(),
                total=quote.total,
                currency=prop.currency,
                status=status,
                hold_expires_at=holds.get(status),
                cancellation_policy=prop.cancellation_policy,
                **new_booking,
            )
        )
        if authorization is not None:
            charges.claim(authorization, booking)
        if status == BookingStatus.CONFIRMED:
            charges.capture_after_commit(booking, authorization)
        record(booking, from_status="", actor=guest, reason="created")
        dates_taken.announce(property_id=prop.pk, start=booking.check_in, end=booking.check_out)
        fanout.tell_booking_created(booking, actor=guest, reason="created")
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
    The caller holds the property lock and runs inside its transaction; every other open
    negotiation over these dates is ended in it (:mod:`bookings.dates_taken`).
    """
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
        )
    )
    reason = "negotiated price accepted"
    record(booking, from_status="", actor=actor, reason=reason)
    dates_taken.announce(
        property_id=prop.pk, start=check_in, end=check_out, except_id=negotiation_id
    )
    fanout.tell_booking_created(booking, actor=actor, reason=reason)
    return booking

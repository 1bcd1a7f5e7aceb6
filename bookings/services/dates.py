"""Taking a property's dates: the property lock, lazy expiry, the overlap check, the
insert, and the retry of a transaction that deadlocked.

Double bookings are impossible by construction: every writer that takes dates locks the
property row first (:func:`lock_property`), records lapsed holds, checks for overlap and
inserts, all in one transaction; on PostgreSQL the exclusion constraint
``booking_no_overlap`` is the backstop and its violation (SQLSTATE 23P01) is answered as
``409 dates_unavailable``. On SQLite the transaction is IMMEDIATE, so check and insert
cannot interleave.
"""

import logging
import time
from datetime import date, datetime, timedelta

from django.db import IntegrityError, OperationalError, connection
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from bookings.charges import StayDates
from bookings.models import HOLDING_STATUSES, Booking, BookingStatus, Payment
from bookings.transitions import expire
from core import locks
from properties.errors import DatesUnavailable
from properties.models import Property
from properties.selectors import blocks_overlapping, dates_taken

logger = logging.getLogger(__name__)

_RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock, serialization failure
_EXCLUSION_VIOLATION = "23P01"


def run_with_retry(fn, *, attempts: int = 4):
    """Run ``fn`` (a whole transaction) again after a deadlock or serialization failure."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except OperationalError as exc:
            if locks.sqlstate(exc) not in _RETRYABLE_SQLSTATES or attempt == attempts:
                raise
            logger.info("retrying after %s (attempt %s)", locks.sqlstate(exc), attempt)
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def refuse_if_visibly_taken(property_id: int, check_in: date, check_out: date, now) -> None:
    """A fast path, not the guarantee: dates a committed booking or block already holds
    are refused from a plain read, without queueing for the property lock. Under
    contention all but the first request of a burst are such losers, and each one that
    skips the lock is one less in the queue (docs/benchmarks.md). Dates that look free
    are checked again under the lock."""
    if dates_taken(property_id=property_id, start=check_in, end=check_out, now=now):
        raise DatesUnavailable()


# A request waits at most this long for a rival's authorization before making its own
# (the lock still decides); a pending one older than RIVAL_STALE is left by a request that
# crashed or hangs, and is the sweep's.
RIVAL_WAIT_SECONDS = 5.0
RIVAL_STALE = timedelta(minutes=1)
_RIVAL_PAUSES = (0.01, 0.2)  # the first pause between looks, doubled up to the second
_sleep = time.sleep  # (the tests record the pauses)


def wait_for_rival_authorizations(stay: StayDates, now: datetime, *, rival_seen: bool) -> None:
    """Before a card is authorized for a stay: while another request's authorization for
    overlapping dates is under way (its row pending, :func:`bookings.charges.authorize`),
    wait for it to end, then refuse the dates if its booking took them. In a burst of
    requests for the same dates, the ones that wait never touch their guests' cards: no
    authorization to void, no hold on a statement (docs/money.md).

    ``rival_seen``: what the first look saw, made by a query the caller sent anyway (the
    listing's read, annotated with :func:`rival_authorizations`).

    A fast path, like :func:`refuse_if_visibly_taken`, not the guarantee: two requests can
    still look at the same instant and both authorize; the lock decides and the loser
    voids. After ``RIVAL_WAIT_SECONDS`` the request authorizes anyway. Sleeping holds no
    lock and no transaction."""
    if not rival_seen:
        return
    # Compiled once for all the looks: each then costs 0.1 ms of CPU, not 0.5.
    look = rival_authorizations(stay).values("pk")[:1].query.sql_with_params()
    rival, pause, waited = True, _RIVAL_PAUSES[0], 0.0
    while rival and waited < RIVAL_WAIT_SECONDS:
        _sleep(pause)
        waited += pause
        pause = min(pause * 2, _RIVAL_PAUSES[1])
        with connection.cursor() as cursor:
            cursor.execute(*look)
            rival = cursor.fetchone() is not None
    # Blocks were looked at before; one added meanwhile is found under the lock.
    if waited and dates_taken(
        property_id=stay.property_id,
        start=stay.check_in,
        end=stay.check_out,
        now=now,
        include_blocks=False,
    ):
        raise DatesUnavailable()


def rival_authorizations(stay: StayDates) -> QuerySet[Payment]:
    """The authorizations under way for dates that meet the stay's, less than
    ``RIVAL_STALE`` old (read from the partial index ``payment_authorizing_stay``)."""
    return Payment.objects.filter(
        kind=Payment.Kind.AUTHORIZE,
        status=Payment.Status.PENDING,
        property_id=stay.property_id,
        check_in__lt=stay.check_out,
        check_out__gt=stay.check_in,
        created_at__gt=timezone.now() - RIVAL_STALE,
    )


def lock_property(property_id: int, *, published_only: bool = False) -> Property:
    """Lock the property row: every writer of its dates goes through here first.

    A missing property (or, with ``published_only``, one not on sale) is a 404.
    """
    # With its host (told of what the writer does), locking only the property's row.
    queryset = Property.objects.select_related("host").filter(pk=property_id)
    if published_only:
        queryset = queryset.filter(status=Property.Status.PUBLISHED)
    try:
        return locks.lock_one(queryset, of=("self",))
    except Property.DoesNotExist:
        raise Http404("No such property.") from None


def lock_property_version(property_id: int) -> datetime | None:
    """Lock a published property's row, reading only its version: ``updated_at``, which
    every write of the row moves (each price edit too: ``properties.services``). For a
    writer that read the whole row before the lock. None if it is not on sale."""
    published = Property.objects.filter(pk=property_id, status=Property.Status.PUBLISHED)
    versions = locks.lock_rows(published.values_list("updated_at", flat=True))
    return versions[0] if versions else None


def expire_lapsed_holds(*, property_id: int, start: date, end: date, now: datetime) -> None:
    """Record holds that lapsed (lazy expiry) so they stop holding dates, also in the DB.
    Caller holds the property lock."""
    lapsed = locks.lock_rows(
        Booking.objects.filter(
            property_id=property_id,
            status__in=(BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT),
            hold_expires_at__lte=now,
        ).overlapping(start, end),
        of=("self",),
        timeout_already_set=True,  # by the caller's property lock
    )
    for booking in lapsed:
        expire(booking, now=now)


def ensure_dates_free(*, property_id: int, start: date, end: date, now: datetime) -> None:
    """Raise ``DatesUnavailable`` if a holding booking or a host block overlaps; record as
    expired the holds over these dates that lapsed (lazy expiry), so the insert's
    exclusion constraint does not meet them. Caller holds the property lock.

    One query reads every booking in a holding status over the dates, live or lapsed
    (usually none): a live one refuses them, lapsed ones are expired."""
    meeting = (
        Booking.objects.filter(property_id=property_id, status__in=HOLDING_STATUSES)
        .overlapping(start, end)
        .values_list("hold_expires_at", flat=True)
    )
    expiries = list(meeting)
    if any(expires is None or expires > now for expires in expiries):
        raise DatesUnavailable()
    if expiries:
        expire_lapsed_holds(property_id=property_id, start=start, end=end, now=now)
    if blocks_overlapping(property_id=property_id, start=start, end=end):
        raise DatesUnavailable()


def insert_booking(booking: Booking) -> Booking:
    """Insert; the exclusion constraint's veto becomes ``dates_unavailable``.

    No savepoint of its own (two statements a booking): the veto aborts the caller's
    transaction, which ends with the error. A caller that goes on after a refusal wraps
    the call in a savepoint (negotiation's acceptance does)."""
    try:
        booking.save(force_insert=True)
    except IntegrityError as exc:
        if locks.sqlstate(exc) == _EXCLUSION_VIOLATION:
            raise DatesUnavailable() from exc
        raise
    return booking

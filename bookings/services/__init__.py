"""Booking use-cases: one function per write, each its own transaction; what leaves it
(events, notifications, payment steps) is called where its reader sees it.

One module per responsibility; this package names them all, so callers keep writing
``from bookings.services import booking_create``:

- :mod:`~bookings.services.dates`: taking a property's dates (the property lock, lazy
  expiry, the overlap check, the insert, the retry after a deadlock);
- :mod:`~bookings.services.create`: a booking at the list price, an agreed one;
- :mod:`~bookings.services.approval`: the host approves or declines a request;
- :mod:`~bookings.services.paying`: the guest pays a booking waiting for payment;
- :mod:`~bookings.services.cancel`: cancelling, and the refund it gives;
- :mod:`~bookings.services.release`: releasing holds when a listing or an account ends;
- :mod:`~bookings.services.parties`, :mod:`~bookings.services.errors`: shared checks
  and the domain errors.

Status changes and their history are :mod:`bookings.transitions`, payment steps
:mod:`bookings.charges`, the events and notifications :mod:`bookings.fanout`, the
periodic sweeps :mod:`bookings.sweeps`.
"""

from bookings.services.approval import booking_approve, booking_decline
from bookings.services.cancel import booking_cancel, booking_refund_quote, check_in_instant
from bookings.services.create import (
    booking_create,
    booking_create_agreed,
    request_fingerprint,
)
from bookings.services.dates import (
    ensure_dates_free,
    expire_lapsed_holds,
    insert_booking,
    lock_property,
    run_with_retry,
)
from bookings.services.errors import (
    HoldExpired,
    IdempotencyKeyReused,
    OwnProperty,
    PaymentTokenRequired,
    PriceChanged,
)
from bookings.services.paying import booking_pay
from bookings.services.release import bookings_release_for_guest, bookings_release_holds
from properties.errors import DatesUnavailable

__all__ = [
    "DatesUnavailable",
    "HoldExpired",
    "IdempotencyKeyReused",
    "OwnProperty",
    "PaymentTokenRequired",
    "PriceChanged",
    "booking_approve",
    "booking_cancel",
    "booking_create",
    "booking_create_agreed",
    "booking_decline",
    "booking_pay",
    "booking_refund_quote",
    "bookings_release_for_guest",
    "bookings_release_holds",
    "check_in_instant",
    "ensure_dates_free",
    "expire_lapsed_holds",
    "insert_booking",
    "lock_property",
    "request_fingerprint",
    "run_with_retry",
]

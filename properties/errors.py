"""Domain errors of listings, each with a stable ``code`` (docs/api.md lists them).

Errors about named fields of a request body are :class:`core.errors.InvalidFields`
(answered as type ``validation_error``, one entry per field as ``attr``); errors about
the request as a whole are :class:`core.errors.ApplicationError` subclasses (type
``client_error``).
"""

from core.errors import ApplicationError, ConflictError, InvalidFields


class QuoteError(ApplicationError):
    """A stay that breaks the listing's rules: ``min_nights``, ``too_many_guests``, …"""

    default_code = "invalid_stay"
    default_detail = "This stay is not possible at this property."


class DatesUnavailable(ConflictError):
    default_code = "dates_unavailable"
    default_detail = "These dates are no longer available."


class CalendarDateError(ApplicationError):
    """A calendar range entirely in the past (``past_dates``) or too far ahead."""

    default_code = "invalid_dates"
    default_detail = "These dates cannot be used."


class TooManyPhotos(ApplicationError):
    default_code = "too_many_photos"
    default_detail = "A property can have at most 30 photos."


class PropertyArchived(ConflictError):
    default_code = "property_archived"
    default_detail = "This listing is archived and can no longer be changed."


class HasUpcomingStays(ConflictError):
    """Archiving a listing with confirmed stays ahead: the host cancels them first (a host
    cancellation refunds in full and tells the guest), DESIGN.md section 3."""

    default_code = "has_upcoming_stays"

    def __init__(self, booking_ids: list[int]):
        super().__init__(
            f"This listing has {len(booking_ids)} confirmed stay(s) ahead "
            f"(booking{'s' if len(booking_ids) > 1 else ''} "
            f"{', '.join(f'#{pk}' for pk in booking_ids)}). Cancel them first: the guests "
            "are refunded in full and told.",
            bookings=booking_ids,
        )


class CurrencyLocked(ConflictError):
    """A currency change while negotiations are open or bookings hold or are ahead: their
    totals are in the old currency (DESIGN.md section 3)."""

    default_code = "currency_locked"
    default_detail = "The currency cannot change while deals in the current one are running."


class RateOverlap(ConflictError):
    default_code = "rate_overlap"
    default_detail = "This range overlaps another seasonal rate."


def field_errors(errors: dict[str, str], code: str = "invalid") -> InvalidFields:
    """A ``validation_error`` naming each field (``attr``) with a stable code."""
    return InvalidFields({attr: [(detail, code)] for attr, detail in errors.items()})

"""The domain errors of the booking services (``dates_unavailable`` is
:class:`properties.errors.DatesUnavailable`, shared with the host's calendar)."""

from core.errors import ApplicationError, ConflictError


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

"""The negotiation's domain errors, each with its stable ``code`` (docs/websocket.md,
docs/api.md). A negotiation whose dates were taken answers with
``properties.errors.DatesUnavailable``; a transition outside the table with
``core.errors.InvalidTransition``."""

from core.errors import ApplicationError, ConflictError


class NotYourTurn(ConflictError):
    default_code = "not_your_turn"
    default_detail = "It is the other side's turn."


class NegotiationClosed(ConflictError):
    default_code = "negotiation_closed"
    default_detail = "This negotiation has ended."


class OfferTooLow(ApplicationError):
    default_code = "offer_too_low"


class OfferTooHigh(ApplicationError):
    default_code = "offer_too_high"


class MaxRoundsReached(ConflictError):
    default_code = "max_rounds_reached"
    default_detail = "No offers left for your side."


class NothingToAccept(ConflictError):
    default_code = "nothing_to_accept"
    default_detail = "There is no offer from the other side to accept."


class OffersNotAccepted(ApplicationError):
    default_code = "offers_not_accepted"
    default_detail = "This host does not take offers; book at the list price."


class TooManyNegotiations(ConflictError):
    """More than ``NEGOTIATION_OPENS_PER_DAY`` negotiations opened by one guest for one
    listing in 24 h, however they ended: with the round cap, this bounds how much of the
    host's floor probing can learn (docs/money.md)."""

    default_code = "too_many_negotiations"


class NegotiationExists(ConflictError):
    default_code = "negotiation_exists"
    default_detail = "You already have an open negotiation for these dates."

    def __init__(self, negotiation_id: int):
        super().__init__(
            f"You already have an open negotiation (#{negotiation_id}) for these dates.",
            negotiation_id=negotiation_id,
        )

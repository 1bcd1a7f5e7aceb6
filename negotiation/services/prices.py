"""The rules an offer's amount keeps (DESIGN.md sections 3 and 8): above zero, within the
rounds, a guest's offers never going down and a host's counters never up, each side
below (or at most) the list price and on the right side of the other's last offer; and
the host's private floor and auto-accept totals, priced as the quote is."""

from decimal import Decimal

from django.conf import settings

from core.money import format_amount
from negotiation.errors import MaxRoundsReached, OfferTooHigh, OfferTooLow
from negotiation.models import Negotiation, Offer, Side
from properties.quotes import quote_at_nightly


def _threshold(negotiation: Negotiation, nightly: Decimal | None) -> Decimal | None:
    """The total of the negotiation's stay with every night at ``nightly``, priced exactly
    as its quote is (weekly or monthly discount, meals, cleaning and service fee computed
    from those nights): the floor and auto-accept totals (DESIGN.md section 8)."""
    if nightly is None:
        return None
    return quote_at_nightly(
        property=negotiation.property,
        check_in=negotiation.check_in,
        check_out=negotiation.check_out,
        guests=negotiation.guests,
        stay_type=negotiation.stay_type,
        meals=negotiation.meals,
        currency=negotiation.currency,
        nightly=nightly,
    ).total


def _below_floor(negotiation: Negotiation, amount: Decimal) -> bool:
    floor = _threshold(negotiation, negotiation.property.floor_nightly_price)
    return floor is not None and amount < floor


def _auto_accepts(negotiation: Negotiation, amount: Decimal) -> bool:
    auto = _threshold(negotiation, negotiation.property.auto_accept_nightly_price)
    return auto is not None and amount >= auto


def _last_offer(
    negotiation: Negotiation, side: str | None = None, *, standing: bool = False
) -> Offer | None:
    """The latest offer (of ``side``); with ``standing``, the latest one still on the table
    (an offer declined automatically never is)."""
    offers = negotiation.offers.order_by("-pk")  # insertion order, under the row lock
    if side:
        offers = offers.filter(side=side)
    if standing:
        offers = offers.filter(declined_at__isnull=True)
    return offers.first()


def _check_amount(negotiation: Negotiation, side: str, amount: Decimal) -> None:
    def money(value: Decimal) -> str:
        return format_amount(value, negotiation.currency)

    if amount <= 0:
        raise OfferTooLow("An offer must be positive.")
    rounds = negotiation.guest_rounds if side == Side.GUEST else negotiation.host_rounds
    if rounds >= settings.NEGOTIATION_MAX_ROUNDS:
        raise MaxRoundsReached()
    # A guest's offers never go down, declined ones included: probing the floor can only
    # climb towards it, one round at a time (docs/money.md).
    own_last = _last_offer(negotiation, side)
    other_last = _last_offer(
        negotiation, Side.HOST if side == Side.GUEST else Side.GUEST, standing=True
    )
    if side == Side.GUEST:
        if amount >= negotiation.list_total:
            raise OfferTooHigh(
                f"{money(amount)} {negotiation.currency} is not below the list price; "
                "book it instead."
            )
        if own_last and amount < own_last.amount:
            raise OfferTooLow(f"Offer at least your previous {money(own_last.amount)}.")
        if other_last and amount >= other_last.amount:
            raise OfferTooHigh("The host already offered less; accept that offer instead.")
    else:
        if amount > negotiation.list_total:
            raise OfferTooHigh("A counter-offer cannot exceed the list price.")
        if other_last and amount <= other_last.amount:
            raise OfferTooLow(
                f"Counter above the guest's {money(other_last.amount)}, or accept it."
            )
        if own_last and amount > own_last.amount:
            raise OfferTooHigh(f"Counter at most your previous {money(own_last.amount)}.")
        if not other_last and amount >= negotiation.list_total:
            raise OfferTooHigh("A special offer must be below the list price.")

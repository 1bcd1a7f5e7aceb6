"""Offers and the answers to them: an offer (or counter-offer), its automatic decline
under the host's floor or acceptance at the auto-accept price, accepting the other
side's offer (which books it), declining, and the guest withdrawing.

Each change appends its event and then, one line each, publishes it and tells whom the
table of ``notifications.recipients`` says (in-app, live, and by email where it says).
"""

from decimal import Decimal

from django.conf import settings
from django.db import transaction

from accounts.models import User
from bookings import services as booking_services
from core.money import format_amount, quantize
from negotiation import transitions
from negotiation.errors import NothingToAccept, NotYourTurn
from negotiation.events import append_event, publish_event, tell_event
from negotiation.models import Negotiation, NegotiationStatus, Offer, Side
from negotiation.services.common import (
    Outcome,
    _require_open,
    _require_turn,
    _run,
    _ttl,
    notice_of,
)
from negotiation.services.prices import _auto_accepts, _below_floor, _check_amount, _last_offer
from properties.errors import DatesUnavailable

#: What the guest is told when an offer is under the floor (the floor itself never shows).
BELOW_FLOOR = (
    "Your offer of {amount} is below what the host accepts for these dates. "
    "It was declined automatically and the negotiation stays open: it is your turn, "
    "make a higher offer ({left} left) or book at the list price."
)


class _AcceptFailed(Exception):
    """The dates were taken: the negotiation is now unavailable (to be committed)."""


def _make_offer(
    negotiation: Negotiation,
    side: str,
    amount: Decimal,
    message: str,
    actor: User,
    now,
    *,
    opening: bool = False,
) -> int:
    amount = quantize(amount, negotiation.currency)
    _check_amount(negotiation, side, amount)
    below_floor = side == Side.GUEST and _below_floor(negotiation, amount)
    accepted_at_once = side == Side.GUEST and not below_floor and _auto_accepts(negotiation, amount)
    offer = Offer.objects.create(
        negotiation=negotiation,
        side=side,
        amount=amount,
        message=message,
        created_at=now,
        expires_at=now + _ttl(),
    )
    if side == Side.GUEST:
        negotiation.guest_rounds += 1
    else:
        negotiation.host_rounds += 1
    negotiation.turn = Side.HOST if side == Side.GUEST else Side.GUEST
    negotiation.expires_at = offer.expires_at
    negotiation.save(
        update_fields=["guest_rounds", "host_rounds", "turn", "expires_at", "updated_at"]
    )
    event = append_event(
        negotiation,
        "offer.created",
        {
            "offer": offer.pk,
            "side": side,
            "amount": format_amount(amount, negotiation.currency),
            "message": message,
            "expires_at": offer.expires_at.isoformat(),
            "turn": negotiation.turn,
        },
        actor=actor,
    )
    publish_event(negotiation, event)
    # The host is not told of an offer under their floor, nor of its decline: it was never
    # theirs to answer (it stays in the log and the room). Nor of one accepted at once: the
    # acceptance is the host's notice of it.
    if not (below_floor or accepted_at_once):
        # The other party, in-app and by email; the first offer of a new negotiation is the
        # host's one notice of both (one email).
        tell_event(negotiation, event, notice={"opening": True} if opening else None)
    if below_floor:
        return _decline_automatically(negotiation, offer, now)
    if accepted_at_once:
        return _accept(negotiation, offer, actor=None, now=now)
    return event.seq


def _decline_automatically(negotiation: Negotiation, offer: Offer, now) -> int:
    """A guest offer under the floor total: declined at once as an offer, without revealing
    the floor. The negotiation stays open, the turn back with the guest; the offer counted
    as one of the guest's rounds (DESIGN.md section 3). Nobody is notified: the guest
    hears of it in the answer to the offer (its notice), the host never."""
    offer.declined_at = now
    offer.save(update_fields=["declined_at"])
    negotiation.turn = Side.GUEST
    negotiation.save(update_fields=["turn", "updated_at"])
    left = max(0, settings.NEGOTIATION_MAX_ROUNDS - negotiation.guest_rounds)
    amount = f"{format_amount(offer.amount, negotiation.currency)} {negotiation.currency}"
    if left:
        detail = BELOW_FLOOR.format(amount=amount, left=f"{left} offer{'s' if left > 1 else ''}")
    else:
        detail = (
            f"Your offer of {amount} is below what the host accepts for these dates. It was "
            "declined automatically and you have no offers left in this negotiation: book "
            "at the list price, or withdraw."
        )
    event = append_event(
        negotiation,
        "offer.declined",
        {
            "offer": offer.pk,
            "side": Side.GUEST,
            "amount": format_amount(offer.amount, negotiation.currency),
            "reason": "automatic",
            "detail": detail,
            "turn": negotiation.turn,
            "rounds_left": left,
        },
    )
    publish_event(negotiation, event)
    return event.seq


def _accept(negotiation: Negotiation, offer: Offer, *, actor: User | None, now) -> int:
    """Book the offer's amount (a booking awaiting payment, whose own notice and email ask
    the guest to pay); if the dates were taken meanwhile, the negotiation ends as
    unavailable instead and :class:`_AcceptFailed` is raised (the end is to be committed)."""
    try:
        with transaction.atomic():
            booking = booking_services.booking_create_agreed(
                prop=negotiation.property,
                guest=negotiation.guest,
                negotiation_id=negotiation.pk,
                check_in=negotiation.check_in,
                check_out=negotiation.check_out,
                guests=negotiation.guests,
                stay_type=negotiation.stay_type,
                meals=negotiation.meals,
                price=negotiation.list_price,
                total=offer.amount,
                currency=negotiation.currency,
                cancellation_policy=negotiation.cancellation_policy,
                now=now,
                actor=actor,
            )
    except DatesUnavailable:
        transitions.close(negotiation, NegotiationStatus.UNAVAILABLE, now)
        ended = append_event(negotiation, "negotiation.unavailable", {"status": "unavailable"})
        publish_event(negotiation, ended)
        tell_event(negotiation, ended)  # both parties in-app (nobody acted), the guest by email
        raise _AcceptFailed() from None
    negotiation.booking = booking
    negotiation.save(update_fields=["booking", "updated_at"])
    transitions.close(negotiation, NegotiationStatus.ACCEPTED, now)
    currency = negotiation.currency
    accepted = append_event(
        negotiation,
        "offer.accepted",
        {
            "offer": offer.pk,
            "amount": format_amount(offer.amount, currency),
            "side": offer.side,
            "status": "accepted",
        },
        actor=actor,
    )
    publish_event(negotiation, accepted)
    # The other party in-app (the host too when the price was accepted automatically); the
    # host by email: the guest's email is the booking's, asking to pay.
    tell_event(negotiation, accepted)
    created = append_event(
        negotiation,
        "booking.created",
        {
            "booking": booking.pk,
            "status": booking.status,
            "total": format_amount(booking.total, currency),
            "hold_expires_at": booking.hold_expires_at.isoformat(),
        },
    )
    publish_event(negotiation, created)  # the booking's own notifications are the booking's
    return created.seq


# --- use-cases --------------------------------------------------------------------------


def negotiation_offer(
    *,
    negotiation_id: int,
    user: User,
    amount: Decimal,
    message: str = "",
    client_id: str = "",
    now=None,
) -> Outcome:
    def action(negotiation, side, now):
        # A guest who opened with a message only may make the first offer (DESIGN.md 3).
        first = side == Side.GUEST and not (negotiation.guest_rounds or negotiation.host_rounds)
        if first:
            _require_open(negotiation)
        else:
            _require_turn(negotiation, side)
        try:
            seq = _make_offer(negotiation, side, amount, message, user, now)
        except _AcceptFailed:
            seq = negotiation.last_seq
        return Outcome(negotiation, seq, notice_of(negotiation, seq))

    return _run(action, negotiation_id, user, now, client_id)


def negotiation_accept(
    *, negotiation_id: int, user: User, client_id: str = "", now=None
) -> Outcome:
    def action(negotiation, side, now):
        _require_turn(negotiation, side)
        offer = _last_offer(negotiation, standing=True)
        if offer is None or offer.side == side:
            raise NothingToAccept()
        try:
            return Outcome(negotiation, _accept(negotiation, offer, actor=user, now=now))
        except _AcceptFailed:
            return Outcome(negotiation, negotiation.last_seq)

    outcome = _run(action, negotiation_id, user, now, client_id)
    if outcome.negotiation.status == NegotiationStatus.UNAVAILABLE:
        raise DatesUnavailable("The dates were taken meanwhile; this negotiation has ended.")
    return outcome


def negotiation_decline(
    *, negotiation_id: int, user: User, client_id: str = "", now=None
) -> Outcome:
    def action(negotiation, side, now):
        _require_turn(negotiation, side)
        transitions.close(negotiation, NegotiationStatus.DECLINED, now)
        event = append_event(
            negotiation, "negotiation.declined", {"status": "declined", "by": side}, actor=user
        )
        publish_event(negotiation, event)
        tell_event(negotiation, event)  # the other party, in-app and by email
        return Outcome(negotiation, event.seq)

    return _run(action, negotiation_id, user, now, client_id)


def negotiation_withdraw(
    *, negotiation_id: int, user: User, client_id: str = "", now=None
) -> Outcome:
    def action(negotiation, side, now):
        _require_open(negotiation)
        if side != Side.GUEST:
            raise NotYourTurn("Only the guest can withdraw; a host declines.")
        transitions.close(negotiation, NegotiationStatus.WITHDRAWN, now)
        event = append_event(
            negotiation, "negotiation.withdrawn", {"status": "withdrawn"}, actor=user
        )
        publish_event(negotiation, event)
        tell_event(negotiation, event)  # the host, in-app
        return Outcome(negotiation, event.seq)

    return _run(action, negotiation_id, user, now, client_id)

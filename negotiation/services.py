"""Negotiation use-cases (DESIGN.md section 3, "Negotiation").

Every action locks the property row, then the negotiation row, so an
acceptance (which creates a booking) and any other writer of the property's
dates are serialised in one order. Each change appends an event with the next
``seq`` in the same transaction; events leave after commit.
"""

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Subquery
from django.utils import timezone

from accounts.models import User
from bookings import services as booking_services
from core import locks
from core.errors import ApplicationError, ConflictError
from core.money import quantize
from negotiation import chat
from negotiation.events import append_event, publish_ephemeral, tell_event
from negotiation.models import (
    ActionReceipt,
    ChatMessage,
    Event,
    Negotiation,
    NegotiationStatus,
    Offer,
    ReadState,
    Side,
)
from properties.errors import DatesUnavailable
from properties.models import Property
from properties.quotes import quote_at_nightly

CHAT_AFTER_CLOSE = timedelta(days=14)


class NegotiationError(ConflictError):
    default_code = "negotiation_closed"


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


#: What the guest is told when an offer is under the floor (the floor itself never shows).
BELOW_FLOOR = (
    "Your offer of {amount} is below what the host accepts for these dates. "
    "It was declined automatically and the negotiation stays open: it is your turn, "
    "make a higher offer ({left} left) or book at the list price."
)


@dataclass(frozen=True)
class Outcome:
    negotiation: Negotiation
    seq: int  # the last event this action appended
    # What the actor should be told in words beside the acknowledgement (an offer declined
    # automatically): ``{"code", "detail"}``, or None.
    notice: dict | None = None


def notice_of(negotiation: Negotiation, seq: int) -> dict | None:
    """The notice of the action acknowledged with ``seq``: an offer declined at once is
    answered with its words, the first time and when a repeat is acknowledged."""

    event = Event.objects.filter(negotiation=negotiation, seq=seq).only("type", "data").first()
    if event is None or event.type != "offer.declined":
        return None
    return {"code": "offer_declined", "detail": event.data.get("detail", "")}


def _ttl() -> timedelta:
    return settings.NEGOTIATION_OFFER_TTL


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# --- locking and lazy expiry ------------------------------------------------------------------


def _lock(negotiation_id: int, user: User) -> Negotiation:
    """Property lock, then negotiation lock. Non-parties get ``Negotiation.DoesNotExist``."""
    # One statement: the property row, found through the negotiation, locked; only its key
    # is read (most actions never look at the property).
    of_negotiation = Negotiation.objects.filter(pk=negotiation_id).values("property_id")[:1]
    if not locks.lock_rows(Property.objects.filter(pk=Subquery(of_negotiation)).values_list("pk")):
        raise Negotiation.DoesNotExist
    negotiation = locks.lock_one(
        Negotiation.objects.select_related("property").filter(pk=negotiation_id), of=("self",)
    )
    return _party_only(negotiation, user)


def _lock_for_chat(negotiation_id: int, user: User) -> Negotiation:
    """The negotiation row alone: enough to give a message the next ``seq``.

    A chat message (or the lazy expiry it may record) never touches the property's dates,
    so it need not queue behind their writers. No deadlock: it takes no other lock, and
    the writers that lock a negotiation after the property (acceptance, a booking marking
    negotiations unavailable) simply wait for it to commit.
    """
    negotiation = locks.lock_one(Negotiation.objects.filter(pk=negotiation_id))
    return _party_only(negotiation, user)


def _party_only(negotiation: Negotiation, user: User) -> Negotiation:
    if negotiation.side_of(user.pk) is None:
        raise Negotiation.DoesNotExist
    return negotiation


def _close(negotiation: Negotiation, status: str, now: datetime) -> None:
    negotiation.status = status
    negotiation.closed_at = now
    negotiation.save(update_fields=["status", "closed_at", "updated_at"])


def _expire_if_due(negotiation: Negotiation, now: datetime) -> bool:
    if negotiation.status == NegotiationStatus.OPEN and negotiation.expires_at <= now:
        _close(negotiation, NegotiationStatus.EXPIRED, now)
        append_event(negotiation, "negotiation.expired", {"status": "expired"})
        return True
    return False


def _run(action, negotiation_id: int, user: User, now: datetime | None, client_id: str = ""):
    """Run ``action(negotiation, side, now)`` under the locks. A lapsed negotiation is
    recorded as expired (committed) and the action refused with ``negotiation_closed``.

    With a ``client_id``, an action this user already applied is not run again: its first
    outcome is returned (DESIGN.md section 5)."""
    with transaction.atomic():
        negotiation = _lock(negotiation_id, user)
        if (replayed := _receipt(negotiation, user, client_id)) is not None:
            return Outcome(negotiation, replayed, notice_of(negotiation, replayed))
        now = _now(now)  # read the clock only once the lock is ours: events stay in order
        expired = _expire_if_due(negotiation, now)
        if not expired:
            outcome = action(negotiation, negotiation.side_of(user.pk), now)
            _keep_receipt(outcome, user, client_id)
            return outcome
    raise NegotiationClosed("This negotiation expired.")


def _receipt(negotiation: Negotiation, user: User, client_id: str) -> int | None:
    """The ``seq`` acknowledged for this user's action ``client_id``, if it was applied.
    Read under the negotiation's row lock, so a concurrent repeat waits and sees it."""
    if not client_id:
        return None
    return (
        ActionReceipt.objects.filter(negotiation=negotiation, user=user, client_id=client_id)
        .values_list("seq", flat=True)
        .first()
    )


def _keep_receipt(outcome: "Outcome", user: User, client_id: str) -> None:
    if client_id:
        ActionReceipt.objects.create(
            negotiation=outcome.negotiation, user=user, client_id=client_id, seq=outcome.seq
        )


def _require_open(negotiation: Negotiation) -> None:
    if negotiation.property.status == Property.Status.ARCHIVED:
        # Archiving ends every open negotiation under the property lock; this is the
        # backstop: nothing more happens in a negotiation on an archived listing.
        raise NegotiationClosed("This listing was archived by its host; the negotiation ended.")
    if negotiation.status == NegotiationStatus.UNAVAILABLE:
        # Whoever loses a race for the dates hears why, whether the winner committed
        # before this action locked the negotiation or during it.
        raise DatesUnavailable("The dates were taken meanwhile; this negotiation has ended.")
    if negotiation.status != NegotiationStatus.OPEN:
        raise NegotiationClosed()


def _require_turn(negotiation: Negotiation, side: str) -> None:
    _require_open(negotiation)
    if negotiation.turn != side:
        raise NotYourTurn()


# --- prices ---------------------------------------------------------------------------------------


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
    amount_str = f"{amount} {negotiation.currency}"
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
            raise OfferTooHigh(f"{amount_str} is not below the list price; book it instead.")
        if own_last and amount < own_last.amount:
            raise OfferTooLow(f"Offer at least your previous {own_last.amount}.")
        if other_last and amount >= other_last.amount:
            raise OfferTooHigh("The host already offered less; accept that offer instead.")
    else:
        if amount > negotiation.list_total:
            raise OfferTooHigh("A counter-offer cannot exceed the list price.")
        if other_last and amount <= other_last.amount:
            raise OfferTooLow(f"Counter above the guest's {other_last.amount}, or accept it.")
        if own_last and amount > own_last.amount:
            raise OfferTooHigh(f"Counter at most your previous {own_last.amount}.")
        if not other_last and amount >= negotiation.list_total:
            raise OfferTooHigh("A special offer must be below the list price.")


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
            "amount": str(amount),
            "message": message,
            "expires_at": offer.expires_at.isoformat(),
            "turn": negotiation.turn,
        },
        actor=actor,
        # The host is not told of an offer under their floor, nor of its decline: it was
        # never theirs to answer. It stays in the negotiation's log.
        # Nor of one accepted at once: the acceptance is the host's notice of it.
        notify_parties=not (below_floor or accepted_at_once),
        # The first offer of a new negotiation: the host's one notice of both (one email)
        notice={"opening": True} if opening else None,
    )
    if below_floor:
        return _decline_automatically(negotiation, offer, now)
    if side == Side.GUEST:
        return _apply_auto_accept(negotiation, offer, now) or event.seq
    return event.seq


def _below_floor(negotiation: Negotiation, amount: Decimal) -> bool:
    floor = _threshold(negotiation, negotiation.property.floor_nightly_price)
    return floor is not None and amount < floor


def _decline_automatically(negotiation: Negotiation, offer: Offer, now) -> int:
    """A guest offer under the floor total: declined at once as an offer, without revealing
    the floor. The negotiation stays open, the turn back with the guest; the offer counted
    as one of the guest's rounds (DESIGN.md section 3)."""
    offer.declined_at = now
    offer.save(update_fields=["declined_at"])
    negotiation.turn = Side.GUEST
    negotiation.save(update_fields=["turn", "updated_at"])
    left = max(0, settings.NEGOTIATION_MAX_ROUNDS - negotiation.guest_rounds)
    amount = f"{offer.amount} {negotiation.currency}"
    if left:
        detail = BELOW_FLOOR.format(amount=amount, left=f"{left} offer{'s' if left > 1 else ''}")
    else:
        detail = (
            f"Your offer of {amount} is below what the host accepts for these dates. It was "
            "declined automatically and you have no offers left in this negotiation: book "
            "at the list price, or withdraw."
        )
    return append_event(
        negotiation,
        "offer.declined",
        {
            "offer": offer.pk,
            "side": Side.GUEST,
            "amount": str(offer.amount),
            "reason": "automatic",
            "detail": detail,
            "turn": negotiation.turn,
            "rounds_left": left,
        },
    ).seq


def _auto_accepts(negotiation: Negotiation, amount: Decimal) -> bool:
    auto = _threshold(negotiation, negotiation.property.auto_accept_nightly_price)
    return auto is not None and amount >= auto


def _apply_auto_accept(negotiation: Negotiation, offer: Offer, now) -> int | None:
    """An offer at or above the auto-accept total is accepted at once."""
    if _auto_accepts(negotiation, offer.amount):
        return _accept(negotiation, offer, actor=None, now=now)
    return None


def _accept(negotiation: Negotiation, offer: Offer, *, actor: User | None, now) -> int:
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
        _close(negotiation, NegotiationStatus.UNAVAILABLE, now)
        append_event(negotiation, "negotiation.unavailable", {"status": "unavailable"})
        raise _AcceptFailed() from None
    negotiation.booking = booking
    negotiation.save(update_fields=["booking", "updated_at"])
    _close(negotiation, NegotiationStatus.ACCEPTED, now)
    append_event(
        negotiation,
        "offer.accepted",
        {"offer": offer.pk, "amount": str(offer.amount), "side": offer.side, "status": "accepted"},
        actor=actor,
    )
    return append_event(
        negotiation,
        "booking.created",
        {
            "booking": booking.pk,
            "status": booking.status,
            "total": str(booking.total),
            "hold_expires_at": booking.hold_expires_at.isoformat(),
        },
    ).seq


class _AcceptFailed(Exception):
    """The dates were taken: the negotiation is now unavailable (to be committed)."""


# --- use-cases --------------------------------------------------------------------------


def negotiation_open(
    *,
    guest: User,
    property_id: int,
    check_in: date,
    check_out: date,
    guests: int,
    stay_type: str,
    meals: dict | None = None,
    amount: Decimal | None = None,
    message: str = "",
    now: datetime | None = None,
) -> Outcome:
    from properties.services import quote_for_stay

    meals = meals or {}
    with transaction.atomic():
        prop = booking_services.lock_property(property_id, published_only=True)
        now = _now(now)
        if prop.host_id == guest.pk:
            raise booking_services.OwnProperty()
        if not prop.accepts_offers:
            raise OffersNotAccepted()
        quote = quote_for_stay(
            property=prop, check_in=check_in, check_out=check_out, guests=guests,
            stay_type=stay_type, meals=meals, now=now,
        )  # fmt: skip
        booking_services.ensure_dates_free(
            property_id=prop.pk, start=check_in, end=check_out, now=now
        )
        for existing in Negotiation.objects.select_for_update().filter(
            guest=guest,
            property=prop,
            status=NegotiationStatus.OPEN,
            check_in__lt=check_out,
            check_out__gt=check_in,
        ):
            if not _expire_if_due(existing, now):
                raise NegotiationExists(existing.pk)
        _check_opens_per_day(guest, prop, now)
        negotiation = Negotiation.objects.create(
            property=prop,
            guest=guest,
            host_id=prop.host_id,
            check_in=check_in,
            check_out=check_out,
            guests=guests,
            stay_type=stay_type,
            meals=meals,
            list_price=quote.as_dict(),
            list_total=quote.total,
            currency=prop.currency,
            cancellation_policy=prop.cancellation_policy,
            turn=Side.HOST,
            expires_at=now + _ttl(),
        )
        opened = append_event(
            negotiation,
            "negotiation.opened",
            {
                "property": prop.pk,
                "check_in": check_in.isoformat(),
                "check_out": check_out.isoformat(),
                "guests": guests,
                "stay_type": stay_type,
                "list_total": str(quote.total),
                "currency": prop.currency,
                "cancellation_policy": prop.cancellation_policy,
            },
            actor=guest,
            # opened with an amount, the offer's notice tells the host of both (one email)
            notify_parties=amount is None,
        )
        seq = opened.seq
        if message:
            seq = _post_message(negotiation, guest, message)
        if amount is not None:
            with contextlib.suppress(_AcceptFailed):  # recorded as unavailable
                seq = _make_offer(negotiation, Side.GUEST, amount, "", guest, now, opening=True)
            if negotiation.offers.filter(declined_at__isnull=False).exists():
                tell_event(negotiation, opened)  # the offer was never the host's to answer
        return Outcome(negotiation, seq, notice_of(negotiation, seq))


def _check_opens_per_day(guest: User, prop: Property, now: datetime) -> None:
    """At most ``NEGOTIATION_OPENS_PER_DAY`` negotiations per guest and listing in any 24 h,
    whatever became of the earlier ones (withdrawn, declined, expired)."""
    limit = settings.NEGOTIATION_OPENS_PER_DAY
    recent = Negotiation.objects.filter(
        guest=guest, property=prop, created_at__gt=now - timedelta(hours=24)
    )
    if recent.count() >= limit:
        raise TooManyNegotiations(
            f"You can open at most {limit} negotiation{'s' if limit != 1 else ''} for this "
            "listing in 24 hours. Continue an open one, book at the list price, or try "
            "again tomorrow.",
            limit=limit,
        )


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
        _close(negotiation, NegotiationStatus.DECLINED, now)
        event = append_event(
            negotiation, "negotiation.declined", {"status": "declined", "by": side}, actor=user
        )
        return Outcome(negotiation, event.seq)

    return _run(action, negotiation_id, user, now, client_id)


def negotiation_withdraw(
    *, negotiation_id: int, user: User, client_id: str = "", now=None
) -> Outcome:
    def action(negotiation, side, now):
        _require_open(negotiation)
        if side != Side.GUEST:
            raise NotYourTurn("Only the guest can withdraw; a host declines.")
        _close(negotiation, NegotiationStatus.WITHDRAWN, now)
        event = append_event(
            negotiation, "negotiation.withdrawn", {"status": "withdrawn"}, actor=user
        )
        return Outcome(negotiation, event.seq)

    return _run(action, negotiation_id, user, now, client_id)


def _post_message(negotiation: Negotiation, author: User, body: str) -> int:
    message = ChatMessage.objects.create(negotiation=negotiation, author=author, body=body)
    return append_event(
        negotiation,
        "message.created",
        {"message": message.pk, "body": body, "side": negotiation.side_of(author.pk)},
        actor=author,
    ).seq


def negotiation_message(
    *, negotiation_id: int, user: User, body: str, client_id: str = "", now=None
) -> Outcome:
    if connection.vendor == "postgresql":  # the plain case in one statement
        posted = chat.post_message(negotiation_id, user, body, _now(now), client_id)
        if posted is not None:
            return Outcome(*posted)
    with transaction.atomic():
        negotiation = _lock_for_chat(negotiation_id, user)
        if (replayed := _receipt(negotiation, user, client_id)) is not None:
            return Outcome(negotiation, replayed)
        now = _now(now)
        _expire_if_due(negotiation, now)
        if negotiation.status != NegotiationStatus.OPEN and (
            negotiation.closed_at and now > negotiation.closed_at + CHAT_AFTER_CLOSE
        ):
            raise NegotiationClosed("Chat closes 14 days after a negotiation ends.")
        outcome = Outcome(negotiation, _post_message(negotiation, user, body))
        _keep_receipt(outcome, user, client_id)
        return outcome


def negotiation_read(*, negotiation_id: int, user: User, seq: int) -> int:
    """Record that ``user`` has read up to ``seq``; relayed to the other side, not stored
    as an event. Returns the stored read position (never moves backwards)."""
    with transaction.atomic():
        negotiation = Negotiation.objects.filter(pk=negotiation_id).first()
        if negotiation is None or negotiation.side_of(user.pk) is None:
            raise Negotiation.DoesNotExist
        seq = max(0, min(seq, negotiation.last_seq))
        state, _ = ReadState.objects.select_for_update().get_or_create(
            negotiation=negotiation, user=user
        )
        if seq > state.last_read_seq:
            state.last_read_seq = seq
            state.save(update_fields=["last_read_seq"])
            publish_ephemeral(negotiation.pk, {"type": "read", "user": user.pk, "seq": seq})
        return state.last_read_seq


def negotiations_mark_unavailable(
    *, property_id: int, start: date, end: date, except_id: int | None = None
) -> int:
    """A booking took these dates: every other open negotiation over them ends."""
    now = timezone.now()
    open_ones = Negotiation.objects.select_for_update().filter(
        property_id=property_id,
        status=NegotiationStatus.OPEN,
        check_in__lt=end,
        check_out__gt=start,
    )
    if except_id is not None:
        open_ones = open_ones.exclude(pk=except_id)
    count = 0
    for negotiation in open_ones:
        _close(negotiation, NegotiationStatus.UNAVAILABLE, now)
        append_event(negotiation, "negotiation.unavailable", {"status": "unavailable"})
        count += 1
    return count


def negotiations_end_for_archive(*, property_id: int, actor: User, now: datetime) -> int:
    """The listing is being archived (its lock held by the caller): every open negotiation
    ends as ``unavailable`` with reason ``listing_archived``, in its log and room, and its
    guest is told (in-app, live, by email). Lapsed ones are recorded as expired."""
    count = 0
    open_ones = (
        Negotiation.objects.select_for_update(of=("self",))
        .select_related("property")
        .filter(property_id=property_id, status=NegotiationStatus.OPEN)
        .order_by("pk")
    )
    for negotiation in open_ones:
        count += 1
        if _expire_if_due(negotiation, now):
            continue
        _close(negotiation, NegotiationStatus.UNAVAILABLE, now)
        append_event(
            negotiation,
            "negotiation.unavailable",
            {
                "status": "unavailable",
                "reason": "listing_archived",
                "title": negotiation.property.title,
                "detail": "The host has archived this listing: the negotiation has ended "
                "and nothing was booked.",
            },
            actor=actor,
        )
    return count


#: What ending a user's account ends their negotiations with (the event's ``reason``).
ACCOUNT_ENDED_DETAIL = {
    Side.GUEST: "The guest's account was closed: the negotiation has ended.",
    Side.HOST: "The host's account was closed: the negotiation has ended and nothing was booked.",
}


def negotiations_end_for_user(*, user: User, reason: str, now: datetime) -> int:
    """The user's account is closing or deactivated: each of their open negotiations ends,
    ``withdrawn`` where they are the guest, ``unavailable`` where they are the host (nobody
    will answer), with ``reason`` in the event; the other party is told in-app and live.
    Lapsed ones are recorded as expired. Each is locked as every negotiation writer locks
    (property, then negotiation), in property order. Returns how many ended."""

    open_ones = (
        Negotiation.objects.filter(Q(guest=user) | Q(host=user), status=NegotiationStatus.OPEN)
        .order_by("property_id", "pk")
        .values_list("pk", "property_id")
    )
    count = 0
    for negotiation_id, property_id in list(open_ones):
        with transaction.atomic():
            list(Property.objects.select_for_update().filter(pk=property_id).values_list("pk"))
            negotiation = (
                Negotiation.objects.select_for_update(of=("self",))
                .select_related("property")
                .get(pk=negotiation_id)
            )
            if negotiation.status != NegotiationStatus.OPEN or _expire_if_due(negotiation, now):
                continue
            side = negotiation.side_of(user.pk)
            status, event_type = (
                (NegotiationStatus.WITHDRAWN, "negotiation.withdrawn")
                if side == Side.GUEST
                else (NegotiationStatus.UNAVAILABLE, "negotiation.unavailable")
            )
            _close(negotiation, status, now)
            append_event(
                negotiation,
                event_type,
                {"status": status, "reason": reason, "detail": ACCOUNT_ENDED_DETAIL[side]},
                actor=user,
            )
            count += 1
    return count


def negotiations_expire_due(*, now=None, batch: int = 200) -> int:
    now = _now(now)
    with transaction.atomic():
        due = list(
            Negotiation.objects.select_for_update(skip_locked=True)
            .filter(status=NegotiationStatus.OPEN, expires_at__lte=now)
            .order_by("expires_at")[:batch]
        )
        for negotiation in due:
            _expire_if_due(negotiation, now)
    return len(due)

"""What every negotiation action shares, for the modules of this package only: the
locks, the lazy expiry, the run of an action under its locks with its receipt (a repeat
of an applied action is answered with its first outcome), and the checks of state and
turn.

Every action locks the property row, then the negotiation row, so an acceptance (which
creates a booking) and any other writer of the property's dates are serialised in one
order; a chat message locks the negotiation row alone.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone

from accounts.models import User
from core import locks
from negotiation import transitions
from negotiation.errors import NegotiationClosed, NotYourTurn
from negotiation.events import append_event, publish_event, tell_event
from negotiation.models import ActionReceipt, Event, Negotiation, NegotiationStatus
from properties.errors import DatesUnavailable
from properties.models import Property


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
        Negotiation.objects.select_related("property").filter(pk=negotiation_id),
        of=("self",),
        timeout_already_set=True,  # by the property lock just above
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


def _expire_if_due(negotiation: Negotiation, now: datetime) -> bool:
    """Record a lapsed open negotiation as expired (its lock held); whether it was."""
    if negotiation.status == NegotiationStatus.OPEN and negotiation.expires_at <= now:
        transitions.close(negotiation, NegotiationStatus.EXPIRED, now)
        event = append_event(negotiation, "negotiation.expired", {"status": "expired"})
        publish_event(negotiation, event)
        tell_event(negotiation, event)  # both parties, in-app and by email
        return True
    return False


# --- one action under its locks -------------------------------------------------------------


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


def _keep_receipt(outcome: Outcome, user: User, client_id: str) -> None:
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

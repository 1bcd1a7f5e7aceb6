"""Negotiations ended from outside them, in bulk: the dates were booked, the listing is
archived, a party's account is ending; and the sweep that records lapsed ones as expired
(every read and write already treats them so: DESIGN.md section 2)."""

from datetime import date, datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core import locks
from negotiation import transitions
from negotiation.events import append_event, publish_event, tell_event
from negotiation.models import Negotiation, NegotiationStatus, Side
from negotiation.services.common import _expire_if_due, _now
from properties.models import Property

#: What ending a user's account ends their negotiations with (the event's ``reason``).
ACCOUNT_ENDED_DETAIL = {
    Side.GUEST: "The guest's account was closed: the negotiation has ended.",
    Side.HOST: "The host's account was closed: the negotiation has ended and nothing was booked.",
}


def negotiations_mark_unavailable(
    *, property_id: int, start: date, end: date, except_id: int | None = None
) -> int:
    """A booking took these dates: every other open negotiation over them ends."""
    now = timezone.now()
    open_ones = Negotiation.objects.filter(
        property_id=property_id,
        status=NegotiationStatus.OPEN,
        check_in__lt=end,
        check_out__gt=start,
    )
    if except_id is not None:
        open_ones = open_ones.exclude(pk=except_id)
    count = 0
    # The caller holds the property's lock (taken through core.locks).
    for negotiation in locks.lock_rows(open_ones, timeout_already_set=True):
        transitions.close(negotiation, NegotiationStatus.UNAVAILABLE, now)
        event = append_event(negotiation, "negotiation.unavailable", {"status": "unavailable"})
        publish_event(negotiation, event)
        tell_event(negotiation, event)  # both parties in-app (nobody acted), the guest by email
        count += 1
    return count


def negotiations_end_for_archive(*, property_id: int, actor: User, now: datetime) -> int:
    """The listing is being archived (its lock held by the caller): every open negotiation
    ends as ``unavailable`` with reason ``listing_archived``, in its log and room, and its
    guest is told (in-app, live, by email). Lapsed ones are recorded as expired."""
    count = 0
    open_ones = Negotiation.objects.select_related("property").filter(
        property_id=property_id, status=NegotiationStatus.OPEN
    )
    for negotiation in locks.lock_rows(open_ones, of=("self",), timeout_already_set=True):
        count += 1
        if _expire_if_due(negotiation, now):
            continue
        transitions.close(negotiation, NegotiationStatus.UNAVAILABLE, now)
        event = append_event(
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
        publish_event(negotiation, event)
        tell_event(negotiation, event)  # the guest, in-app and by email (listing_archived)
    return count


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
            locks.lock_rows(Property.objects.filter(pk=property_id).values_list("pk"))
            negotiation = locks.lock_one(
                Negotiation.objects.select_related("property").filter(pk=negotiation_id),
                of=("self",),
                timeout_already_set=True,
            )
            if negotiation.status != NegotiationStatus.OPEN or _expire_if_due(negotiation, now):
                continue
            side = negotiation.side_of(user.pk)
            status, event_type = (
                (NegotiationStatus.WITHDRAWN, "negotiation.withdrawn")
                if side == Side.GUEST
                else (NegotiationStatus.UNAVAILABLE, "negotiation.unavailable")
            )
            transitions.close(negotiation, status, now)
            event = append_event(
                negotiation,
                event_type,
                {"status": status, "reason": reason, "detail": ACCOUNT_ENDED_DETAIL[side]},
                actor=user,
            )
            publish_event(negotiation, event)
            tell_event(negotiation, event)  # the other party (the guest by email if unavailable)
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

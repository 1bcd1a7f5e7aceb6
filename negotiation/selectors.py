"""Negotiation reads, with the party check (others get 404)."""

from datetime import date, datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from negotiation.models import Event, Negotiation, NegotiationStatus, Offer, ReadState, Side


def negotiations_for_user(*, user: User, role: str = "", status: str = "") -> QuerySet:
    queryset = Negotiation.objects.select_related("property").prefetch_related(
        Prefetch("offers", queryset=Offer.objects.order_by("created_at", "pk"))
    )
    if role == "guest":
        queryset = queryset.filter(guest=user)
    elif role == "host":
        queryset = queryset.filter(host=user)
    else:
        queryset = queryset.filter(Q(guest=user) | Q(host=user))
    if status:
        queryset = queryset.filter(_seen_as(status, timezone.now()))
    return queryset.order_by("-updated_at", "-pk")


def _seen_as(status: str, now) -> Q:
    """Negotiations a reader sees in ``status`` (see :func:`effective_status`): a lapsed
    open one reads ``expired`` before the sweep records it."""
    if status == NegotiationStatus.OPEN:
        return Q(status=status, expires_at__gt=now)
    if status == NegotiationStatus.EXPIRED:
        return Q(status=status) | Q(status=NegotiationStatus.OPEN, expires_at__lte=now)
    return Q(status=status)


def negotiation_get_for_party(*, user: User, negotiation_id: int) -> Negotiation:
    negotiation = (
        negotiations_for_user(user=user).filter(pk=negotiation_id).first()
        if user.is_authenticated
        else None
    )
    if negotiation is None:
        raise Http404
    return negotiation


def negotiation_side(*, negotiation_id: int, user: User) -> str | None:
    """The side ``user`` takes in the negotiation (``guest`` or ``host``), None if they are
    not a party; ``Negotiation.DoesNotExist`` if there is none (the socket tells the two
    apart with its close codes, 4403 and 4404)."""
    parties = (
        Negotiation.objects.filter(pk=negotiation_id).values_list("guest_id", "host_id").first()
    )
    if parties is None:
        raise Negotiation.DoesNotExist
    guest_id, host_id = parties
    return {guest_id: Side.GUEST, host_id: Side.HOST}.get(user.pk)


def events_after(*, negotiation_id: int, after: int, limit: int = 1000) -> list[Event]:
    return list(
        Event.objects.filter(negotiation_id=negotiation_id, seq__gt=after).order_by("seq")[:limit]
    )


def read_marks(*, negotiation_id: int) -> list[tuple[int, int]]:
    """``(user id, last seq read)`` of each party that has read something."""
    return list(
        ReadState.objects.filter(negotiation_id=negotiation_id, last_read_seq__gt=0)
        .order_by("user_id")
        .values_list("user_id", "last_read_seq")
    )


def effective_status(negotiation: Negotiation, now=None) -> str:
    now = now or timezone.now()
    if negotiation.status == NegotiationStatus.OPEN and negotiation.expires_at <= now:
        return NegotiationStatus.EXPIRED
    return negotiation.status


def offer_counts(*, property_ids: list[int], start: date, end: date) -> dict[tuple[int, str], dict]:
    """Negotiation figures per (property, currency) for host analytics (docs/analytics.md):
    negotiations whose stay meets ``[start, end)``, those whose booking is confirmed or
    completed, the guests' offers in them, and the negotiations that ended with a guest's
    offer accepted (by the host or the host's auto-accept price; not a host counter the
    guest accepted: the ``offer.accepted`` event records whose offer it was)."""
    negotiations = Negotiation.objects.filter(
        property_id__in=property_ids, check_in__lt=end, check_out__gt=start
    )
    guest_accepted = Event.objects.filter(
        negotiation=OuterRef("pk"), type="offer.accepted", data__side=Side.GUEST
    )
    rows = negotiations.values("property_id", "currency").annotate(
        negotiations=Count("pk", distinct=True),
        negotiations_booked=Count(
            "pk", filter=Q(booking__status__in=("confirmed", "completed")), distinct=True
        ),
        offers_accepted=Count(
            "pk",
            filter=Q(status=NegotiationStatus.ACCEPTED) & Q(Exists(guest_accepted)),
            distinct=True,
        ),
    )
    received = (
        negotiations.filter(offers__side=Side.GUEST)
        .values("property_id", "currency")
        .annotate(n=Count("offers"))
    )
    counts = {
        (r["property_id"], r["currency"]): {
            "negotiations": r["negotiations"],
            "negotiations_booked": r["negotiations_booked"],
            "offers_received": 0,
            "offers_accepted": r["offers_accepted"],
        }
        for r in rows
    }
    for r in received:
        counts[(r["property_id"], r["currency"])]["offers_received"] = r["n"]
    return counts


def host_answerable_negotiations(
    *, host_id: int, since
) -> list[tuple[datetime, datetime | None, datetime | None]]:
    """For the host's response rate (bookings.superhost, docs/analytics.md "Reputation"):
    each negotiation a guest opened with the host since ``since``, as ``(opened_at,
    host_answered_at, ended_at)``: the host's first action in it (an offer, an
    acceptance, a decline, a message: any event the host made), or None; and when it
    closed, or None while open."""
    opened_by_guest = Event.objects.filter(
        negotiation=OuterRef("pk"), type="negotiation.opened", actor_id=OuterRef("guest_id")
    )
    first_host_event = (
        Event.objects.filter(negotiation=OuterRef("pk"), actor_id=host_id)
        .order_by("seq")
        .values("created_at")[:1]
    )
    rows = (
        Negotiation.objects.filter(host_id=host_id, created_at__gte=since)
        .filter(Exists(opened_by_guest))
        .annotate(host_answered_at=Subquery(first_host_event))
        .values_list("created_at", "host_answered_at", "closed_at")
    )
    return list(rows)

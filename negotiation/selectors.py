"""Negotiation reads, with the party check (others get 404)."""

from datetime import date

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
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

"""Property reads: visibility rules and whether dates are free.

Who holds which dates is not known here: bookings (and, later, negotiation's live holds)
answer through :mod:`properties.holds`; the host's blocks are this app's own.
"""

from datetime import date

from django.db.models import Exists, Expression, OuterRef, Prefetch, QuerySet
from django.http import Http404

from accounts.models import User
from properties import holds
from properties.models import AvailabilityBlock, Photo, Property, SeasonalRate


def _detail_queryset() -> QuerySet[Property]:
    return Property.objects.select_related("host").prefetch_related(
        "stay_types",
        "amenities",
        Prefetch("photos", queryset=Photo.objects.order_by("-is_cover", "position", "pk")),
    )


def property_get_visible(*, user: User | None, property_id: int) -> Property:
    """Published listings are public; drafts, unlisted and archived ones only to the owner
    and to a guest with a booking there, in any state (DESIGN.md section 3: a guest reads
    the listing through their own booking; asked through :func:`properties.holds.has_stay`);
    anyone else gets 404, as if they did not exist. The guest sees the public view
    (approximate location); the exact address comes with a confirmed booking
    (``bookings.api``)."""
    prop = _detail_queryset().filter(pk=property_id).first()
    if prop is None:
        raise Http404
    if prop.status == Property.Status.PUBLISHED:
        return prop
    signed_in = user is not None and user.is_authenticated
    if signed_in and (prop.host_id == user.pk or holds.has_stay(user=user, property_id=prop.pk)):
        return prop
    raise Http404


def property_get_owned(*, user: User, property_id: int) -> Property:
    prop = _detail_queryset().filter(pk=property_id, host_id=user.pk).first()
    if prop is None:
        raise Http404
    return prop


def properties_of_host(*, user: User) -> QuerySet[Property]:
    return (
        _detail_queryset()
        .filter(host=user)
        .exclude(status=Property.Status.ARCHIVED)
        .order_by("-created_at", "-pk")
    )


def dates_taken(
    *, property_id: int, start: date, end: date, now=None, include_blocks: bool = True
) -> bool:
    """Whether a holding booking (any date holder's row) or, with ``include_blocks``, a
    block meets ``[start, end)``.

    Lapsed holds do not count, whether or not the sweep has recorded them yet. A query
    per holder and one for blocks: simple ``EXISTS`` probes cost the ORM less to build
    than one statement with a correlated subquery each (measured for issue 21).
    """
    if holds.dates_held(property_id=property_id, start=start, end=end, now=now):
        return True
    return include_blocks and blocks_overlapping(property_id=property_id, start=start, end=end)


def blocks_overlapping(*, property_id: int, start: date, end: date) -> bool:
    return AvailabilityBlock.objects.filter(
        property_id=property_id, start__lt=end, end__gt=start
    ).exists()


def rates_overlapping(*, property_id: int, start: date, end: date) -> QuerySet[SeasonalRate]:
    return SeasonalRate.objects.filter(property_id=property_id, start__lt=end, end__gt=start)


def free_for_dates(start, end, now=None) -> tuple[Expression, ...]:
    """Conditions on ``Property`` rows: no holding booking (one condition per date holder,
    :func:`properties.holds.free_conditions`) and no block meets ``[start, end)``. The
    dates and ``now`` may be values or expressions (search passes expressions,
    :mod:`properties.prepared`).

    Separate ``NOT EXISTS`` rather than ``pk NOT IN (subquery)``: PostgreSQL never turns
    ``NOT IN`` into an anti-join, so that form hashed every overlapping booking of the
    whole table on each search (about 360 ms at 1M bookings); correlated ``NOT EXISTS``
    probe the per-property indexes and let the scan stop at the first page
    (docs/benchmarks.md). ``NOT (EXISTS .. OR EXISTS ..)`` is not pulled up either, hence
    one condition each (with bookings the only holder: two).
    """
    blocked = AvailabilityBlock.objects.filter(
        property=OuterRef("pk"), start__lt=end, end__gt=start
    )
    return (*holds.free_conditions(start, end, now), ~Exists(blocked))

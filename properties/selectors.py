"""Property reads: visibility rules, calendar and availability."""

from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404

from accounts.models import User
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
    the listing through their own booking); anyone else gets 404, as if they did not
    exist. The guest sees the public view (approximate location); the exact address comes
    with a confirmed booking (``bookings.api``)."""
    from bookings.models import Booking

    prop = _detail_queryset().filter(pk=property_id).first()
    if prop is None:
        raise Http404
    if prop.status == Property.Status.PUBLISHED:
        return prop
    signed_in = user is not None and user.is_authenticated
    if signed_in and (
        prop.host_id == user.pk or Booking.objects.filter(property=prop, guest=user).exists()
    ):
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
    """Whether a holding booking (or, with ``include_blocks``, a block) meets ``[start, end)``.

    Lapsed holds do not count, whether or not the sweep has recorded them yet.
    """
    from bookings.models import Booking

    booked = Booking.objects.filter(property_id=property_id).holding(now).overlapping(start, end)
    if booked.exists():
        return True
    return include_blocks and blocks_overlapping(property_id=property_id, start=start, end=end)


def blocks_overlapping(*, property_id: int, start: date, end: date) -> bool:
    return AvailabilityBlock.objects.filter(
        property_id=property_id, start__lt=end, end__gt=start
    ).exists()


def rates_overlapping(*, property_id: int, start: date, end: date) -> QuerySet[SeasonalRate]:
    return SeasonalRate.objects.filter(property_id=property_id, start__lt=end, end__gt=start)


def availability(*, prop: Property, start: date, end: date, now=None) -> list[dict]:
    """Each day of ``[start, end)``: ``available``, ``blocked``, ``booked`` or, outside
    the window a stay may take (before the property's today plus its advance notice, or
    from its today plus ``BOOKING_MAX_ADVANCE_DAYS`` on: ``bookable_window``, as the
    quote decides), ``unavailable``; with its price."""
    from bookings.models import Booking
    from properties.quotes import bookable_window

    first, last = bookable_window(prop, now)

    blocks = list(
        AvailabilityBlock.objects.filter(property=prop, start__lt=end, end__gt=start).values_list(
            "start", "end"
        )
    )
    booked = list(
        Booking.objects.filter(property=prop)
        .holding(now)
        .overlapping(start, end)
        .values_list("check_in", "check_out")
    )
    rates = list(rates_overlapping(property_id=prop.pk, start=start, end=end))
    base = prop.base_nightly_price
    days = []
    day = start
    while day < end:
        if any(b_start <= day < b_end for b_start, b_end in booked):
            state = "booked"
        elif day < first or day >= last:
            state = "unavailable"
        elif any(b_start <= day < b_end for b_start, b_end in blocks):
            state = "blocked"
        else:
            state = "available"
        price = next((r.nightly_price for r in rates if r.start <= day < r.end), base)
        days.append({"date": day, "status": state, "nightly_price": str(price) if price else None})
        day += timedelta(days=1)
    return days


def free_for_dates(start, end, now=None) -> tuple[Exists, Exists]:
    """Two conditions on ``Property`` rows: no holding booking and no block meets
    ``[start, end)``. The dates and ``now`` may be values or expressions (search passes
    expressions, :mod:`properties.prepared`).

    Two separate ``NOT EXISTS`` rather than ``pk NOT IN (subquery)``: PostgreSQL never
    turns ``NOT IN`` into an anti-join, so that form hashed every overlapping booking of
    the whole table on each search (about 360 ms at 1M bookings); correlated ``NOT
    EXISTS`` probe the per-property indexes and let the scan stop at the first page
    (docs/benchmarks.md). ``NOT (EXISTS .. OR EXISTS ..)`` is not pulled up either, hence
    two conditions.
    """
    from bookings.models import Booking

    booked = Booking.objects.filter(property=OuterRef("pk")).holding(now).overlapping(start, end)
    blocked = AvailabilityBlock.objects.filter(
        property=OuterRef("pk"), start__lt=end, end__gt=start
    )
    return ~Exists(booked), ~Exists(blocked)

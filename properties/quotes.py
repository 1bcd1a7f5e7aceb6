"""The quote of a stay at a listing: the listing's rules, then the pure pricing function.

``quote_for_stay`` is the one entry point: the quote endpoint, bookings and
negotiations all price a stay through it, so the server never trusts a client's
price. It reads the stay types and the seasonal rates covering the stay, checks
the rules (dates, notice, capacity, nights, stay type, meals) and hands plain data
to :func:`properties.pricing.quote`.

Errors (all ``400`` with a stable code, type ``client_error``): ``invalid_dates``,
``past_dates``, ``too_far_ahead``, ``advance_notice``, ``invalid_guests``, ``too_many_guests``,
``stay_type_not_offered``, ``min_nights``, ``max_nights``, ``meals_not_offered``;
with ``check_availability=True`` also ``409 dates_unavailable``.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from properties import pricing
from properties.errors import DatesUnavailable, QuoteError
from properties.models import Property, SeasonalRate, StayKind
from properties.selectors import dates_taken

PAYING_GUEST_MIN_NIGHTS = 28


def property_today(prop: Property, now: datetime | None = None) -> date:
    """Today's date where the property is (stay dates are local dates)."""
    return (now or timezone.now()).astimezone(ZoneInfo(prop.timezone or "UTC")).date()


def bookable_window(prop: Property, now: datetime | None = None) -> tuple[date, date]:
    """``(first, last)``: the first check-in day the listing takes (its today plus its
    advance notice) and the last check-out day (its today plus
    ``BOOKING_MAX_ADVANCE_DAYS``). The one definition that the quote, bookings, search
    and the availability calendar share."""
    today = property_today(prop, now)
    return (
        today + timedelta(days=prop.advance_notice_days),
        today + timedelta(days=settings.BOOKING_MAX_ADVANCE_DAYS),
    )


def min_nights_for(prop: Property, stay_type: str) -> int:
    """The shortest stay the listing takes for ``stay_type`` (a paying guest stays at
    least ``PAYING_GUEST_MIN_NIGHTS``)."""
    if stay_type == StayKind.PAYING_GUEST:
        return max(prop.min_nights, PAYING_GUEST_MIN_NIGHTS)
    return prop.min_nights


def check_stay(
    prop: Property,
    *,
    check_in: date,
    check_out: date,
    guests: int,
    stay_type: str,
    offered,
    now: datetime | None = None,
) -> None:
    """The listing's rules for a stay, raising :class:`QuoteError` (the codes of the
    module docstring but ``meals_not_offered``). ``offered``: the kinds of stay the
    listing offers. Quote, booking and search all decide with this function."""
    nights = (check_out - check_in).days
    today = property_today(prop, now)
    if nights < 1:
        raise QuoteError("Check-out must be after check-in.", code="invalid_dates")
    if check_in < today:
        raise QuoteError("Check-in cannot be in the past.", code="past_dates")
    first, last = bookable_window(prop, now)
    if check_out > last:
        raise QuoteError("Dates can be at most two years ahead.", code="too_far_ahead")
    if check_in < first:
        raise QuoteError(
            f"This host needs {prop.advance_notice_days} days of notice.", code="advance_notice"
        )
    if guests < 1:
        raise QuoteError("At least one guest.", code="invalid_guests")
    if guests > prop.max_guests:
        raise QuoteError(f"At most {prop.max_guests} guests.", code="too_many_guests")
    if stay_type not in offered:
        raise QuoteError("This stay type is not offered here.", code="stay_type_not_offered")
    min_nights = min_nights_for(prop, stay_type)
    if nights < min_nights:
        raise QuoteError(f"The minimum stay is {min_nights} nights.", code="min_nights")
    if nights > prop.max_nights:
        raise QuoteError(f"The maximum stay is {prop.max_nights} nights.", code="max_nights")


def quote_for_stay(
    *,
    property: Property,
    check_in: date,
    check_out: date,
    guests: int,
    stay_type: str,
    meals: dict | None = None,
    now: datetime | None = None,
    check_availability: bool = False,
) -> pricing.Quote:
    """Validate a stay against the listing's rules and price it.

    Availability is checked only with ``check_availability`` (booking writers check
    it themselves, under the property lock, after expiring lapsed holds).
    """
    prop = property
    offered = {s.kind: s for s in prop.stay_types.all()}
    check_stay(
        prop, check_in=check_in, check_out=check_out, guests=guests, stay_type=stay_type,
        offered=offered, now=now,
    )  # fmt: skip
    spec = offered[stay_type]
    chosen = _chosen_meals(meals or {}, spec, stay_type)
    if check_availability and dates_taken(
        property_id=prop.pk, start=check_in, end=check_out, now=now
    ):
        raise DatesUnavailable()
    rates = ()
    if stay_type != StayKind.PAYING_GUEST:
        rates = stay_type_rates(
            offered.values(),
            spec,
            SeasonalRate.objects.filter(property=prop, start__lt=check_out, end__gt=check_in),
        )
    return pricing.quote(
        _price_input(
            prop, spec, check_in=check_in, check_out=check_out, guests=guests, meals=chosen,
            stay_type=stay_type, currency=prop.currency, rates=rates,
        )
    )  # fmt: skip


def quote_for_search(
    prop: Property,
    *,
    offered: dict,
    rates: tuple,
    check_in: date,
    check_out: date,
    guests: int,
    stay_type: str | None,
    now: datetime | None = None,
) -> tuple[str, pricing.Quote] | None:
    """What a search result shows for a stay: the stay type and its quote, exactly as
    :func:`quote_for_stay` (without meals) would give it, or ``None`` where the quote
    refuses the stay. Without ``stay_type``, the cheapest of the listing's stay types
    that quotes (on a tie, the first in ``StayKind`` order). ``offered`` and ``rates``
    (``pricing.Rate``s covering the stay) are loaded by the caller for many listings at
    once; availability is the caller's."""
    best = None
    for kind in [stay_type] if stay_type else [k for k in StayKind.values if k in offered]:
        try:
            check_stay(
                prop, check_in=check_in, check_out=check_out, guests=guests, stay_type=kind,
                offered=offered, now=now,
            )  # fmt: skip
        except QuoteError:
            continue
        quote = pricing.quote(
            _price_input(
                prop, offered[kind], check_in=check_in, check_out=check_out, guests=guests,
                meals=(), stay_type=kind, currency=prop.currency,
                rates=()
                if kind == StayKind.PAYING_GUEST
                else stay_type_rates(offered.values(), offered[kind], rates),
            )
        )  # fmt: skip
        if best is None or quote.total < best[1].total:
            best = (kind, quote)
    return best


def stay_type_rates(stay_types, spec, seasonal_rates) -> tuple[pricing.Rate, ...]:
    """The seasonal rates as ``spec``'s nightly prices. A seasonal rate is the price of the
    listing's cheapest nightly stay type for its nights; every other stay type keeps its
    difference to that one (standard 120, with meals 150, a rate of 200: 200 and 230).
    Paying guests pay their monthly price whatever the season (docs/api.md)."""
    nightly = [s.nightly_price for s in stay_types if s.nightly_price is not None]
    gap = spec.nightly_price - min(nightly) if nightly and spec.nightly_price else Decimal(0)
    return tuple(pricing.Rate(r.start, r.end, r.nightly_price + gap) for r in seasonal_rates)


def quote_at_nightly(
    *,
    property: Property,
    check_in: date,
    check_out: date,
    guests: int,
    stay_type: str,
    meals: dict | None,
    currency: str,
    nightly: Decimal,
) -> pricing.Quote:
    """The quote of a stay with every night at ``nightly`` (no seasonal rates), priced
    exactly as :func:`quote_for_stay` prices it otherwise: the weekly or monthly discount,
    meals, cleaning fee and service fee computed from those nights. A paying guest's stay
    counts ``nightly`` per night (its month as 30 nights). Floor and auto-accept totals of
    a negotiation are such quotes (private to the host; no rule checks here)."""
    spec = next((s for s in property.stay_types.all() if s.kind == stay_type), None)
    if spec is None:
        raise QuoteError("This stay type is not offered here.", code="stay_type_not_offered")
    chosen = tuple(meal for meal in pricing.MEALS if (meals or {}).get(meal))
    return pricing.quote(
        _price_input(
            property, spec, check_in=check_in, check_out=check_out, guests=guests, meals=chosen,
            stay_type=stay_type, currency=currency, nightly=nightly,
        )
    )  # fmt: skip


def _price_input(
    prop: Property,
    spec,
    *,
    check_in: date,
    check_out: date,
    guests: int,
    stay_type: str,
    meals: tuple[str, ...],
    currency: str,
    rates: tuple = (),
    nightly: Decimal | None = None,
) -> pricing.PriceInput:
    """The one mapping of a listing to the pure pricing input (``nightly``: every night
    at that price instead of the stay type's prices)."""
    nightly_price, monthly_price = spec.nightly_price, spec.monthly_price
    if nightly is not None:
        nightly_price = nightly
        monthly_price = nightly * pricing.DAYS_PER_MONTH
    return pricing.PriceInput(
        kind=stay_type,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        currency=currency,
        nightly_price=nightly_price,
        monthly_price=monthly_price,
        rates=rates,
        meal_prices=_meal_prices(spec),
        meals=meals,
        weekly_discount_percent=prop.weekly_discount_percent,
        monthly_discount_percent=prop.monthly_discount_percent,
        cleaning_fee=prop.cleaning_fee,
        service_fee_percent=settings.SERVICE_FEE_PERCENT,
    )


def _meal_prices(spec) -> dict:
    return {meal: getattr(spec, f"{meal}_price") for meal in pricing.MEALS}


def _chosen_meals(meals: dict, spec, stay_type: str) -> tuple[str, ...]:
    chosen = tuple(meal for meal, wanted in meals.items() if wanted)
    if chosen and stay_type != StayKind.WITH_MEALS:
        raise QuoteError("Meals come only with the with_meals stay type.", code="meals_not_offered")
    prices = _meal_prices(spec)
    for meal in chosen:
        if prices.get(meal) is None:
            raise QuoteError(f"{meal} is not offered here.", code="meals_not_offered")
    return tuple(meal for meal in pricing.MEALS if meal in chosen)

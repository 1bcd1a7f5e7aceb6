"""Search over published listings (DESIGN.md section 4 filters).

Two steps. The database filters over indexed columns, a little more broadly than the
listings' own rules: dates exclude properties with a holding booking or a block in the
range (two correlated ``NOT EXISTS`` over indexed ranges) and those whose nights or
advance notice cannot fit in any time zone; with dates, prices filter and sort on an
SQL estimate of the stay's total (``price_key``) with a margin; a radius filters on the
grid cells the circle touches (wrapping the antimeridian and the poles). Then
:func:`search_page` keeps, in Python, exactly the rows the quote takes
(:func:`properties.quotes.quote_for_search`: the property's own today, advance notice,
minimum and maximum nights per stay type, the stay's total and its nightly average)
and those within the radius by great-circle distance, batch after batch until a page
is full. Unknown filter values (a choice, an amenity code) are 400s. Results carry their
cover photo's file name (a subquery of the same query).

City and text match ignoring case and accents: both sides go through
:func:`properties.models.fold_text` (stored columns ``*_folded``).

Paging is by SQL position within a snapshot: the next link carries the instant of the
first page and the position its last row was read at, and later pages leave out the
listings published after that instant, so publishing never shifts a page.

The list view runs searches through :class:`SearchResults`: the SQL of each shape of
search (which filters, ordering and page) is compiled once per process and bound to each
search's values (:mod:`properties.prepared`); :func:`search_properties` builds the same
query as an ordinary queryset.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    ExpressionWrapper,
    F,
    Field,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.db.models.lookups import Exact
from django.utils import timezone
from rest_framework import serializers

from core.api.params import QueryParamsSerializer
from core.money import quantize
from properties import pricing
from properties.models import (
    GEO_CELL_ROW,
    GEO_CELLS_PER_DEGREE,
    Amenity,
    GeoCellsField,
    Photo,
    Property,
    PropertyType,
    SeasonalRate,
    StayKind,
    StayType,
    fold_text,
    geo_cell,
)
from properties.prepared import ShapeCache, Terms, compile_shape
from properties.quotes import PAYING_GUEST_MIN_NIGHTS, quote_for_search
from properties.selectors import free_for_dates

ORDERINGS = {
    "price": ("base_nightly_price", "pk"),
    "-price": ("-base_nightly_price", "-pk"),
    "-rating": (F("rating_avg").desc(nulls_last=True), "-pk"),
    "-created": ("-created_at", "-pk"),
}
#: With dates, price orderings sort on the stay's estimated total instead.
PRICED_ORDERINGS = {"price": ("price_key", "pk"), "-price": ("-price_key", "-pk")}
#: The columns the quote's rules and price read (loaded with dates, beside a card's).
QUOTE_COLUMNS = [
    "timezone",
    "advance_notice_days",
    "min_nights",
    "max_nights",
    "max_guests",
    "currency",
    "cleaning_fee",
    "weekly_discount_percent",
    "monthly_discount_percent",
]
#: How far an SQL price estimate may be from the quote's total (rounding of the
#: discount and the service fee), in currency units per stay: the SQL filter lets this
#: much more through, the quote decides.
PRICE_MARGIN = Decimal(2)
EARTH_RADIUS_KM = 6371.0088
MAX_AMENITIES = 30
KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LNG_AT_EQUATOR = 111.320
# Cells of 0.025 degrees: a 20 km circle's box spans about 230 of them at the equator and
# 400 at 60 degrees north; the circle touches about four fifths of those.
MAX_GEO_CELLS = 500


class SearchParams(QueryParamsSerializer):
    city = serializers.CharField(max_length=100, required=False)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False)
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False)
    lng = serializers.FloatField(min_value=-180, max_value=180, required=False)
    radius_km = serializers.FloatField(min_value=0.1, max_value=500, required=False)
    check_in = serializers.DateField(required=False)
    check_out = serializers.DateField(required=False)
    guests = serializers.IntegerField(min_value=1, max_value=50, required=False)
    stay_type = serializers.ChoiceField(choices=StayKind.choices, required=False)
    min_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False
    )
    max_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False
    )
    amenities = serializers.CharField(max_length=500, required=False)
    property_type = serializers.ChoiceField(choices=PropertyType.choices, required=False)
    instant_book = serializers.BooleanField(required=False, allow_null=True, default=None)
    q = serializers.CharField(max_length=200, required=False)
    ordering = serializers.ChoiceField(choices=list(ORDERINGS), required=False)

    def validate(self, attrs):
        geo = [name for name in ("lat", "lng", "radius_km") if name in attrs]
        if geo and len(geo) != 3:
            raise serializers.ValidationError(
                {"radius_km": "Give lat, lng and radius_km together."}, code="incomplete_geo"
            )
        dates = [name for name in ("check_in", "check_out") if name in attrs]
        if len(dates) == 1:
            raise serializers.ValidationError(
                {"check_out": "Give check_in and check_out together."}, code="incomplete_dates"
            )
        if dates:
            # The earliest and latest "today" anywhere (UTC-12 to UTC+14): each listing's
            # own today decides the rest (search_page, the quote).
            today = timezone.now().date()
            if attrs["check_out"] <= attrs["check_in"]:
                raise serializers.ValidationError(
                    {"check_out": "Check-out must be after check-in."}, code="invalid_dates"
                )
            if attrs["check_in"] < today - timedelta(days=1):
                raise serializers.ValidationError(
                    {"check_in": "Check-in cannot be in the past."}, code="past_dates"
                )
            if attrs["check_out"] > today + timedelta(days=settings.BOOKING_MAX_ADVANCE_DAYS + 1):
                raise serializers.ValidationError(
                    {"check_out": "Dates can be at most two years ahead."}, code="too_far_ahead"
                )
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"max_price": "max_price must not be below min_price."}, code="invalid_range"
            )
        if "amenities" in attrs:
            attrs["amenities"] = _amenity_codes(attrs["amenities"])
        return attrs


def _amenity_codes(value: str) -> list[str]:
    codes = sorted({code.strip() for code in value.split(",") if code.strip()})
    if len(codes) > MAX_AMENITIES:
        raise serializers.ValidationError(
            {"amenities": f"At most {MAX_AMENITIES} amenities."}, code="max_length"
        )
    known = set(Amenity.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise serializers.ValidationError(
            {"amenities": f"Unknown amenities: {', '.join(unknown)}."}, code="unknown_amenity"
        )
    return codes


def search_terms(params: dict, now: datetime | None = None) -> dict[str, Any]:
    """The values a search binds, by name, worked out from validated ``params``: which
    names are present is the query's shape (:func:`build_search`). ``published_before``
    (a page after the first) leaves out what was published after the first page."""
    terms: dict[str, Any] = {"status": Property.Status.PUBLISHED}
    if city := params.get("city"):
        terms["city"] = fold_text(city.strip())
    if country := params.get("country"):
        terms["country"] = country.upper()
    if "radius_km" in params:
        terms.update(_radius_terms(params["lat"], params["lng"], params["radius_km"]))
    if "check_in" in params:
        check_in, check_out = params["check_in"], params["check_out"]
        now = now or timezone.now()
        nights = (check_out - check_in).days
        terms.update(
            check_in=check_in,
            check_out=check_out,
            now=now,
            nights=nights,
            # broad: a listing's today is at most one day behind UTC's (quote decides)
            notice=max((check_in - now.date()).days + 1, 0),
        )
        if _priced(params):
            terms.update(_price_terms(params, nights))
    if guests := params.get("guests"):
        terms["guests"] = guests
    if stay_type := params.get("stay_type"):
        terms["stay_type"] = stay_type
    if "check_in" not in params:  # without dates, on the listing's nightly price
        if params.get("min_price") is not None:
            terms["min_price"] = params["min_price"]
        if params.get("max_price") is not None:
            terms["max_price"] = params["max_price"]
    for index, code in enumerate(params.get("amenities", [])):
        terms[f"amenity_{index}"] = code
    if property_type := params.get("property_type"):
        terms["property_type"] = property_type
    if params.get("instant_book") is not None:
        terms["instant_book"] = params["instant_book"]
    if q := params.get("q"):
        terms["q"] = fold_text(q.strip())
    if params.get("published_before") is not None:
        terms["published_before"] = params["published_before"]
    return terms


def _priced(params: dict) -> bool:
    """Whether a search with dates needs the SQL price estimate (a price filter or
    ordering)."""
    return (
        params.get("min_price") is not None
        or params.get("max_price") is not None
        or params.get("ordering") in PRICED_ORDERINGS
    )


def _price_terms(params: dict, nights: int) -> dict[str, Any]:
    """The constants of the stay's price estimate (:func:`_price_key`) and its bounds."""
    factor = 1 + Decimal(settings.SERVICE_FEE_PERCENT) / 100
    terms: dict[str, Any] = {
        "long_stay": nights >= PAYING_GUEST_MIN_NIGHTS,  # paying guests and monthly discount
        "weekly": nights >= 7,
    }
    # nightly average = total / nights and total ~ key * factor (fees are a percent)
    if params.get("min_price") is not None:
        terms["key_min"] = (params["min_price"] * nights - PRICE_MARGIN) / factor
    if params.get("max_price") is not None:
        terms["key_max"] = (params["max_price"] * nights + PRICE_MARGIN) / factor
    return terms


def _radius_terms(lat: float, lng: float, radius_km: float) -> dict[str, Any]:
    """The grid cells the circle touches (or, for a circle too large for them, its
    bounding box, in two ranges of longitude where it crosses the antimeridian), and
    the constants of a generous distance check where the circle neither crosses the
    antimeridian nor reaches a pole. The exact check is :func:`within_radius`."""
    dlat = radius_km / KM_PER_DEGREE_LAT
    lat_low, lat_high = lat - dlat, lat + dlat
    polar = lat_low <= -90 or lat_high >= 90
    # the narrowest degree of longitude in the circle: generous everywhere in it
    km_per_lng = KM_PER_DEGREE_LNG_AT_EQUATOR * math.cos(
        math.radians(min(max(abs(lat_low), abs(lat_high)), 90))
    )
    all_lng = polar or km_per_lng * 180 <= radius_km
    dlng = 180.0 if all_lng else radius_km / km_per_lng
    crosses = all_lng or lng - dlng < -180 or lng + dlng > 180
    terms: dict[str, Any] = {}
    cells = None if all_lng else cells_touching(lat, lng, radius_km)
    if cells is not None:
        terms["cells"] = cells
    else:
        terms.update(lat_min=_decimal(max(lat_low, -90)), lat_max=_decimal(min(lat_high, 90)))
        if not all_lng:
            low, high = lng - dlng, lng + dlng
            if low < -180:
                second = (low + 360, 180.0)
            elif high > 180:
                second = (-180.0, high - 360)
            else:
                second = (1.0, 0.0)  # empty
            terms.update(
                lng_min=_decimal(max(low, -180)),
                lng_max=_decimal(min(high, 180)),
                lng2_min=_decimal(second[0]),
                lng2_max=_decimal(second[1]),
            )
    if not crosses:
        slack = radius_km * 1.01 + 0.01
        terms.update(
            lat=_decimal(lat),
            lng=_decimal(lng),
            km_per_lat=_decimal(KM_PER_DEGREE_LAT),
            km_per_lng=_decimal(km_per_lng),
            radius2=_decimal(slack * slack),
        )
    return terms


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


_CHAR = CharField()
_DECIMAL = DecimalField()
_TERM_FIELDS = {
    "status": _CHAR,
    "city": _CHAR,
    "country": _CHAR,
    "cells": GeoCellsField(),
    "check_in": DateField(),
    "check_out": DateField(),
    "now": DateTimeField(),
    "nights": IntegerField(),
    "notice": IntegerField(),
    "long_stay": BooleanField(),
    "weekly": BooleanField(),
    "key_min": _DECIMAL,
    "key_max": _DECIMAL,
    "guests": IntegerField(),
    "stay_type": _CHAR,
    "min_price": _DECIMAL,
    "max_price": _DECIMAL,
    "property_type": _CHAR,
    "instant_book": BooleanField(),
    "q": _CHAR,
    "published_before": DateTimeField(),
    # the radius: bounding box, centre and the distance check's constants, as decimals
    # like the coordinate columns they meet
    **dict.fromkeys(("lat_min", "lat_max", "lng_min", "lng_max", "lng2_min", "lng2_max"), _DECIMAL),
    **dict.fromkeys(("lat", "lng", "km_per_lat", "km_per_lng", "radius2"), _DECIMAL),
}


def _term_field(name: str) -> Field:
    """The type of a search term; an unknown name is a ``KeyError``, not a guess."""
    if name.startswith("amenity_"):
        return _CHAR
    return _TERM_FIELDS[name]


def build_search(terms: Terms, *, ordering: str | None, columns: list[str] | None) -> QuerySet:
    """The search's queryset. Decides only on which terms are present, never on their
    values, so that one compiled query serves every search of the same shape. Every
    value must come through ``terms``: one taken from anywhere else (``timezone.now()``
    here, say) would be compiled into the shape and reused by every later search of it;
    add it to :func:`search_terms` instead."""
    qs = Property.objects.filter(status=terms("status"))
    if "published_before" in terms:
        qs = qs.filter(
            Q(published_at__isnull=True) | Q(published_at__lte=terms("published_before"))
        )
    if "city" in terms:
        qs = qs.filter(city_folded=terms("city"))
    if "country" in terms:
        qs = qs.filter(country=terms("country"))
    if "cells" in terms or "lat_min" in terms or "lat" in terms:
        qs = _within_radius(qs, terms)
    if "check_in" in terms:
        check_in, check_out = terms("check_in"), terms("check_out")
        qs = qs.filter(
            *free_for_dates(check_in, check_out, terms("now")),
            min_nights__lte=terms("nights"),
            max_nights__gte=terms("nights"),
            advance_notice_days__lte=terms("notice"),
        )
    if "guests" in terms:
        qs = qs.filter(max_guests__gte=terms("guests"))
    if "stay_type" in terms:
        qs = qs.filter(stay_types__kind=terms("stay_type"))
    if "long_stay" in terms:
        qs = _with_price_key(qs, terms).filter(price_key__isnull=False)
        if "key_min" in terms:
            qs = qs.filter(price_key__gte=terms("key_min"))
        if "key_max" in terms:
            qs = qs.filter(price_key__lte=terms("key_max"))
    if "min_price" in terms:
        qs = qs.filter(base_nightly_price__gte=terms("min_price"))
    if "max_price" in terms:
        qs = qs.filter(base_nightly_price__lte=terms("max_price"))
    index = 0
    while f"amenity_{index}" in terms:  # one join each: all of them, not any
        qs = qs.filter(amenities__code=terms(f"amenity_{index}"))
        index += 1
    if "property_type" in terms:
        qs = qs.filter(property_type=terms("property_type"))
    if "instant_book" in terms:
        qs = qs.filter(instant_book=terms("instant_book"))
    order_by = ORDERINGS.get(ordering or "-created")
    if "long_stay" in terms and ordering in PRICED_ORDERINGS:
        order_by = PRICED_ORDERINGS[ordering]
    if "q" in terms:
        qs, ranked = _text_search(qs, terms("q"))
        if ranked and not ordering:
            order_by = ("-rank", "-pk")
    # The cover's file name in the same query (one cover at most: constraint
    # photo_one_cover), instead of a second query and a Photo instance per result.
    cover = Photo.objects.filter(property=OuterRef("pk"), is_cover=True).order_by()
    cover = cover.values("image")[:1]
    qs = qs.annotate(cover_image=Subquery(cover)).order_by(*order_by)
    return qs.values(*columns, "cover_image") if columns else qs


class DaysBetween(Func):
    """``later - earlier`` in days, for two dates."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        later, later_params = compiler.compile(self.source_expressions[0])
        earlier, earlier_params = compiler.compile(self.source_expressions[1])
        return f"({later} - {earlier})", [*later_params, *earlier_params]

    def as_sqlite(self, compiler, connection, **extra):
        later, later_params = compiler.compile(self.source_expressions[0])
        earlier, earlier_params = compiler.compile(self.source_expressions[1])
        sql = f"CAST(ROUND(julianday({later}) - julianday({earlier})) AS INTEGER)"
        return sql, [*later_params, *earlier_params]


_MONEY = DecimalField(max_digits=20, decimal_places=6)


def _with_price_key(qs: QuerySet, terms: Terms) -> QuerySet:
    """An SQL estimate of the stay's price before the service fee, for the cheapest
    stay type that may take it (or ``stay_type``'s): its nights (each at the seasonal
    rate covering it or the stay type's nightly price; a paying guest's month over 30
    nights), less the weekly or monthly discount, plus the cleaning fee, without the
    quote's rounding. A seasonal rate is the cheapest nightly stay type's price and
    the others keep their difference (``quotes.stay_type_rates``). The total is this
    times the service fee factor, within a few minor units (``PRICE_MARGIN``); ordering
    on it is ordering on the total."""
    check_in, check_out, nights = terms("check_in"), terms("check_out"), terms("nights")
    rates = SeasonalRate.objects.filter(
        property=OuterRef("pk"), start__lt=check_out, end__gt=check_in
    ).order_by()
    overlap = DaysBetween(
        Least(F("end"), check_out, output_field=DateField()),
        Greatest(F("start"), check_in, output_field=DateField()),
    )
    per_property = rates.values("property")
    rate_nights = Subquery(per_property.annotate(n=Sum(overlap)).values("n")[:1])
    rate_sum = Subquery(
        per_property.annotate(
            s=Sum(ExpressionWrapper(F("nightly_price") * overlap, output_field=_MONEY))
        ).values("s")[:1]
    )

    def lowest(column: str, kinds: QuerySet) -> Subquery:
        kinds = kinds.filter(**{f"{column}__isnull": False}).order_by().values("property")
        return Subquery(kinds.annotate(m=Min(column)).values("m")[:1], output_field=_MONEY)

    stay_types = StayType.objects.filter(property=OuterRef("pk"))
    nightly_kinds = stay_types.exclude(kind=StayKind.PAYING_GUEST)
    monthly_kinds = stay_types.filter(kind=StayKind.PAYING_GUEST)
    if "stay_type" in terms:
        nightly_kinds = nightly_kinds.filter(kind=terms("stay_type"))
        monthly_kinds = monthly_kinds.filter(kind=terms("stay_type"))
    percent = Case(
        When(
            Q(Exact(terms("long_stay"), True), monthly_discount_percent__gt=0),
            then=F("monthly_discount_percent"),
        ),
        When(Exact(terms("weekly"), True), then=F("weekly_discount_percent")),
        default=Value(Decimal(0)),
        output_field=_MONEY,
    )
    # each night at the stay type's price, or at the rate plus the stay type's gap to the
    # cheapest nightly stay type: price * nights + rates - cheapest * rate nights
    nightly = ExpressionWrapper(
        (
            F("sk_nightly") * nights
            + Coalesce(F("sk_rate_sum"), Value(Decimal(0)), output_field=_MONEY)
            - F("sk_cheapest") * Coalesce(F("sk_rate_nights"), Value(0))
        )
        * (Value(100) - F("sk_percent"))
        / Value(100),
        output_field=_MONEY,
    )
    monthly = Case(
        When(Exact(terms("long_stay"), True), then=F("sk_monthly") * nights / Value(30)),
        default=Value(None),
        output_field=_MONEY,
    )
    none = Value(Decimal("1e12"))  # no such stay type: more than any price
    stay = Least(
        Coalesce(nightly, none, output_field=_MONEY),
        Coalesce(monthly, none, output_field=_MONEY),
        output_field=_MONEY,
    )
    key = Case(
        When(Q(Exact(stay, none)), then=Value(None)),
        default=ExpressionWrapper(stay + F("cleaning_fee"), output_field=_MONEY),
        output_field=_MONEY,
    )
    qs = qs.alias(
        sk_rate_nights=rate_nights,
        sk_rate_sum=rate_sum,
        sk_nightly=lowest("nightly_price", nightly_kinds),
        sk_cheapest=lowest("nightly_price", stay_types),
        sk_monthly=lowest("monthly_price", monthly_kinds),
        sk_percent=percent,
    )
    return qs.alias(price_key=key)


def search_properties(params: dict, *, columns: list[str] | None = None) -> QuerySet:
    """Published listings matching ``params`` in SQL (the broad step: see the module
    docstring), first-page ready, each with its cover's file name (``cover_image``).
    ``columns``: rows as dictionaries of only these columns and ``cover_image`` (what a
    result card shows, ``PropertyListSerializer.columns()``), keeping the long text
    columns and a few dozen unused ones out of every search, and building no model
    instance."""
    terms = Terms(search_terms(params), _term_field, named=False)
    return build_search(terms, ordering=params.get("ordering"), columns=columns)


_compiled_searches = ShapeCache(max_size=512)


class SearchResults:
    """The rows of the SQL step of a search, by slice (``results[0:21]``), each slice one
    query: the compiled query of its shape (:mod:`properties.prepared`) bound to this
    search's values, or where a shape did not compile, :func:`search_properties`."""

    def __init__(
        self, params: dict, columns: list[str], using: str = "default", now: datetime | None = None
    ):
        self.params = params
        self.columns = list(columns)
        self.using = using
        self.now = now

    def __getitem__(self, page: slice) -> list[dict]:
        if not isinstance(page, slice) or page.step is not None:
            raise TypeError("SearchResults takes a slice without a step")
        low, high = page.start or 0, page.stop
        values = search_terms(self.params, self.now)
        ordering = self.params.get("ordering")
        key = (
            self.using,
            connections[self.using].vendor,
            tuple(sorted(values)),
            ordering,
            tuple(self.columns),
            low,
            high,
        )

        def build(terms: Terms) -> QuerySet:
            return build_search(terms, ordering=ordering, columns=self.columns)[low:high]

        compiled = _compiled_searches.get(
            key, lambda: compile_shape(build, values, _term_field, self.using)
        )
        if compiled is None:
            return list(build(Terms(values, _term_field, named=False)))
        return compiled.rows(values, self.using)


@dataclass
class Page:
    rows: list[dict]  # the page's rows, each with its stay_type, stay_total, nightly_average
    next_start: int | None  # the SQL position the next page starts at, None at the end


def search_page(
    params: dict,
    *,
    columns: list[str],
    start: int = 0,
    size: int = 20,
    now: datetime | None = None,
    using: str = "default",
) -> Page:
    """A page of search results from SQL position ``start``: the rows of the SQL step
    (:class:`SearchResults`, in slices of ``size + 1`` at multiples of ``size``, the
    slices a plain page reads) that the quote takes for the dates and that lie within the
    radius, until ``size`` of them and one more (to know there is a next page).

    With dates each row carries ``stay_type`` (the stay type priced: ``stay_type`` or the
    cheapest that quotes), ``stay_total`` (the quote's total, without meals) and
    ``nightly_average`` (that total over the nights); the price filters apply to the
    nightly average. Without dates the three are ``None``."""
    dated = "check_in" in params
    radius = "radius_km" in params
    now = now or timezone.now()
    wanted = list(columns)
    if dated:
        wanted += [c for c in QUOTE_COLUMNS if c not in wanted]
    if radius:
        wanted += [c for c in ("latitude", "longitude") if c not in wanted]
    results = SearchResults(params, wanted, using=using, now=now)
    kept: list[tuple[int, dict]] = []
    batch, seen = start // size, start  # rows before ``seen`` are read
    while len(kept) <= size:
        low = batch * size
        rows = results[low : low + size + 1]
        fresh = [(low + i, row) for i, row in enumerate(rows) if low + i >= seen]
        seen = low + len(rows)
        if radius:
            fresh = [(i, row) for i, row in fresh if within_radius(params, row)]
        if dated:
            fresh = _quoted(params, fresh, now, using)
        else:
            fresh = [(i, {**row, **_NO_PRICE}) for i, row in fresh]
        kept.extend(fresh)
        if len(rows) <= size:
            break
        batch += 1
    next_start = kept[size][0] if len(kept) > size else None
    extra = set(wanted) - set(columns)
    page = [{k: v for k, v in row.items() if k not in extra} for _, row in kept[:size]]
    return Page(rows=page, next_start=next_start)


_NO_PRICE = {"stay_type": None, "stay_total": None, "nightly_average": None}


def _quoted(params: dict, rows: list[tuple[int, dict]], now: datetime, using: str) -> list:
    """The rows the quote takes, each with its stay type, total and nightly average; the
    price filters on the nightly average. Two queries for all the rows."""
    if not rows:
        return []
    check_in, check_out = params["check_in"], params["check_out"]
    nights = (check_out - check_in).days
    ids = [row["id"] for _, row in rows]
    offered: dict[int, dict] = {pk: {} for pk in ids}
    for spec in StayType.objects.using(using).filter(property_id__in=ids):
        offered[spec.property_id][spec.kind] = spec
    rates: dict[int, list] = {pk: [] for pk in ids}
    overlapping = SeasonalRate.objects.using(using).filter(
        property_id__in=ids, start__lt=check_out, end__gt=check_in
    )
    for rate in overlapping.order_by("start"):
        rates[rate.property_id].append(pricing.Rate(rate.start, rate.end, rate.nightly_price))
    low, high = params.get("min_price"), params.get("max_price")
    kept = []
    for index, row in rows:
        prop = Property(id=row["id"], **{c: row[c] for c in QUOTE_COLUMNS})
        found = quote_for_search(
            prop,
            offered=offered[row["id"]],
            rates=tuple(rates[row["id"]]),
            check_in=check_in,
            check_out=check_out,
            guests=params.get("guests") or 1,
            stay_type=params.get("stay_type"),
            now=now,
        )
        if found is None:
            continue
        kind, quote = found
        average = quantize(quote.total / nights, quote.currency)
        if (low is not None and average < low) or (high is not None and average > high):
            continue
        priced = {"stay_type": kind, "stay_total": quote.total, "nightly_average": average}
        kept.append((index, {**row, **priced}))
    return kept


def within_radius(params: dict, row: dict) -> bool:
    """Whether the row's exact point is within ``radius_km`` of ``lat``/``lng`` along the
    surface of the earth (haversine; wraps the antimeridian, holds at the poles)."""
    if row["latitude"] is None or row["longitude"] is None:
        return False
    return (
        distance_km(params["lat"], params["lng"], float(row["latitude"]), float(row["longitude"]))
        <= params["radius_km"]
    )


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _within_radius(qs: QuerySet, terms: Terms) -> QuerySet:
    """Within the circle's grid cells (or its bounding box), then, where the circle
    neither crosses the antimeridian nor reaches a pole, a generous equirectangular
    distance check in portable SQL (:func:`within_radius` is the exact one)."""
    if "cells" in terms:
        qs = qs.alias(geo_cell=geo_cell()).filter(geo_cell__any_of=terms("cells"))
    else:
        qs = qs.filter(latitude__gte=terms("lat_min"), latitude__lte=terms("lat_max"))
        if "lng_min" in terms:
            qs = qs.filter(
                Q(longitude__gte=terms("lng_min"), longitude__lte=terms("lng_max"))
                | Q(longitude__gte=terms("lng2_min"), longitude__lte=terms("lng2_max"))
            )
    if "lat" not in terms:
        return qs
    dy = (F("latitude") - terms("lat")) * terms("km_per_lat")
    dx = (F("longitude") - terms("lng")) * terms("km_per_lng")
    return qs.alias(distance2=dx * dx + dy * dy).filter(distance2__lte=terms("radius2"))


_COLUMNS_AROUND = 180 * GEO_CELLS_PER_DEGREE  # a column's index wraps at 180 degrees


def cells_touching(lat: float, lng: float, radius_km: float) -> list[int] | None:
    """Every :func:`~properties.models.geo_cell` that may hold a point within
    ``radius_km`` of ``(lat, lng)`` (columns wrap across the antimeridian), or ``None``
    when more than ``MAX_GEO_CELLS`` would (its bounding box then serves).

    Generous: each row of cells is measured with its narrowest degree of longitude and
    the shortest degree of latitude, plus one percent; a cell on the edge may be listed
    in vain, never left out."""
    size = 1 / GEO_CELLS_PER_DEGREE
    dlat = radius_km / KM_PER_DEGREE_LAT

    def span(low: float, high: float) -> range:
        return range(math.floor(low / size - 1e-9), math.floor(high / size + 1e-9) + 1)

    rows = span(max(lat - dlat, -90), min(lat + dlat, 90 - 1e-9))
    limit = (radius_km * 1.01 + 0.01) ** 2
    cells: set[int] = set()
    for row in rows:
        low_lat, high_lat = row * size, (row + 1) * size
        far = min(max(abs(low_lat), abs(high_lat)), 90)
        km_per_lng = KM_PER_DEGREE_LNG_AT_EQUATOR * math.cos(math.radians(far))
        dy = (min(max(lat, low_lat), high_lat) - lat) * KM_PER_DEGREE_LAT
        if dy * dy > limit:
            continue
        if km_per_lng * 180 <= radius_km:
            return None  # the whole row of longitudes
        dlng = radius_km / km_per_lng
        columns = span(lng - dlng, lng + dlng)
        if len(columns) * len(rows) > MAX_GEO_CELLS * 4:
            return None
        for column in columns:
            dx = (min(max(lng, column * size), (column + 1) * size) - lng) * km_per_lng
            if dx * dx + dy * dy <= limit:
                wrapped = (column + _COLUMNS_AROUND) % (2 * _COLUMNS_AROUND) - _COLUMNS_AROUND
                cells.add(row * GEO_CELL_ROW + wrapped)
                if wrapped == -_COLUMNS_AROUND:  # longitude 180 is the cell of -180's east
                    cells.add(row * GEO_CELL_ROW + _COLUMNS_AROUND)
        if len(cells) > MAX_GEO_CELLS:
            return None
    return sorted(cells)


TEXT_SEARCH_CONFIG = "english"  # the GIN index of migration 0011 uses the same expression


def search_document():
    """Folded title (weight A), city (B) and description (C) as one ``tsvector``
    (PostgreSQL)."""
    from django.contrib.postgres.search import SearchVector

    return (
        SearchVector("title_folded", weight="A", config=TEXT_SEARCH_CONFIG)
        + SearchVector("city_folded", weight="B", config=TEXT_SEARCH_CONFIG)
        + SearchVector("description_folded", weight="C", config=TEXT_SEARCH_CONFIG)
    )


def _text_search(qs, text: str):
    """``text`` folded (:func:`~properties.models.fold_text`) against the folded columns.
    PostgreSQL: full-text match (``@@``, served by the GIN index) ranked by relevance.
    SQLite: a substring match, unranked."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        query = SearchQuery(text, search_type="websearch", config=TEXT_SEARCH_CONFIG)
        ranked = (
            qs.alias(document=search_document())
            .filter(document=query)
            .annotate(rank=SearchRank(F("document"), query))
        )
        return ranked, True
    return qs.filter(
        Q(title_folded__contains=text)
        | Q(description_folded__contains=text)
        | Q(city_folded__contains=text)
    ), False

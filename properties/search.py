"""Search over published listings (DESIGN.md section 4 filters).

Everything is a database filter over indexed columns; dates exclude properties
with a holding booking or a block in the range (two correlated ``NOT EXISTS`` over
indexed ranges) and those whose minimum/maximum nights or advance notice the
stay does not meet. Unknown filter values (a choice, an amenity code) are 400s.
Results carry their cover photo's file name (a subquery of the same query).

The list view runs searches through :class:`SearchResults`: the SQL of each shape of
search (which filters, ordering and page) is compiled once per process and bound to each
search's values (:mod:`properties.prepared`); :func:`search_properties` builds the same
query as an ordinary queryset.
"""

import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.models import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    F,
    Field,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Upper
from django.db.models.lookups import Exact
from django.utils import timezone
from rest_framework import serializers

from config.params import QueryParamsSerializer
from properties.models import (
    GEO_CELL_ROW,
    GEO_CELLS_PER_DEGREE,
    Amenity,
    GeoCellsField,
    Photo,
    Property,
    PropertyType,
    StayKind,
    geo_cell,
)
from properties.prepared import ShapeCache, Terms, compile_shape
from properties.selectors import free_for_dates

ORDERINGS = {
    "price": ("base_nightly_price", "pk"),
    "-price": ("-base_nightly_price", "-pk"),
    "-rating": (F("rating_avg").desc(nulls_last=True), "-pk"),
    "-created": ("-created_at", "-pk"),
}
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
            today = timezone.now().date()
            if attrs["check_out"] <= attrs["check_in"]:
                raise serializers.ValidationError(
                    {"check_out": "Check-out must be after check-in."}, code="invalid_dates"
                )
            if attrs["check_in"] < today - timedelta(days=1):
                raise serializers.ValidationError(
                    {"check_in": "Check-in cannot be in the past."}, code="past_dates"
                )
            if attrs["check_out"] > today + timedelta(days=settings.BOOKING_MAX_ADVANCE_DAYS):
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
    names are present is the query's shape (:func:`build_search`)."""
    terms: dict[str, Any] = {"status": Property.Status.PUBLISHED}
    if city := params.get("city"):
        terms["city"] = city.strip()
    if country := params.get("country"):
        terms["country"] = country.upper()
    if "radius_km" in params:
        terms.update(_radius_terms(params["lat"], params["lng"], params["radius_km"]))
    if "check_in" in params:
        check_in, check_out = params["check_in"], params["check_out"]
        now = now or timezone.now()
        terms.update(
            check_in=check_in,
            check_out=check_out,
            now=now,
            nights=(check_out - check_in).days,
            notice=max((check_in - now.date()).days, 0),
        )
    if guests := params.get("guests"):
        terms["guests"] = guests
    if stay_type := params.get("stay_type"):
        terms["stay_type"] = stay_type
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
        terms["q"] = q.strip()
    return terms


def _radius_terms(lat: float, lng: float, radius_km: float) -> dict[str, Any]:
    """The grid cells the circle touches (or, for a circle too large for them, its
    bounding box), and the constants of the distance check."""
    km_per_lng = KM_PER_DEGREE_LNG_AT_EQUATOR * max(math.cos(math.radians(lat)), 0.01)
    terms: dict[str, Any] = {}
    cells = cells_touching(lat, lng, radius_km, km_per_lng)
    if cells is not None:
        terms["cells"] = cells
    else:
        dlat, dlng = radius_km / KM_PER_DEGREE_LAT, radius_km / km_per_lng
        terms.update(
            lat_min=_decimal(lat - dlat),
            lat_max=_decimal(lat + dlat),
            lng_min=_decimal(lng - dlng),
            lng_max=_decimal(lng + dlng),
        )
    terms.update(
        lat=_decimal(lat),
        lng=_decimal(lng),
        km_per_lat=_decimal(KM_PER_DEGREE_LAT),
        km_per_lng=_decimal(km_per_lng),
        radius2=_decimal(radius_km * radius_km),
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
    "guests": IntegerField(),
    "stay_type": _CHAR,
    "min_price": _DECIMAL,
    "max_price": _DECIMAL,
    "property_type": _CHAR,
    "instant_book": BooleanField(),
    "q": _CHAR,
    # the radius: bounding box, centre and the distance check's constants, as decimals
    # like the coordinate columns they meet
    **dict.fromkeys(("lat_min", "lat_max", "lng_min", "lng_max"), _DECIMAL),
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
    if "city" in terms:
        qs = qs.filter(Exact(Upper("city"), Upper(terms("city"))))
    if "country" in terms:
        qs = qs.filter(country=terms("country"))
    if "lat" in terms:
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


def search_properties(params: dict, *, columns: list[str] | None = None) -> QuerySet:
    """Published listings matching ``params``, first-page ready, each with its cover's
    file name (``cover_image``). ``columns``: rows as dictionaries of only these columns
    and ``cover_image`` (what a result card shows, ``PropertyListSerializer.columns()``),
    keeping the long text columns and a few dozen unused ones out of every search, and
    building no model instance."""
    terms = Terms(search_terms(params), _term_field, named=False)
    return build_search(terms, ordering=params.get("ordering"), columns=columns)


_compiled_searches = ShapeCache(max_size=512)


class SearchResults:
    """The rows of a search, by slice (``results[0:21]``), each slice one query: the
    compiled query of its shape (:mod:`properties.prepared`) bound to this search's
    values, or where a shape did not compile, :func:`search_properties`."""

    def __init__(self, params: dict, columns: list[str], using: str = "default"):
        self.params = params
        self.columns = list(columns)
        self.using = using

    def __getitem__(self, page: slice) -> list[dict]:
        if not isinstance(page, slice) or page.step is not None:
            raise TypeError("SearchResults takes a slice without a step")
        low, high = page.start or 0, page.stop
        values = search_terms(self.params)
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


def _within_radius(qs: QuerySet, terms: Terms) -> QuerySet:
    """Within the circle's grid cells (or its bounding box), then an equirectangular
    distance check, in portable SQL."""
    if "cells" in terms:
        qs = qs.alias(geo_cell=geo_cell()).filter(geo_cell__any_of=terms("cells"))
    else:
        qs = qs.filter(
            latitude__gte=terms("lat_min"),
            latitude__lte=terms("lat_max"),
            longitude__gte=terms("lng_min"),
            longitude__lte=terms("lng_max"),
        )
    dy = (F("latitude") - terms("lat")) * terms("km_per_lat")
    dx = (F("longitude") - terms("lng")) * terms("km_per_lng")
    return qs.alias(distance2=dx * dx + dy * dy).filter(distance2__lte=terms("radius2"))


def cells_touching(lat: float, lng: float, radius_km: float, km_per_lng: float) -> list[int] | None:
    """Every :func:`~properties.models.geo_cell` holding a point within ``radius_km`` of
    ``(lat, lng)`` by the distance check of :func:`_within_radius`, or ``None`` when the
    circle's bounding box spans more than ``MAX_GEO_CELLS`` cells (its ranges then serve).

    Generous by a hair (the database computes in exact decimals, this in floats): a
    cell on the edge may be listed in vain, never left out."""
    size = 1 / GEO_CELLS_PER_DEGREE
    dlat, dlng = radius_km / KM_PER_DEGREE_LAT, radius_km / km_per_lng

    def span(low: float, high: float) -> range:
        return range(math.floor(low / size - 1e-9), math.floor(high / size + 1e-9) + 1)

    rows = span(max(lat - dlat, -90), min(lat + dlat, 90))
    columns = span(max(lng - dlng, -180), min(lng + dlng, 180))
    if len(rows) * len(columns) > MAX_GEO_CELLS:
        return None
    limit = (radius_km + 1e-6) ** 2
    cells = []
    for row in rows:
        # the cell's nearest point to the centre, in km along each axis
        dy = (min(max(lat, row * size), (row + 1) * size) - lat) * KM_PER_DEGREE_LAT
        for column in columns:
            dx = (min(max(lng, column * size), (column + 1) * size) - lng) * km_per_lng
            if dx * dx + dy * dy <= limit:
                cells.append(row * GEO_CELL_ROW + column)
    return cells


TEXT_SEARCH_CONFIG = "english"  # the GIN index of migration 0005 uses the same expression


def search_document():
    """Title (weight A), city (B) and description (C) as one ``tsvector`` (PostgreSQL)."""
    from django.contrib.postgres.search import SearchVector

    return (
        SearchVector("title", weight="A", config=TEXT_SEARCH_CONFIG)
        + SearchVector("city", weight="B", config=TEXT_SEARCH_CONFIG)
        + SearchVector("description", weight="C", config=TEXT_SEARCH_CONFIG)
    )


def _text_search(qs, text: str):
    """PostgreSQL: full-text match (``@@``, served by the GIN index) ranked by relevance.
    SQLite: a case-insensitive substring match, unranked."""
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
        Q(title__icontains=text) | Q(description__icontains=text) | Q(city__icontains=text)
    ), False

"""Search over published listings (DESIGN.md section 4 filters).

Everything is a database filter over indexed columns; dates exclude properties
with a holding booking or a block in the range (two correlated ``NOT EXISTS`` over
indexed ranges) and those whose minimum/maximum nights or advance notice the
stay does not meet. Unknown filter values (a choice, an amenity code) are 400s.
Results carry their cover photo's file name (a subquery of the same query).
"""

import math
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from rest_framework import serializers

from properties.models import (
    GEO_CELL_ROW,
    GEO_CELLS_PER_DEGREE,
    Amenity,
    Photo,
    Property,
    PropertyType,
    StayKind,
    geo_cell,
)
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


class SearchParams(serializers.Serializer):
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


def search_properties(params: dict, *, columns: list[str] | None = None) -> QuerySet:
    """Published listings matching ``params``, first-page ready, each with its cover's
    file name (``cover_image``). ``columns``: rows as dictionaries of only these columns
    and ``cover_image`` (what a result card shows, ``PropertyListSerializer.columns()``),
    keeping the long text columns and a few dozen unused ones out of every search, and
    building no model instance."""
    qs = Property.objects.filter(status=Property.Status.PUBLISHED)
    if city := params.get("city"):
        qs = qs.filter(city__iexact=city.strip())
    if country := params.get("country"):
        qs = qs.filter(country=country.upper())
    if "radius_km" in params:
        qs = _within_radius(qs, params["lat"], params["lng"], params["radius_km"])
    if "check_in" in params:
        qs = _bookable_for(qs, params["check_in"], params["check_out"])
    if guests := params.get("guests"):
        qs = qs.filter(max_guests__gte=guests)
    if stay_type := params.get("stay_type"):
        qs = qs.filter(stay_types__kind=stay_type)
    if params.get("min_price") is not None:
        qs = qs.filter(base_nightly_price__gte=params["min_price"])
    if params.get("max_price") is not None:
        qs = qs.filter(base_nightly_price__lte=params["max_price"])
    for code in params.get("amenities", []):
        qs = qs.filter(amenities__code=code)
    if property_type := params.get("property_type"):
        qs = qs.filter(property_type=property_type)
    if params.get("instant_book") is not None:
        qs = qs.filter(instant_book=params["instant_book"])
    ordering = ORDERINGS.get(params.get("ordering") or "-created")
    if q := params.get("q"):
        qs, ranked = _text_search(qs, q.strip())
        if ranked and not params.get("ordering"):
            ordering = ("-rank", "-pk")
    # The cover's file name in the same query (one cover at most: constraint
    # photo_one_cover), instead of a second query and a Photo instance per result.
    cover = Photo.objects.filter(property=OuterRef("pk"), is_cover=True).order_by()
    cover = cover.values("image")[:1]
    qs = qs.annotate(cover_image=Subquery(cover)).order_by(*ordering)
    return qs.values(*columns, "cover_image") if columns else qs


def _bookable_for(qs, check_in, check_out):
    """Free for the whole range (no holding booking, no block), and the stay fits the
    listing's minimum and maximum nights and its advance notice."""
    nights = (check_out - check_in).days
    notice = (check_in - timezone.now().date()).days
    return qs.filter(
        *free_for_dates(check_in, check_out),
        min_nights__lte=nights,
        max_nights__gte=nights,
        advance_notice_days__lte=max(notice, 0),
    )


def _within_radius(qs, lat: float, lng: float, radius_km: float):
    """The grid cells the circle touches (or, for a circle too large for them, its
    bounding box), then an equirectangular distance check, in portable SQL."""
    km_per_lng = KM_PER_DEGREE_LNG_AT_EQUATOR * max(math.cos(math.radians(lat)), 0.01)
    cells = cells_touching(lat, lng, radius_km, km_per_lng)
    if cells is not None:
        qs = qs.alias(geo_cell=geo_cell()).filter(geo_cell__any_of=cells)
    else:
        dlat, dlng = radius_km / KM_PER_DEGREE_LAT, radius_km / km_per_lng
        qs = qs.filter(
            latitude__gte=lat - dlat,
            latitude__lte=lat + dlat,
            longitude__gte=lng - dlng,
            longitude__lte=lng + dlng,
        )
    dy = (F("latitude") - Decimal(str(lat))) * Decimal(str(KM_PER_DEGREE_LAT))
    dx = (F("longitude") - Decimal(str(lng))) * Decimal(str(km_per_lng))
    return qs.alias(distance2=dx * dx + dy * dy).filter(
        distance2__lte=Decimal(str(radius_km * radius_km))
    )


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

"""What a search binds: its values by name, worked out from the validated parameters, and
each value's type. Which names are present is the query's shape (:mod:`properties.search.query`)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    F,
    Field,
    IntegerField,
)
from django.utils import timezone

from properties.models import Amenity, GeoCellsField, Property, fold_text
from properties.quotes import PAYING_GUEST_MIN_NIGHTS
from properties.search.geo import radius_terms

ORDERINGS = {
    "price": ("base_nightly_price", "pk"),
    "-price": ("-base_nightly_price", "-pk"),
    "-rating": (F("rating_avg").desc(nulls_last=True), "-pk"),
    "-created": ("-created_at", "-pk"),
}
#: With dates, price orderings sort on the stay's estimated total instead.
PRICED_ORDERINGS = {"price": ("price_key", "pk"), "-price": ("-price_key", "-pk")}
#: How far an SQL price estimate may be from the quote's total (rounding of the
#: discount and the service fee), in currency units per stay: the SQL filter lets this
#: much more through, the quote decides.
PRICE_MARGIN = Decimal(2)


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
        terms.update(radius_terms(params["lat"], params["lng"], params["radius_km"]))
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


def term_field(name: str) -> Field:
    """The type of a search term; an unknown name is a ``KeyError``, not a guess."""
    if name.startswith("amenity_"):
        return _CHAR
    return _TERM_FIELDS[name]


def unknown_amenities(codes: list[str]) -> list[str]:
    """The codes among ``codes`` that name no amenity, in their order."""
    known = set(Amenity.objects.filter(code__in=codes).values_list("code", flat=True))
    return [code for code in codes if code not in known]

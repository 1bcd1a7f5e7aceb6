"""The SQL step of a search as one queryset, built from its terms."""

from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from properties.models import Photo, Property
from properties.prepared import Terms
from properties.search.geo import filter_radius
from properties.search.price_key import Within, with_price_key
from properties.search.terms import ORDERINGS, PRICED_ORDERINGS, search_terms, term_field
from properties.search.text import text_search
from properties.selectors import free_for_dates


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
        qs = filter_radius(qs, terms)
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
        qs = with_price_key(qs, terms)  # a bound leaves out a NULL key (no such stay type)
        if "key_min" in terms and "key_max" in terms:
            qs = qs.filter(Within(F("price_key"), terms("key_min"), terms("key_max")))
        elif "key_min" in terms:
            qs = qs.filter(price_key__gte=terms("key_min"))
        elif "key_max" in terms:
            qs = qs.filter(price_key__lte=terms("key_max"))
        else:
            qs = qs.filter(price_key__isnull=False)
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
        qs, ranked = text_search(qs, terms("q"))
        if ranked and not ordering:
            order_by = ("-rank", "-pk")
    # The cover's file name in the same query (one cover at most: constraint
    # photo_one_cover), instead of a second query and a Photo instance per result.
    cover = Photo.objects.filter(property=OuterRef("pk"), is_cover=True).order_by()
    cover = cover.values("image")[:1]
    qs = qs.annotate(cover_image=Subquery(cover)).order_by(*order_by)
    return qs.values(*columns, "cover_image") if columns else qs


def search_properties(params: dict, *, columns: list[str] | None = None) -> QuerySet:
    """Published listings matching ``params`` in SQL (the broad step: see the module
    docstring), first-page ready, each with its cover's file name (``cover_image``).
    ``columns``: rows as dictionaries of only these columns and ``cover_image`` (what a
    result card shows, ``PropertyListSerializer.columns()``), keeping the long text
    columns and a few dozen unused ones out of every search, and building no model
    instance."""
    terms = Terms(search_terms(params), term_field, named=False)
    return build_search(terms, ordering=params.get("ordering"), columns=columns)

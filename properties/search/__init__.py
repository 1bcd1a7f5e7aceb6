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

One module a part: :mod:`~properties.search.terms` (the values a search binds, by name),
:mod:`~properties.search.query` (the SQL step as a queryset), its price estimate
:mod:`~properties.search.price_key`, radius :mod:`~properties.search.geo` and text match
:mod:`~properties.search.text`, and :mod:`~properties.search.pages` (the rows the quote
takes, page by page). The query parameters are checked by
:class:`properties.api.search_params.SearchParams`.
"""

from properties.search.geo import (
    EARTH_RADIUS_KM,
    KM_PER_DEGREE_LAT,
    KM_PER_DEGREE_LNG_AT_EQUATOR,
    MAX_GEO_CELLS,
    cells_touching,
    distance_km,
    within_radius,
)
from properties.search.pages import QUOTE_COLUMNS, Page, SearchResults, search_page
from properties.search.query import build_search, search_properties
from properties.search.terms import ORDERINGS, PRICE_MARGIN, PRICED_ORDERINGS, search_terms
from properties.search.text import TEXT_SEARCH_CONFIG, search_document

__all__ = [
    "EARTH_RADIUS_KM",
    "KM_PER_DEGREE_LAT",
    "KM_PER_DEGREE_LNG_AT_EQUATOR",
    "MAX_GEO_CELLS",
    "ORDERINGS",
    "PRICED_ORDERINGS",
    "PRICE_MARGIN",
    "QUOTE_COLUMNS",
    "TEXT_SEARCH_CONFIG",
    "Page",
    "SearchResults",
    "build_search",
    "cells_touching",
    "distance_km",
    "search_document",
    "search_page",
    "search_properties",
    "search_terms",
    "within_radius",
]

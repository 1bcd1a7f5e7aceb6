"""Listings: a host's property, its stay types and prices, amenities, photos and calendar.

One module per part (``listing``, ``prices``, ``photos``, ``calendar``, and ``geo`` for the
grid radius search filters on); everything is imported from here, as
``properties.models.X``, which migrations also name (``_new_ical_token``,
``photo_upload_to``).
"""

from properties.models.calendar import AvailabilityBlock, CalendarFeed, SeasonalRate
from properties.models.geo import (
    GEO_CELL_ROW,
    GEO_CELLS_PER_DEGREE,
    AnyOf,
    GeoCellField,
    GeoCellsField,
    geo_cell,
)
from properties.models.listing import (
    FOLDED_COLUMNS,
    Amenity,
    CancellationPolicy,
    Property,
    PropertyType,
    _new_ical_token,
    fold_text,
)
from properties.models.photos import PHOTO_EXTENSIONS, Photo, photo_upload_to
from properties.models.prices import PriceSummary, StayKind, StayType

__all__ = [
    "FOLDED_COLUMNS",
    "GEO_CELLS_PER_DEGREE",
    "GEO_CELL_ROW",
    "PHOTO_EXTENSIONS",
    "Amenity",
    "AnyOf",
    "AvailabilityBlock",
    "CalendarFeed",
    "CancellationPolicy",
    "GeoCellField",
    "GeoCellsField",
    "Photo",
    "PriceSummary",
    "Property",
    "PropertyType",
    "SeasonalRate",
    "StayKind",
    "StayType",
    "_new_ical_token",
    "fold_text",
    "geo_cell",
    "photo_upload_to",
]

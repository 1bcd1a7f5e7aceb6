"""The listing endpoints' serializers, by what they describe (``properties.api.views``
uses them as ``s.<Name>``):

- :mod:`.listing_write`: the create/PATCH body and its stay types;
- :mod:`.cards`: search result cards (``PropertyListSerializer``);
- :mod:`.listing_read`: the listing's page and the owner's view;
- :mod:`.photos`: photos shown, uploaded, reordered;
- :mod:`.calendar`: blocks, seasonal rates, availability and the quote;
- :mod:`.amounts`: price bounds and amounts in the listing's currency.
"""

from properties.api.serializers.calendar import (
    AvailabilityDaySerializer,
    AvailabilityParamsSerializer,
    BlockSerializer,
    BlockWriteSerializer,
    DateRangeSerializer,
    LineItemSerializer,
    QuoteParamsSerializer,
    QuoteSerializer,
    RateSerializer,
    RateWriteSerializer,
)
from properties.api.serializers.cards import (
    STAY_PRICE_FIELDS,
    ApproximateCoordinate,
    PropertyCardListSerializer,
    PropertyListSerializer,
)
from properties.api.serializers.listing_read import (
    AmenitySerializer,
    HostSummarySerializer,
    PropertyDetailSerializer,
    PropertyOwnerSerializer,
    StayTypeOutSerializer,
)
from properties.api.serializers.listing_write import PropertyWriteSerializer, StayTypeSerializer
from properties.api.serializers.photos import (
    PhotoOrderSerializer,
    PhotoSerializer,
    PhotoUploadSerializer,
)

__all__ = [
    "STAY_PRICE_FIELDS",
    "AmenitySerializer",
    "ApproximateCoordinate",
    "AvailabilityDaySerializer",
    "AvailabilityParamsSerializer",
    "BlockSerializer",
    "BlockWriteSerializer",
    "DateRangeSerializer",
    "HostSummarySerializer",
    "LineItemSerializer",
    "PhotoOrderSerializer",
    "PhotoSerializer",
    "PhotoUploadSerializer",
    "PropertyCardListSerializer",
    "PropertyDetailSerializer",
    "PropertyListSerializer",
    "PropertyOwnerSerializer",
    "PropertyWriteSerializer",
    "QuoteParamsSerializer",
    "QuoteSerializer",
    "RateSerializer",
    "RateWriteSerializer",
    "StayTypeOutSerializer",
    "StayTypeSerializer",
]

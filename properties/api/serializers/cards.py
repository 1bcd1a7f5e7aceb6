"""Search result cards: the listing as a list shows it (``PropertyListSerializer``)."""

from decimal import Decimal

from rest_framework import serializers

from core.money import format_amount
from properties.api.fields import image_urls, image_urls_of
from properties.api.serializers.amounts import listing_amount
from properties.location import approximate_point
from properties.models import Photo, Property


def _cover(prop) -> dict | None:
    if hasattr(prop, "cover_image"):  # a search result carries the cover's file name
        return _cover_from_name(prop.cover_image)
    covers = [p for p in prop.photos.all() if p.is_cover]
    return image_urls(covers[0].image) if covers else None


def _cover_from_name(name: str | None) -> dict | None:
    if not name:
        return None
    return image_urls_of(Photo._meta.get_field("image").storage, name)


def _decimal(value: Decimal | None, places: int) -> str | None:
    """As DRF's ``DecimalField`` writes it: a fixed-point string with ``places`` decimals."""
    return None if value is None else format(value.quantize(Decimal(1).scaleb(-places)), "f")


class PropertyCardListSerializer(serializers.ListSerializer):
    """Result cards written out by hand, from the rows of a search (``search_properties``
    with ``columns``: dictionaries, no model instances) or from properties. A search page
    serializes 20 of them, and DRF's generic path (building the child's fields from the
    model on every request, then a field object and a method call per value) and a model
    instance per row were about a fifth of a search request's CPU. The declared fields of
    ``PropertyListSerializer`` still define the schema and the columns a search loads; a
    test keeps this output equal to the generic one."""

    def to_representation(self, data):
        return [
            self.card(row) if isinstance(row, dict) else self.card(_as_row(row)) for row in data
        ]

    @staticmethod
    def card(row: dict) -> dict:
        card = {}
        for name in PropertyListSerializer.Meta.fields:
            if name == "cover" and "cover" not in row:  # a search row: the file name
                card[name] = _cover_from_name(row["cover_image"])
            elif name in _APPROXIMATE:  # never the exact point in a result
                point = approximate_point(row["id"], row["latitude"], row["longitude"])
                card[name] = _decimal(point[_APPROXIMATE[name]], 6)
            elif name == "nightly_price":  # as AmountField writes it
                value = row["base_nightly_price"]
                card[name] = None if value is None else format_amount(value, row["currency"])
            elif name in _CARD_DECIMALS:
                column, places = _CARD_DECIMALS[name]
                card[name] = _decimal(row[column], places)
            elif name in STAY_PRICE_FIELDS:  # set by a search with dates, else None
                value = row.get(name)
                card[name] = None if value is None else str(value)
            else:
                card[name] = row[name]
        return card


#: The approximate point's fields: their index in ``approximate_point``'s answer.
_APPROXIMATE = {"latitude": 0, "longitude": 1}

#: Card fields written as DRF's DecimalField writes them: (column, decimal places).
_CARD_DECIMALS = {
    "rating": ("rating_avg", 2),
}


def _as_row(prop: Property) -> dict:
    row = {column: getattr(prop, column) for column in PropertyListSerializer.columns()}
    row["cover"] = _cover(prop)
    return row


class ApproximateCoordinate(serializers.DecimalField):
    """``latitude`` or ``longitude`` of the listing's approximate point (properties.location).
    Its source stays the model column, so a search still loads the exact point."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=9, decimal_places=6, read_only=True, allow_null=True, **kwargs)

    def get_attribute(self, instance):
        point = approximate_point(instance.pk, instance.latitude, instance.longitude)
        return point[_APPROXIMATE[self.source]]


class PropertyListSerializer(serializers.ModelSerializer):
    cover = serializers.SerializerMethodField()
    latitude = ApproximateCoordinate()
    longitude = ApproximateCoordinate()
    nightly_price = listing_amount(source="base_nightly_price")
    rating = serializers.DecimalField(
        source="rating_avg", max_digits=3, decimal_places=2, read_only=True, allow_null=True
    )
    # With dates (search): the stay type priced, the quote's total for the dates (without
    # meals) in the currency's minor units, and that total over the nights. Else null.
    stay_type = serializers.SerializerMethodField()
    stay_total = serializers.SerializerMethodField()
    nightly_average = serializers.SerializerMethodField()

    class Meta:
        model = Property
        list_serializer_class = PropertyCardListSerializer
        fields = (
            "id",
            "title",
            "property_type",
            "city",
            "country",
            "latitude",
            "longitude",
            "max_guests",
            "instant_book",
            "accepts_offers",
            "currency",
            "nightly_price",
            "rating",
            "review_count",
            "cover",
            "stay_type",
            "stay_total",
            "nightly_average",
        )

    @classmethod
    def columns(cls) -> list[str]:
        """The model columns these fields read: all that a search needs to load (worked
        out once per class: building a serializer's fields is not free on a hot path)."""
        if "_columns" not in cls.__dict__:
            concrete = {field.attname for field in Property._meta.concrete_fields}
            sources = (field.source for field in cls().fields.values())
            cls._columns = [source for source in sources if source in concrete]
        return cls._columns

    def get_cover(self, prop) -> dict | None:
        return _cover(prop)

    def get_stay_type(self, prop) -> str | None:
        return getattr(prop, "stay_type", None)

    def get_stay_total(self, prop) -> str | None:
        value = getattr(prop, "stay_total", None)
        return None if value is None else str(value)

    def get_nightly_average(self, prop) -> str | None:
        value = getattr(prop, "nightly_average", None)
        return None if value is None else str(value)


#: Card fields a search with dates fills (``properties.search.search_page``).
STAY_PRICE_FIELDS = ("stay_type", "stay_total", "nightly_average")

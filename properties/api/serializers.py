from datetime import timedelta
from decimal import Decimal
from zoneinfo import available_timezones

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from core.api.fields import AmountField, DecimalField, MultiLineCharField, SingleLineCharField
from core.images import ImageUploadField, clean_image_upload
from core.money import format_amount
from properties.api.fields import CoordinateField, image_urls, image_urls_of
from properties.location import approximate_point
from properties.models import (
    Amenity,
    AvailabilityBlock,
    CancellationPolicy,
    Photo,
    Property,
    PropertyType,
    SeasonalRate,
    StayKind,
    StayType,
)

TIMEZONES = frozenset(available_timezones())

# Upper bounds keep every total of a stay (at most 730 nights, 50 guests, three meals a
# day) inside the 12 digits of a booking total; anything above is an input error.
MAX_NIGHTLY = Decimal("5000000")
MAX_MONTHLY = Decimal("100000000")
MAX_MEAL = Decimal("20000")
MAX_FEE = Decimal("1000000")
MONEY = {"max_digits": 10, "decimal_places": 2, "min_value": 0, "max_value": MAX_FEE}
MEAL = {"max_digits": 8, "decimal_places": 2, "min_value": 0, "max_value": MAX_MEAL}
PRICE = {"max_digits": 10, "decimal_places": 2, "min_value": 1, "max_value": MAX_NIGHTLY}
IMAGE_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class StayTypeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=StayKind.choices)
    nightly_price = DecimalField(**PRICE, required=False, allow_null=True)
    monthly_price = DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=1,
        max_value=MAX_MONTHLY,
        required=False,
        allow_null=True,
    )
    breakfast_price = DecimalField(**MEAL, required=False, allow_null=True)
    lunch_price = DecimalField(**MEAL, required=False, allow_null=True)
    dinner_price = DecimalField(**MEAL, required=False, allow_null=True)

    def validate(self, attrs):
        kind = attrs.get("kind")
        if kind is None:  # a PATCH makes nested fields optional too; a stay type needs its kind
            raise serializers.ValidationError(
                {"kind": serializers.ErrorDetail("This field is required.", code="required")}
            )
        if kind == StayKind.PAYING_GUEST:
            if not attrs.get("monthly_price"):
                raise serializers.ValidationError({"monthly_price": "Required for paying guests."})
            return {"kind": kind, "monthly_price": attrs["monthly_price"]}
        if not attrs.get("nightly_price"):
            raise serializers.ValidationError({"nightly_price": "Required for this stay type."})
        spec = {"kind": kind, "nightly_price": attrs["nightly_price"]}
        if kind == StayKind.WITH_MEALS:
            meals = {m: attrs.get(f"{m}_price") for m in ("breakfast", "lunch", "dinner")}
            if not any(price is not None for price in meals.values()):
                raise serializers.ValidationError("Give the price of at least one meal.")
            spec.update({f"{m}_price": p for m, p in meals.items()})
        return spec


class PropertyWriteSerializer(serializers.Serializer):
    """Create/PATCH body: any subset while drafting (DESIGN.md section 4)."""

    title = SingleLineCharField(max_length=120, required=False, allow_blank=True)
    description = MultiLineCharField(max_length=10_000, required=False, allow_blank=True)
    property_type = serializers.ChoiceField(choices=PropertyType.choices, required=False)
    address = SingleLineCharField(max_length=255, required=False, allow_blank=True)
    neighbourhood = SingleLineCharField(max_length=100, required=False, allow_blank=True)
    city = SingleLineCharField(max_length=100, required=False, allow_blank=True)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, allow_blank=True)
    latitude = CoordinateField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = CoordinateField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
        allow_null=True,
    )
    timezone = serializers.CharField(max_length=64, required=False)
    max_guests = serializers.IntegerField(min_value=1, max_value=50, required=False)
    bedrooms = serializers.IntegerField(min_value=0, max_value=50, required=False)
    beds = serializers.IntegerField(min_value=0, max_value=100, required=False)
    bathrooms = DecimalField(
        max_digits=3, decimal_places=1, min_value=0, max_value=50, required=False
    )
    house_rules = MultiLineCharField(max_length=5000, required=False, allow_blank=True)
    check_in_time = serializers.TimeField(required=False)
    check_out_time = serializers.TimeField(required=False)
    min_nights = serializers.IntegerField(min_value=1, max_value=730, required=False)
    max_nights = serializers.IntegerField(min_value=1, max_value=730, required=False)
    advance_notice_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    cancellation_policy = serializers.ChoiceField(
        choices=CancellationPolicy.choices, required=False
    )
    instant_book = serializers.BooleanField(required=False)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False)
    cleaning_fee = DecimalField(**MONEY, required=False)
    weekly_discount_percent = DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=99, required=False
    )
    monthly_discount_percent = DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=99, required=False
    )
    amenities = serializers.ListField(
        child=serializers.SlugField(max_length=40), max_length=100, required=False
    )
    accepts_offers = serializers.BooleanField(required=False)
    floor_nightly_price = DecimalField(**PRICE, required=False, allow_null=True)
    auto_accept_nightly_price = DecimalField(**PRICE, required=False, allow_null=True)
    stay_types = StayTypeSerializer(many=True, required=False)

    def validate_timezone(self, value: str) -> str:
        if value not in TIMEZONES:
            raise serializers.ValidationError("Use an IANA time zone name.", code="invalid")
        return value

    def validate_amenities(self, codes: list[str]) -> list[str]:
        known = set(Amenity.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = sorted(set(codes) - known)
        if unknown:
            raise serializers.ValidationError(f"Unknown amenities: {', '.join(unknown)}.")
        return codes

    def validate_stay_types(self, value: list[dict]) -> list[dict]:
        kinds = [spec["kind"] for spec in value]
        if len(kinds) != len(set(kinds)):
            raise serializers.ValidationError("Each stay type at most once.")
        return value


class AmenitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Amenity
        fields = ("code", "name", "standout")


class PhotoSerializer(serializers.ModelSerializer):
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = ("id", "urls", "caption", "position", "is_cover")

    def get_urls(self, photo) -> dict:
        return image_urls(photo.image)


class PhotoUploadSerializer(serializers.Serializer):
    image = ImageUploadField()
    caption = SingleLineCharField(max_length=200, required=False, allow_blank=True)

    def validate_image(self, value):
        value, image_format = clean_image_upload(value, max_bytes=settings.PHOTO_MAX_BYTES)
        # Stored under a name of our choosing: the extension follows the content.
        value.name = f"photo.{IMAGE_EXTENSIONS[image_format]}"
        return value


class PhotoOrderSerializer(serializers.Serializer):
    order = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), max_length=30
    )


def _amount(**kwargs) -> AmountField:
    """An amount read from the listing (or from a row of it): the listing's currency's
    minor unit ("1000" in JPY, "120.00" in EUR)."""
    return AmountField(read_only=True, allow_null=True, **kwargs)


class StayTypeOutSerializer(serializers.ModelSerializer):
    nightly_price = _amount(currency="property.currency")
    monthly_price = _amount(currency="property.currency")
    breakfast_price = _amount(currency="property.currency")
    lunch_price = _amount(currency="property.currency")
    dinner_price = _amount(currency="property.currency")

    class Meta:
        model = StayType
        fields = (
            "kind",
            "nightly_price",
            "monthly_price",
            "breakfast_price",
            "lunch_price",
            "dinner_price",
        )


class HostSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    is_superhost = serializers.BooleanField()
    rating = serializers.DecimalField(
        source="host_rating_avg", max_digits=3, decimal_places=2, allow_null=True
    )
    review_count = serializers.IntegerField(source="host_review_count")
    identity_verified = serializers.BooleanField(source="is_identity_verified")


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
    nightly_price = _amount(source="base_nightly_price")
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


class PropertyDetailSerializer(PropertyListSerializer):
    photos = PhotoSerializer(many=True, read_only=True)
    amenities = AmenitySerializer(many=True, read_only=True)
    stay_types = StayTypeOutSerializer(many=True, read_only=True)
    host = serializers.SerializerMethodField()
    rating_breakdown = serializers.SerializerMethodField()
    cleaning_fee = _amount()

    class Meta(PropertyListSerializer.Meta):
        list_serializer_class = serializers.ListSerializer
        fields = (
            *(f for f in PropertyListSerializer.Meta.fields if f not in STAY_PRICE_FIELDS),
            "status",
            "description",
            "neighbourhood",
            "timezone",
            "bedrooms",
            "beds",
            "bathrooms",
            "house_rules",
            "check_in_time",
            "check_out_time",
            "min_nights",
            "max_nights",
            "advance_notice_days",
            "cancellation_policy",
            "cleaning_fee",
            "weekly_discount_percent",
            "monthly_discount_percent",
            "stay_types",
            "amenities",
            "photos",
            "host",
            "rating_breakdown",
            "created_at",
            "published_at",
        )

    def get_host(self, prop) -> dict:
        return HostSummarySerializer(prop.host).data

    def get_rating_breakdown(self, prop) -> dict:
        return {
            "overall": str(prop.rating_avg) if prop.rating_avg is not None else None,
            "count": prop.review_count,
            **prop.rating_categories,
        }


class PropertyOwnerSerializer(PropertyDetailSerializer):
    """What the owner sees: also the address and the exact point, the private negotiation
    prices and the iCal token."""

    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, read_only=True, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, read_only=True, allow_null=True
    )
    floor_nightly_price = _amount()
    auto_accept_nightly_price = _amount()

    class Meta(PropertyDetailSerializer.Meta):
        fields = (
            *PropertyDetailSerializer.Meta.fields,
            "address",
            "floor_nightly_price",
            "auto_accept_nightly_price",
            "ical_token",
        )


class DateRangeSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError(
                {"end": "End must be after start."}, code="invalid_dates"
            )
        return attrs


class BlockSerializer(serializers.ModelSerializer):
    class Meta:
        model = AvailabilityBlock
        fields = ("id", "start", "end", "note", "note_public", "source", "created_at")
        read_only_fields = ("id", "source", "created_at")


class AvailabilityParamsSerializer(DateRangeSerializer):
    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs["end"] - attrs["start"] > timedelta(days=settings.AVAILABILITY_MAX_DAYS):
            raise serializers.ValidationError(
                {"end": f"At most {settings.AVAILABILITY_MAX_DAYS} days per call."},
                code="range_too_long",
            )
        horizon = timezone.now().date() + timedelta(days=settings.BOOKING_MAX_ADVANCE_DAYS)
        if attrs["start"] > horizon:
            raise serializers.ValidationError(
                {"start": "Dates can be at most two years ahead."}, code="too_far_ahead"
            )
        return attrs


class BlockWriteSerializer(DateRangeSerializer):
    note = SingleLineCharField(max_length=200, required=False, allow_blank=True)
    # Private unless true: the iCal export shows a private note as "Not available".
    note_public = serializers.BooleanField(required=False, default=False)


class RateSerializer(serializers.ModelSerializer):
    nightly_price = _amount(currency="property.currency")

    class Meta:
        model = SeasonalRate
        fields = ("id", "start", "end", "nightly_price")


class RateWriteSerializer(DateRangeSerializer):
    nightly_price = DecimalField(**PRICE)


class QuoteParamsSerializer(serializers.Serializer):
    check_in = serializers.DateField()
    check_out = serializers.DateField()
    guests = serializers.IntegerField(min_value=1, max_value=100, default=1)
    stay_type = serializers.ChoiceField(choices=StayKind.choices, default=StayKind.STANDARD)
    meals = serializers.CharField(required=False, allow_blank=True, max_length=40)

    def validate_meals(self, value: str) -> dict:
        chosen = [m.strip() for m in value.split(",") if m.strip()]
        unknown = set(chosen) - {"breakfast", "lunch", "dinner"}
        if unknown:
            raise serializers.ValidationError(f"Unknown meals: {', '.join(sorted(unknown))}.")
        return dict.fromkeys(chosen, True)

    def validate(self, attrs):
        if attrs["check_out"] <= attrs["check_in"]:
            raise serializers.ValidationError(
                {"check_out": "Check-out must be after check-in."}, code="invalid_dates"
            )
        return attrs


class LineItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class QuoteSerializer(serializers.Serializer):
    currency = serializers.CharField()
    nights = serializers.IntegerField()
    nights_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount = serializers.DecimalField(max_digits=12, decimal_places=2)
    meals = serializers.DecimalField(max_digits=12, decimal_places=2)
    stay_subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    cleaning_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    service_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_items = LineItemSerializer(many=True)


class AvailabilityDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    # unavailable: outside the window a stay may take (the quote's today, notice, horizon)
    status = serializers.ChoiceField(choices=["available", "blocked", "booked", "unavailable"])
    # in the listing's currency (the view gives it as the context's "currency")
    nightly_price = AmountField(allow_null=True)

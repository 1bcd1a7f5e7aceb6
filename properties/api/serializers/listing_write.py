"""The listing's create/PATCH body, with its stay types."""

from zoneinfo import available_timezones

from rest_framework import serializers

from core.api.fields import DecimalField, MultiLineCharField, SingleLineCharField
from properties.api.fields import CoordinateField
from properties.api.serializers.amounts import MAX_MONTHLY, MEAL, MONEY, PRICE
from properties.models import Amenity, CancellationPolicy, PropertyType, StayKind

TIMEZONES = frozenset(available_timezones())


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

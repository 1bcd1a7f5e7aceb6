"""The search's query parameters (``GET /api/v1/properties/``)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from core.api.fields import DecimalField
from core.api.params import QueryParamsSerializer
from properties.models import PropertyType, StayKind
from properties.search.terms import ORDERINGS, unknown_amenities

MAX_AMENITIES = 30


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
    min_price = DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)
    max_price = DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)
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
            # The earliest and latest "today" anywhere (UTC-12 to UTC+14): each listing's
            # own today decides the rest (search_page, the quote).
            today = timezone.now().date()
            if attrs["check_out"] <= attrs["check_in"]:
                raise serializers.ValidationError(
                    {"check_out": "Check-out must be after check-in."}, code="invalid_dates"
                )
            if attrs["check_in"] < today - timedelta(days=1):
                raise serializers.ValidationError(
                    {"check_in": "Check-in cannot be in the past."}, code="past_dates"
                )
            if attrs["check_out"] > today + timedelta(days=settings.BOOKING_MAX_ADVANCE_DAYS + 1):
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
    unknown = unknown_amenities(codes)
    if unknown:
        raise serializers.ValidationError(
            {"amenities": f"Unknown amenities: {', '.join(unknown)}."}, code="unknown_amenity"
        )
    return codes

"""The calendar (blocks, seasonal rates, availability) and the quote."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from core.api.fields import AmountField, DecimalField, SingleLineCharField
from properties.api.serializers.amounts import PRICE, listing_amount
from properties.models import AvailabilityBlock, SeasonalRate, StayKind


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
    nightly_price = listing_amount(currency="property.currency")

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

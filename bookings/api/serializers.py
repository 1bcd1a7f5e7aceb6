from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookings.models import Booking, BookingStatus
from bookings.selectors import effective_status, guest_reviews_for_host
from core.api.fields import AmountField, DecimalField, MultiLineCharField, SingleLineCharField
from core.money import format_amount
from properties.models import StayKind

MEAL_KEYS = ("breakfast", "lunch", "dinner")


class MealsField(serializers.DictField):
    child = serializers.BooleanField()

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        unknown = set(value) - set(MEAL_KEYS)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown meals: {', '.join(sorted(unknown))}.", code="unknown_meal"
            )
        return {key: True for key, chosen in value.items() if chosen}


class BookingCreateSerializer(serializers.Serializer):
    property = serializers.IntegerField(min_value=1, max_value=2**63 - 1)  # SQLite: no bigger
    check_in = serializers.DateField()
    check_out = serializers.DateField()
    guests = serializers.IntegerField(min_value=1, max_value=100)
    stay_type = serializers.ChoiceField(choices=StayKind.choices)
    meals = MealsField(required=False)
    payment_token = serializers.CharField(max_length=128, required=False, allow_blank=True)
    # The quote the guest saw: a different price by now is 409 price_changed (optional;
    # without it the booking is made at whatever the price is, as before).
    expected_total = DecimalField(
        max_digits=12, decimal_places=3, min_value=Decimal("0.001"), required=False
    )
    expected_currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False)

    def validate(self, attrs):
        if attrs["check_out"] <= attrs["check_in"]:
            raise serializers.ValidationError(
                {"check_out": "Check-out must be after check-in."}, code="invalid_dates"
            )
        return attrs


class PaySerializer(serializers.Serializer):
    payment_token = serializers.CharField(max_length=128)


class ReasonSerializer(serializers.Serializer):
    reason = SingleLineCharField(max_length=255, required=False, allow_blank=True)


class RefundSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    stay = serializers.DecimalField(max_digits=12, decimal_places=2)
    cleaning_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    service_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    rule = serializers.CharField()


class BookingLocationSerializer(serializers.Serializer):
    address = serializers.CharField()
    neighbourhood = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)


#: States in which the guest is told exactly where the stay is (DESIGN.md section 4).
LOCATION_SHOWN = {BookingStatus.CONFIRMED, BookingStatus.COMPLETED}


class BookingSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    property_title = serializers.CharField(source="property.title", read_only=True)
    guest_name = serializers.CharField(source="guest.full_name", read_only=True)
    location = serializers.SerializerMethodField()
    total = AmountField(read_only=True)  # in the booking's currency's minor unit

    class Meta:
        model = Booking
        fields = (
            "id",
            "status",
            "property",
            "property_title",
            "guest",
            "guest_name",
            "check_in",
            "check_out",
            "guests",
            "stay_type",
            "meals",
            "price",
            "total",
            "currency",
            "hold_expires_at",
            "cancellation_policy",
            "location",
            "created_at",
        )
        read_only_fields = fields

    def get_status(self, booking) -> str:
        return effective_status(booking)

    @extend_schema_field(BookingLocationSerializer(allow_null=True))
    def get_location(self, booking) -> dict | None:
        """The exact address and point, once the stay is confirmed (paid); before that the
        listing shows only its neighbourhood and an approximate point."""
        if effective_status(booking) not in LOCATION_SHOWN:
            return None
        return BookingLocationSerializer(booking.property).data


class CancelResponseSerializer(BookingSerializer):
    """The cancelled booking, plus the refund (null for a hold that was never charged)."""

    refund = RefundSerializer(allow_null=True, read_only=True)

    class Meta(BookingSerializer.Meta):
        fields = (*BookingSerializer.Meta.fields, "refund")
        read_only_fields = fields


STATUS_CHOICES = BookingStatus.values


def _rating(**kwargs):
    return serializers.IntegerField(min_value=1, max_value=5, **kwargs)


class ReviewCreateSerializer(serializers.Serializer):
    overall = _rating()
    cleanliness = _rating(required=False)
    accuracy = _rating(required=False)
    communication = _rating(required=False)
    location = _rating(required=False)
    check_in = _rating(required=False)
    value = _rating(required=False)
    text = MultiLineCharField(max_length=5000, required=False, allow_blank=True)


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    booking = serializers.IntegerField(source="booking_id")
    side = serializers.CharField()
    author_name = serializers.CharField(source="author.first_name")
    overall = serializers.IntegerField()
    cleanliness = serializers.IntegerField(allow_null=True)
    accuracy = serializers.IntegerField(allow_null=True)
    communication = serializers.IntegerField(allow_null=True)
    location = serializers.IntegerField(allow_null=True)
    check_in = serializers.IntegerField(allow_null=True)
    value = serializers.IntegerField(allow_null=True)
    text = serializers.CharField()
    host_reply = serializers.CharField()
    published = serializers.SerializerMethodField()
    published_at = serializers.DateTimeField(allow_null=True)

    def get_published(self, review) -> bool:
        return review.published_at is not None


class GuestReviewsSerializer(serializers.Serializer):
    """A guest's reviews by hosts, for a host the guest asks (docs/analytics.md)."""

    rating = serializers.DecimalField(
        source="guest.guest_rating_avg", max_digits=3, decimal_places=2, allow_null=True
    )
    count = serializers.IntegerField(source="guest.guest_review_count")
    reviews = ReviewSerializer(many=True)


class BookingDetailSerializer(BookingSerializer):
    """One booking; its host also reads the guest's reviews by hosts while the booking is
    a request, waiting for payment or confirmed (else null)."""

    guest_reviews = serializers.SerializerMethodField()

    class Meta(BookingSerializer.Meta):
        fields = (*BookingSerializer.Meta.fields, "guest_reviews")
        read_only_fields = fields

    @extend_schema_field(GuestReviewsSerializer(allow_null=True))
    def get_guest_reviews(self, booking) -> dict | None:
        request = self.context.get("request")
        if request is None:
            return None
        reviews = guest_reviews_for_host(booking=booking, viewer=request.user)
        if reviews is None:
            return None
        return GuestReviewsSerializer({"guest": booking.guest, "reviews": reviews}).data


class ReplySerializer(serializers.Serializer):
    text = MultiLineCharField(max_length=2000)


class AnalyticsParamsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError(
                {"end": "End must be after start."}, code="invalid_dates"
            )
        if (attrs["end"] - attrs["start"]).days > 731:
            raise serializers.ValidationError({"end": "At most two years."}, code="range_too_long")
        return attrs


class AnalyticsRowSerializer(serializers.Serializer):
    """One currency's figures (docs/analytics.md); amounts in that currency's minor unit."""

    property = serializers.IntegerField(required=False)
    title = serializers.CharField(required=False)
    currency = serializers.CharField()
    open_nights = serializers.IntegerField()
    booked_nights = serializers.IntegerField()
    occupancy = serializers.FloatField()
    revenue = serializers.CharField()
    stay_revenue = serializers.CharField()
    cancellation_revenue = serializers.CharField()
    average_daily_rate = serializers.CharField(allow_null=True)
    negotiated_discount = serializers.CharField()
    bookings = serializers.IntegerField()
    cancellations = serializers.IntegerField()
    negotiations = serializers.IntegerField()
    negotiations_booked = serializers.IntegerField()
    negotiation_conversion = serializers.FloatField(allow_null=True)
    offers_received = serializers.IntegerField()
    offers_accepted = serializers.IntegerField()

    MONEY = ("revenue", "stay_revenue", "cancellation_revenue", "average_daily_rate",
             "negotiated_discount")  # fmt: skip

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name in self.MONEY:
            if instance[name] is not None:
                data[name] = format_amount(instance[name], instance["currency"])
        return data


class AnalyticsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    overall = AnalyticsRowSerializer(many=True, help_text="One row per currency.")
    properties = AnalyticsRowSerializer(many=True)

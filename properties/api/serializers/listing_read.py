"""A listing as its page shows it, and as its owner sees it."""

from rest_framework import serializers

from properties.api.serializers.amounts import listing_amount
from properties.api.serializers.cards import STAY_PRICE_FIELDS, PropertyListSerializer
from properties.api.serializers.photos import PhotoSerializer
from properties.models import Amenity, StayType


class AmenitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Amenity
        fields = ("code", "name", "standout")


class StayTypeOutSerializer(serializers.ModelSerializer):
    nightly_price = listing_amount(currency="property.currency")
    monthly_price = listing_amount(currency="property.currency")
    breakfast_price = listing_amount(currency="property.currency")
    lunch_price = listing_amount(currency="property.currency")
    dinner_price = listing_amount(currency="property.currency")

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


class PropertyDetailSerializer(PropertyListSerializer):
    photos = PhotoSerializer(many=True, read_only=True)
    amenities = AmenitySerializer(many=True, read_only=True)
    stay_types = StayTypeOutSerializer(many=True, read_only=True)
    host = serializers.SerializerMethodField()
    rating_breakdown = serializers.SerializerMethodField()
    cleaning_fee = listing_amount()

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
    floor_nightly_price = listing_amount()
    auto_accept_nightly_price = listing_amount()

    class Meta(PropertyDetailSerializer.Meta):
        fields = (
            *PropertyDetailSerializer.Meta.fields,
            "address",
            "floor_nightly_price",
            "auto_accept_nightly_price",
            "ical_token",
        )

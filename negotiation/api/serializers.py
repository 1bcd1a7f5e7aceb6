from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookings.api.serializers import GuestReviewsSerializer, MealsField
from bookings.selectors import reviews_of_guest
from core.api.fields import AmountField, DecimalField, MultiLineCharField
from negotiation.models import Negotiation, NegotiationStatus
from negotiation.selectors import effective_status
from properties.models import StayKind

AMOUNT = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0.01")}


class NegotiationOpenSerializer(serializers.Serializer):
    property = serializers.IntegerField(min_value=1, max_value=2**63 - 1)  # SQLite: no bigger
    check_in = serializers.DateField()
    check_out = serializers.DateField()
    guests = serializers.IntegerField(min_value=1, max_value=100)
    stay_type = serializers.ChoiceField(choices=StayKind.choices)
    meals = MealsField(required=False)
    amount = DecimalField(**AMOUNT, required=False)
    message = MultiLineCharField(max_length=2000, required=False, allow_blank=True)

    def validate(self, attrs):
        if attrs["check_out"] <= attrs["check_in"]:
            raise serializers.ValidationError(
                {"check_out": "Check-out must be after check-in."}, code="invalid_dates"
            )
        if "amount" not in attrs and not attrs.get("message", "").strip():
            raise serializers.ValidationError(
                {"message": "Send an amount, or a message to ask the host first."},
                code="required",
            )
        return attrs


class OfferInSerializer(serializers.Serializer):
    amount = DecimalField(**AMOUNT)
    message = MultiLineCharField(max_length=2000, required=False, allow_blank=True)


class MessageInSerializer(serializers.Serializer):
    body = MultiLineCharField(max_length=2000)


class ReadInSerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=0, max_value=2**31 - 1)


class OfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    side = serializers.CharField()
    amount = AmountField(currency="negotiation.currency")
    message = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    # an offer under the host's floor, declined at once: never on the table
    declined = serializers.SerializerMethodField()

    def get_declined(self, offer) -> bool:
        return offer.declined_at is not None


class NegotiationSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    offers = OfferSerializer(many=True, read_only=True)
    list_total = AmountField(read_only=True)
    property_title = serializers.CharField(source="property.title", read_only=True)

    class Meta:
        model = Negotiation
        fields = (
            "id",
            "status",
            "turn",
            "property",
            "property_title",
            "guest",
            "host",
            "check_in",
            "check_out",
            "guests",
            "stay_type",
            "meals",
            "list_total",
            "list_price",
            "currency",
            "cancellation_policy",
            "guest_rounds",
            "host_rounds",
            "expires_at",
            "last_seq",
            "offers",
            "booking",
            "created_at",
        )
        read_only_fields = fields

    def get_status(self, negotiation) -> str:
        return effective_status(negotiation)


class NegotiationDetailSerializer(NegotiationSerializer):
    """One negotiation; its host also reads the guest's reviews by hosts while it is open
    (else null; docs/analytics.md "Reviews of a guest")."""

    guest_reviews = serializers.SerializerMethodField()

    class Meta(NegotiationSerializer.Meta):
        fields = (*NegotiationSerializer.Meta.fields, "guest_reviews")
        read_only_fields = fields

    @extend_schema_field(GuestReviewsSerializer(allow_null=True))
    def get_guest_reviews(self, negotiation) -> dict | None:
        request = self.context.get("request")
        if (
            request is None
            or request.user.pk != negotiation.host_id
            or effective_status(negotiation) != NegotiationStatus.OPEN
        ):
            return None
        reviews = reviews_of_guest(guest_id=negotiation.guest_id)
        return GuestReviewsSerializer({"guest": negotiation.guest, "reviews": reviews}).data


class EventSerializer(serializers.Serializer):
    type = serializers.CharField(default="event")
    seq = serializers.IntegerField()
    event = serializers.CharField()
    data = serializers.JSONField()
    at = serializers.DateTimeField()


class ActionResultSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    negotiation = NegotiationSerializer()


STATUS_CHOICES = NegotiationStatus.values

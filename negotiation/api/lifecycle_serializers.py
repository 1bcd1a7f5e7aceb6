"""What closing an account takes and answers (negotiation.lifecycle.user_close)."""

from rest_framework import serializers


class CloseAccountSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    confirm = serializers.BooleanField(required=False, default=False)


class _ClosingNegotiationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    property = serializers.IntegerField()
    title = serializers.CharField()
    role = serializers.ChoiceField(choices=["guest", "host"])
    becomes = serializers.ChoiceField(choices=["withdrawn", "unavailable"])


class _ClosingBookingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    property = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    check_in = serializers.DateField()
    check_out = serializers.DateField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()


class _ClosingHeldSerializer(_ClosingBookingSerializer):
    role = serializers.ChoiceField(choices=["guest", "host"])
    becomes = serializers.ChoiceField(choices=["cancelled", "declined"])


class _ClosingRefundSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    stay = serializers.DecimalField(max_digits=12, decimal_places=2)
    cleaning_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    service_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    rule = serializers.CharField()


class _ClosingStaySerializer(_ClosingBookingSerializer):
    cancellation_policy = serializers.CharField()
    refund = _ClosingRefundSerializer(allow_null=True)


class _ClosingListingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()


class CloseAccountResultSerializer(serializers.Serializer):
    """What closing does (``closed: false``, the preview) or did (``closed: true``)."""

    closed = serializers.BooleanField()
    negotiations = _ClosingNegotiationSerializer(many=True)
    held_bookings = _ClosingHeldSerializer(many=True)
    upcoming_stays = _ClosingStaySerializer(many=True)
    listings = _ClosingListingSerializer(many=True)

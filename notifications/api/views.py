from drf_spectacular.utils import extend_schema
from rest_framework import generics, pagination, serializers
from rest_framework.exceptions import NotFound
from rest_framework.fields import empty
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import PageNumberPagination
from core.api.views import validated
from notifications import selectors, services
from notifications.emails import TEMPLATES
from notifications.models import Notification, NotificationPreference
from notifications.recipients import ALWAYS_EMAILED


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ("id", "kind", "data", "created_at", "read", "read_at")

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),  # SQLite: no bigger
        max_length=500,
        required=False,
    )
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError("Give ids, or all: true.", code="required")
        return attrs


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class RequiredBooleanField(serializers.BooleanField):
    """A boolean that must be given, in a form body too (DRF reads a missing form boolean
    as an unticked checkbox: false)."""

    default_empty_html = empty


class PreferenceSerializer(serializers.ModelSerializer):
    # Only kinds that send an email have an email preference; any other is a 400.
    kind = serializers.ChoiceField(choices=sorted(TEMPLATES))
    email = RequiredBooleanField()  # the model default is not a preference

    class Meta:
        model = NotificationPreference
        fields = ("kind", "email")

    def validate(self, attrs):
        if attrs["kind"] in ALWAYS_EMAILED and not attrs["email"]:
            raise serializers.ValidationError(
                {"kind": "Payment and booking emails cannot be turned off."},
                code="always_emailed",
            )
        return attrs


class NotificationPagination(pagination.CursorPagination):
    """Keyset paging, newest first by id: new items and read state never shift a page."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 100
    get_page_size = PageNumberPagination.get_page_size

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["unread_count"] = {"type": "integer", "minimum": 0}
        schema["required"] = [*schema.get("required", []), "unread_count"]
        return schema


class NotificationListView(generics.ListAPIView):
    serializer_class = NotificationSerializer
    pagination_class = NotificationPagination

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        response.data["unread_count"] = selectors.notifications_unread_count(
            user_id=request.user.pk
        )
        return response

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notifications_for_user(user=self.request.user)

    @extend_schema(tags=["notifications"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MarkReadView(APIView):
    @extend_schema(
        request=MarkReadSerializer, responses={200: MarkedSerializer}, tags=["notifications"]
    )
    def post(self, request):
        data = validated(MarkReadSerializer, request.data)
        ids = None if data.get("all") else data["ids"]
        unknown = set(ids or ()) - set(
            Notification.objects.filter(user=request.user, pk__in=ids or ()).values_list(
                "pk", flat=True
            )
        )
        if unknown:  # someone else's or missing: 404, and nothing is marked
            raise NotFound(f"No such notifications: {sorted(unknown)}.")
        return Response({"marked": services.notifications_mark_read(user=request.user, ids=ids)})


class PreferenceListView(APIView):
    @extend_schema(responses={200: PreferenceSerializer(many=True)}, tags=["notifications"])
    def get(self, request):
        preferences = NotificationPreference.objects.filter(user=request.user).order_by("kind")
        return Response(PreferenceSerializer(preferences, many=True).data)

    @extend_schema(
        request=PreferenceSerializer, responses={200: PreferenceSerializer}, tags=["notifications"]
    )
    def put(self, request):
        data = validated(PreferenceSerializer, request.data)
        preference = services.preference_set(user=request.user, **data)
        return Response(PreferenceSerializer(preference).data)

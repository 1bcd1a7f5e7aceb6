"""iCal endpoints: the token-protected export and the host's imported feeds."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from properties import ical, selectors
from properties.models import CalendarFeed


class CalendarFeedSerializer(serializers.ModelSerializer):
    block_count = serializers.SerializerMethodField()

    class Meta:
        model = CalendarFeed
        fields = ("id", "url", "name", "last_synced_at", "last_error", "block_count", "created_at")

    def get_block_count(self, feed) -> int:
        return feed.blocks.count()


class CalendarFeedWriteSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=1000)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)


def _owned_feed(request, pk: int, feed_id: int) -> CalendarFeed:
    prop = selectors.property_get_owned(user=request.user, property_id=pk)
    return get_object_or_404(
        CalendarFeed.objects.select_related("property"), pk=feed_id, property=prop
    )


class CalendarExportView(APIView):
    """Anyone holding the property's current iCal token may read its taken dates."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        operation_id="properties_calendar_export",
        parameters=[OpenApiParameter("token", str, required=True)],
        responses={
            (200, "text/calendar"): OpenApiResponse(OpenApiTypes.STR, description="iCalendar"),
            404: OpenApiResponse(description="Unknown property or wrong token."),
        },
        tags=["calendar"],
    )
    def get(self, request, pk: int):
        token = request.query_params.get("token", "")
        if not token.isascii():  # compare_digest raises TypeError on non-ASCII strings
            raise Http404
        prop = ical.property_get_by_ical_token(property_id=pk, token=token)
        response = HttpResponse(ical.calendar_export(prop=prop), content_type="text/calendar")
        response["Content-Type"] = "text/calendar; charset=utf-8"
        response["Content-Disposition"] = f'inline; filename="property-{prop.pk}.ics"'
        response["Cache-Control"] = "private, max-age=300"
        return response


class FeedListCreateView(APIView):
    @extend_schema(responses={200: CalendarFeedSerializer(many=True)}, tags=["calendar"])
    def get(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        return Response(CalendarFeedSerializer(prop.feeds.order_by("pk"), many=True).data)

    @extend_schema(
        request=CalendarFeedWriteSerializer,
        responses={201: CalendarFeedSerializer},
        tags=["calendar"],
    )
    def post(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        serializer = CalendarFeedWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feed = ical.feed_create(prop=prop, **serializer.validated_data)
        return Response(CalendarFeedSerializer(feed).data, status=status.HTTP_201_CREATED)


class FeedDetailView(APIView):
    @extend_schema(responses={204: None}, tags=["calendar"])
    def delete(self, request, pk: int, feed_id: int):
        ical.feed_delete(feed=_owned_feed(request, pk, feed_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedSyncView(APIView):
    """Sync now (the same service the hourly task runs); the outcome is on the feed."""

    @extend_schema(request=None, responses={200: CalendarFeedSerializer}, tags=["calendar"])
    def post(self, request, pk: int, feed_id: int):
        feed = _owned_feed(request, pk, feed_id)
        result = ical.feed_sync(feed_id=feed.pk)
        if result.feed is None:  # deleted meanwhile
            raise Http404
        return Response(CalendarFeedSerializer(result.feed).data)

"""iCal endpoints: the token-protected export and the host's imported feeds."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from properties import calendar_feeds as feeds
from properties import selectors
from properties.ical import sync
from properties.ical.export import calendar_export_versioned, property_get_by_ical_token
from properties.models import CalendarFeed


class CalendarFeedSerializer(serializers.ModelSerializer):
    block_count = serializers.SerializerMethodField()

    class Meta:
        model = CalendarFeed
        fields = ("id", "url", "name", "last_synced_at", "last_error", "block_count", "created_at")

    def get_block_count(self, feed) -> int:
        return feed.blocks.count()


class FeedSyncOutcomeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "error", "pending"])
    error = serializers.CharField(allow_blank=True)


class CalendarFeedRegisteredSerializer(CalendarFeedSerializer):
    """A feed just registered, with the outcome of its first sync."""

    sync = serializers.SerializerMethodField()

    class Meta(CalendarFeedSerializer.Meta):
        fields = (*CalendarFeedSerializer.Meta.fields, "sync")

    @extend_schema_field(FeedSyncOutcomeSerializer)
    def get_sync(self, feed) -> dict:
        return self.context["sync"]


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
            (200, "text/calendar"): OpenApiResponse(
                OpenApiTypes.STR, description="iCalendar, with ETag and Last-Modified"
            ),
            304: OpenApiResponse(description="Unchanged (If-None-Match / If-Modified-Since)."),
            404: OpenApiResponse(description="Unknown property or wrong token."),
        },
        tags=["calendar"],
    )
    def get(self, request, pk: int):
        token = request.query_params.get("token", "")
        if not token.isascii():  # compare_digest raises TypeError on non-ASCII strings
            raise Http404
        prop = property_get_by_ical_token(property_id=pk, token=token)
        export = calendar_export_versioned(prop=prop)
        last_modified = int(export.last_modified.timestamp())
        unchanged = get_conditional_response(request, etag=export.etag, last_modified=last_modified)
        response = unchanged or HttpResponse(export.body, content_type="text/calendar")
        if unchanged is None:
            response["Content-Type"] = "text/calendar; charset=utf-8"
            response["Content-Disposition"] = f'inline; filename="property-{prop.pk}.ics"'
        response["ETag"] = quote_etag(export.etag)
        response["Last-Modified"] = http_date(last_modified)
        response["Cache-Control"] = "private, max-age=300"
        return response


class FeedListCreateView(APIView):
    @extend_schema(responses={200: CalendarFeedSerializer(many=True)}, tags=["calendar"])
    def get(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        return Response(CalendarFeedSerializer(prop.feeds.order_by("pk"), many=True).data)

    @extend_schema(
        request=CalendarFeedWriteSerializer,
        responses={
            201: OpenApiResponse(
                CalendarFeedRegisteredSerializer,
                description="Registered and synced once: `sync.status` is `ok` or `error`.",
            ),
            202: OpenApiResponse(
                CalendarFeedRegisteredSerializer,
                description="Registered; the feed did not answer in time: `sync.status` "
                "`pending`, the sync is retried in the background.",
            ),
        },
        tags=["calendar"],
    )
    def post(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        serializer = CalendarFeedWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        registered = feeds.feed_register(prop=prop, **serializer.validated_data)
        body = CalendarFeedRegisteredSerializer(
            registered.feed,
            context={"sync": {"status": registered.sync, "error": registered.error}},
        ).data
        pending = registered.sync == "pending"
        return Response(body, status=status.HTTP_202_ACCEPTED if pending else 201)


class FeedDetailView(APIView):
    @extend_schema(responses={204: None}, tags=["calendar"])
    def delete(self, request, pk: int, feed_id: int):
        feeds.feed_delete(feed=_owned_feed(request, pk, feed_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedSyncView(APIView):
    """Sync now (the same service the hourly task runs); the outcome is on the feed."""

    @extend_schema(request=None, responses={200: CalendarFeedSerializer}, tags=["calendar"])
    def post(self, request, pk: int, feed_id: int):
        feed = _owned_feed(request, pk, feed_id)
        result = sync.feed_sync(feed_id=feed.pk, timeout=sync.first_sync_timeout())
        if result.feed is None:  # deleted meanwhile
            raise Http404
        return Response(CalendarFeedSerializer(result.feed).data)

"""Endpoints of negotiation.reporting: host analytics (at ``host/analytics/``, as always;
its serializers are bookings.api's, where the figures are defined)."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsHost
from bookings.api import serializers as s
from core.api.views import validated
from negotiation.reporting import host_analytics


class HostAnalyticsView(APIView):
    permission_classes = [IsAuthenticated, IsHost]

    @extend_schema(
        parameters=[s.AnalyticsParamsSerializer],
        responses={200: s.AnalyticsSerializer},
        tags=["host"],
    )
    def get(self, request):
        params = validated(s.AnalyticsParamsSerializer, request.query_params)
        data = host_analytics(host=request.user, **params)
        return Response(s.AnalyticsSerializer(data).data)

"""Negotiation REST endpoints: the same services as the WebSocket consumer."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsEmailVerified
from core.api.views import PartyActionView, validated
from negotiation import selectors, services
from negotiation.api import serializers as s
from negotiation.models import Negotiation


def _result(request, outcome: services.Outcome, code=status.HTTP_200_OK) -> Response:
    negotiation = selectors.negotiation_get_for_party(
        user=request.user, negotiation_id=outcome.negotiation.pk
    )
    body = {**s.NegotiationSerializer(negotiation).data, "seq": outcome.seq}
    # An offer declined at once (under the host's floor) is still an applied action: 2xx,
    # with what the guest should know in words (``{"code": "offer_declined", "detail"}``).
    body["notice"] = outcome.notice
    return Response(body, status=code)


class _ListParams(serializers.Serializer):
    role = serializers.ChoiceField(choices=["guest", "host"], required=False)
    status = serializers.ChoiceField(choices=s.STATUS_CHOICES, required=False)


class NegotiationListCreateView(generics.ListAPIView):
    serializer_class = s.NegotiationSerializer
    throttle_scope = "negotiation"  # writes per user (core.api.throttles)

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), IsEmailVerified()]
        return [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Negotiation.objects.none()
        params = validated(_ListParams, self.request.query_params)
        return selectors.negotiations_for_user(user=self.request.user, **params)

    @extend_schema(parameters=[_ListParams], tags=["negotiations"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.NegotiationOpenSerializer,
        responses={201: s.NegotiationSerializer},
        tags=["negotiations"],
    )
    def post(self, request):
        data = validated(s.NegotiationOpenSerializer, request.data)
        outcome = services.negotiation_open(
            guest=request.user,
            property_id=data["property"],
            check_in=data["check_in"],
            check_out=data["check_out"],
            guests=data["guests"],
            stay_type=data["stay_type"],
            meals=data.get("meals") or {},
            amount=data.get("amount"),
            message=data.get("message", ""),
        )
        return _result(request, outcome, status.HTTP_201_CREATED)


class NegotiationDetailView(APIView):
    @extend_schema(responses={200: s.NegotiationDetailSerializer}, tags=["negotiations"])
    def get(self, request, pk: int):
        negotiation = selectors.negotiation_get_for_party(user=request.user, negotiation_id=pk)
        serializer = s.NegotiationDetailSerializer(negotiation, context={"request": request})
        return Response(serializer.data)


class NegotiationEventsView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "after",
                {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
                description="Return events with seq > after",
            )
        ],
        responses={200: s.EventSerializer(many=True)},
        tags=["negotiations"],
    )
    def get(self, request, pk: int):
        selectors.negotiation_get_for_party(user=request.user, negotiation_id=pk)
        after = validated(_AfterParams, request.query_params)["after"]
        events = selectors.events_after(negotiation_id=pk, after=after)
        return Response([event.as_frame() for event in events])


class _AfterParams(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description=(
        "1 to 64 characters. Repeating an applied action with the same key returns its "
        "first outcome and changes nothing (as a socket frame's client_id)."
    ),
)


def _idempotency_key(request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 64:
        raise serializers.ValidationError(
            {"Idempotency-Key": "At most 64 characters."}, code="invalid"
        )
    return key


class _ActionView(PartyActionView):
    permission_classes = [IsAuthenticated, IsEmailVerified]
    throttle_scope = "negotiation"  # offers, answers, messages, reads per user


class OfferView(_ActionView):
    @extend_schema(
        request=s.OfferInSerializer,
        responses={200: s.NegotiationSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["negotiations"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk):
        data = validated(s.OfferInSerializer, request.data)
        outcome = services.negotiation_offer(
            negotiation_id=pk, user=request.user, amount=data["amount"],
            message=data.get("message", ""), client_id=_idempotency_key(request),
        )  # fmt: skip
        return _result(request, outcome)


class AcceptView(_ActionView):
    @extend_schema(
        request=None,
        responses={200: s.NegotiationSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["negotiations"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk):
        outcome = services.negotiation_accept(
            negotiation_id=pk, user=request.user, client_id=_idempotency_key(request)
        )
        return _result(request, outcome)


class DeclineView(_ActionView):
    @extend_schema(
        request=None,
        responses={200: s.NegotiationSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["negotiations"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk):
        outcome = services.negotiation_decline(
            negotiation_id=pk, user=request.user, client_id=_idempotency_key(request)
        )
        return _result(request, outcome)


class WithdrawView(_ActionView):
    @extend_schema(
        request=None,
        responses={200: s.NegotiationSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["negotiations"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk):
        outcome = services.negotiation_withdraw(
            negotiation_id=pk, user=request.user, client_id=_idempotency_key(request)
        )
        return _result(request, outcome)


class MessageView(_ActionView):
    @extend_schema(
        request=s.MessageInSerializer,
        responses={201: s.NegotiationSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["negotiations"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk):
        data = validated(s.MessageInSerializer, request.data)
        outcome = services.negotiation_message(
            negotiation_id=pk, user=request.user, body=data["body"],
            client_id=_idempotency_key(request),
        )  # fmt: skip
        return _result(request, outcome, status.HTTP_201_CREATED)


class ReadView(_ActionView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.ReadInSerializer, responses={200: s.ReadInSerializer}, tags=["negotiations"]
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk):
        data = validated(s.ReadInSerializer, request.data)
        seq = services.negotiation_read(negotiation_id=pk, user=request.user, seq=data["seq"])
        return Response({"seq": seq})

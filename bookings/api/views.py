"""Booking endpoints: thin wrappers over bookings.services and bookings.selectors."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsEmailVerified
from bookings import reviews, selectors, services
from bookings.api import serializers as s
from bookings.models import Booking, Review
from core.api.openapi import ErrorResponseSerializer, ServerErrorResponseSerializer
from core.api.views import PartyActionView, validated
from properties.selectors import property_get_visible

# The payment gateway: a declined card (402 payment_declined) or a provider failure
# (502 payment_gateway_error) when a request authorizes a card. Captures, voids and refunds
# run after the change commits and are retried by the reconciliation sweep: no 502 there.
DECLINED = {402: ErrorResponseSerializer}
GATEWAY_ERROR = {502: ServerErrorResponseSerializer}

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Same key and body: the same booking again. Same key, other body: 409.",
)


class BookingListCreateView(generics.ListAPIView):
    serializer_class = s.BookingSerializer
    throttle_scope = "bookings"  # creations per user (core.api.throttles)

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), IsEmailVerified()]
        return [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Booking.objects.none()
        params = validated(_ListParams, self.request.query_params)
        return selectors.bookings_for_user(user=self.request.user, **params)

    @extend_schema(
        parameters=[
            OpenApiParameter("role", str, enum=["guest", "host"]),
            OpenApiParameter("when", str, enum=["upcoming", "past"]),
            OpenApiParameter("status", str, enum=s.STATUS_CHOICES),
        ],
        tags=["bookings"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.BookingCreateSerializer,
        responses={
            201: s.BookingSerializer,
            200: s.BookingSerializer,
            409: ErrorResponseSerializer,
            **DECLINED,
            **GATEWAY_ERROR,
        },
        parameters=[IDEMPOTENCY_HEADER],
        tags=["bookings"],
    )
    def post(self, request):
        data = validated(s.BookingCreateSerializer, request.data)
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 255:
            raise serializers.ValidationError(
                {"Idempotency-Key": "At most 255 characters."}, code="invalid"
            )
        booking, created = services.booking_create(
            guest=request.user,
            property_id=data["property"],
            check_in=data["check_in"],
            check_out=data["check_out"],
            guests=data["guests"],
            stay_type=data["stay_type"],
            meals=data.get("meals") or {},
            payment_token=data.get("payment_token", ""),
            idempotency_key=key,
            expected_total=data.get("expected_total"),
            expected_currency=data.get("expected_currency", ""),
        )
        return Response(
            s.BookingSerializer(booking).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class _ListParams(serializers.Serializer):
    role = serializers.ChoiceField(choices=["guest", "host"], required=False)
    when = serializers.ChoiceField(choices=["upcoming", "past"], required=False)
    status = serializers.ChoiceField(choices=s.STATUS_CHOICES, required=False)


class BookingDetailView(APIView):
    @extend_schema(responses={200: s.BookingDetailSerializer}, tags=["bookings"])
    def get(self, request, pk: int):
        booking = selectors.booking_get_for_party(user=request.user, booking_id=pk)
        return Response(s.BookingDetailSerializer(booking, context={"request": request}).data)


class MyReviewsView(APIView):
    """The published reviews hosts wrote of me (as a guest), newest first."""

    @extend_schema(responses={200: s.ReviewSerializer(many=True)}, tags=["reviews"])
    def get(self, request):
        reviews = selectors.reviews_of_guest(guest_id=request.user.pk, limit=None)
        return Response(s.ReviewSerializer(reviews, many=True).data)


class BookingApproveView(PartyActionView):
    @extend_schema(request=None, responses={200: s.BookingSerializer}, tags=["bookings"])
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk):
        booking = services.booking_approve(booking_id=pk, host=request.user)
        return Response(s.BookingSerializer(booking).data)


class BookingDeclineView(PartyActionView):
    @extend_schema(
        request=s.ReasonSerializer,
        responses={200: s.BookingSerializer},
        tags=["bookings"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk):
        data = validated(s.ReasonSerializer, request.data)
        booking = services.booking_decline(
            booking_id=pk, host=request.user, reason=data.get("reason", "")
        )
        return Response(s.BookingSerializer(booking).data)


class BookingPayView(PartyActionView):
    @extend_schema(
        request=s.PaySerializer,
        responses={200: s.BookingSerializer, **DECLINED, **GATEWAY_ERROR},
        tags=["bookings"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk):
        data = validated(s.PaySerializer, request.data)
        booking = services.booking_pay(
            booking_id=pk, guest=request.user, payment_token=data["payment_token"]
        )
        return Response(s.BookingSerializer(booking).data)


class BookingCancelView(PartyActionView):
    @extend_schema(
        request=s.ReasonSerializer,
        responses={200: s.CancelResponseSerializer},
        tags=["bookings"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk):
        data = validated(s.ReasonSerializer, request.data)
        booking, refund = services.booking_cancel(
            booking_id=pk, user=request.user, reason=data.get("reason", "")
        )
        body = {
            **s.BookingSerializer(booking).data,
            "refund": refund.as_dict() if refund else None,
        }
        return Response(body)


class BookingReviewView(PartyActionView):
    """The guest reviews the stay, the host reviews the guest; each once, within 14 days."""

    @extend_schema(
        request=s.ReviewCreateSerializer, responses={201: s.ReviewSerializer}, tags=["reviews"]
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk):
        data = validated(s.ReviewCreateSerializer, request.data)
        review = reviews.review_submit(booking_id=pk, author=request.user, **data)
        return Response(s.ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class ReviewReplyView(APIView):
    @extend_schema(request=s.ReplySerializer, responses={200: s.ReviewSerializer}, tags=["reviews"])
    def post(self, request, pk: int):
        data = validated(s.ReplySerializer, request.data)
        try:
            review = reviews.review_reply(review_id=pk, host=request.user, text=data["text"])
        except Review.DoesNotExist:
            raise Http404 from None
        return Response(s.ReviewSerializer(review).data)


class PropertyReviewsView(generics.ListAPIView):
    """Published guest reviews of a listing, newest first (anyone may read them)."""

    permission_classes = [AllowAny]
    serializer_class = s.ReviewSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Review.objects.none()
        prop = property_get_visible(user=self.request.user, property_id=self.kwargs["pk"])
        return (
            Review.objects.filter(property=prop, side="guest", published_at__isnull=False)
            .select_related("author")
            .order_by("-published_at", "-pk")
        )

    @extend_schema(tags=["reviews"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

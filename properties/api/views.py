"""Listing endpoints. Thin: validate, call one service or selector, serialize."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsHost
from core.api.openapi import ErrorResponseSerializer
from core.api.parsers import MultiPartParser
from properties import calendar, selectors, services
from properties.api import serializers as s
from properties.api.search_params import SearchParams
from properties.models import Amenity, AvailabilityBlock, Photo, Property, SeasonalRate
from properties.pagination import LookaheadPagination
from properties.search import search_page


def _valid(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _owner_view(request, prop):
    return s.PropertyOwnerSerializer(prop).data


class PropertyListCreateView(generics.GenericAPIView):
    pagination_class = LookaheadPagination
    serializer_class = s.PropertyListSerializer

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), IsHost()]
        return [AllowAny()]

    @extend_schema(
        operation_id="properties_search",
        parameters=[SearchParams],
        responses={200: s.PropertyListSerializer(many=True)},  # paginated by LookaheadPagination
        tags=["properties"],
    )
    def get(self, request):
        params = _valid(SearchParams, request.query_params)
        columns = s.PropertyListSerializer.columns()

        def search(*, start, size, published_before):
            terms = {**params, "published_before": published_before}
            return search_page(terms, columns=columns, start=start, size=size)

        page = self.paginator.paginate_search(search, request)
        return self.get_paginated_response(s.PropertyListSerializer(page, many=True).data)

    @extend_schema(
        request=s.PropertyWriteSerializer,
        responses={201: s.PropertyOwnerSerializer},
        tags=["properties"],
    )
    def post(self, request):
        data = _valid(s.PropertyWriteSerializer, request.data)
        prop = services.property_create(host=request.user, **data)
        prop = selectors.property_get_owned(user=request.user, property_id=prop.pk)
        return Response(_owner_view(request, prop), status=status.HTTP_201_CREATED)


class MyPropertiesView(generics.ListAPIView):
    serializer_class = s.PropertyOwnerSerializer
    permission_classes = [IsAuthenticated, IsHost]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Property.objects.none()
        return selectors.properties_of_host(user=self.request.user)

    @extend_schema(tags=["properties"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PropertyDetailView(APIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses={200: s.PropertyDetailSerializer}, tags=["properties"])
    def get(self, request, pk: int):
        prop = selectors.property_get_visible(user=request.user, property_id=pk)
        if request.user.is_authenticated and prop.host_id == request.user.pk:
            return Response(_owner_view(request, prop))
        return Response(s.PropertyDetailSerializer(prop).data)

    @extend_schema(
        request=s.PropertyWriteSerializer,
        responses={200: s.PropertyOwnerSerializer},
        tags=["properties"],
    )
    def patch(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        data = _valid(s.PropertyWriteSerializer, request.data, partial=True)
        services.property_update(prop=prop, **data)
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        return Response(_owner_view(request, prop))

    # DELETE (archiving, which ends the listing's deals) is negotiation.api.lifecycle_views',
    # a subclass of this view served at this path.


class PublishView(APIView):
    @extend_schema(request=None, responses={200: s.PropertyOwnerSerializer}, tags=["properties"])
    def post(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        services.property_publish(prop=prop)
        return Response(
            _owner_view(request, selectors.property_get_owned(user=request.user, property_id=pk))
        )


class UnlistView(APIView):
    @extend_schema(request=None, responses={200: s.PropertyOwnerSerializer}, tags=["properties"])
    def post(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        services.property_unlist(prop=prop)
        return Response(
            _owner_view(request, selectors.property_get_owned(user=request.user, property_id=pk))
        )


class RotateIcalTokenView(APIView):
    @extend_schema(request=None, responses={200: s.PropertyOwnerSerializer}, tags=["properties"])
    def post(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        services.property_rotate_ical_token(prop=prop)
        return Response(
            _owner_view(request, selectors.property_get_owned(user=request.user, property_id=pk))
        )


class PhotoListCreateView(APIView):
    parser_classes = [MultiPartParser]  # the photo file, field ``image``

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses={200: s.PhotoSerializer(many=True)}, tags=["properties"])
    def get(self, request, pk: int):
        prop = selectors.property_get_visible(user=request.user, property_id=pk)
        return Response(s.PhotoSerializer(prop.photos.all(), many=True).data)

    @extend_schema(
        request={"multipart/form-data": s.PhotoUploadSerializer},
        responses={201: s.PhotoSerializer},
        tags=["properties"],
    )
    def post(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        data = _valid(s.PhotoUploadSerializer, request.data)
        photo = services.photo_add(prop=prop, image=data["image"], caption=data.get("caption", ""))
        return Response(s.PhotoSerializer(photo).data, status=status.HTTP_201_CREATED)


def _owned_photo(request, pk: int, photo_id: int) -> Photo:
    prop = selectors.property_get_owned(user=request.user, property_id=pk)
    return get_object_or_404(Photo.objects.select_related("property"), pk=photo_id, property=prop)


class PhotoDetailView(APIView):
    @extend_schema(responses={204: None}, tags=["properties"])
    def delete(self, request, pk: int, photo_id: int):
        services.photo_delete(photo=_owned_photo(request, pk, photo_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PhotoCoverView(APIView):
    @extend_schema(request=None, responses={200: s.PhotoSerializer}, tags=["properties"])
    def post(self, request, pk: int, photo_id: int):
        photo = services.photo_set_cover(photo=_owned_photo(request, pk, photo_id))
        return Response(s.PhotoSerializer(photo).data)


class PhotoOrderView(APIView):
    @extend_schema(
        request=s.PhotoOrderSerializer,
        responses={200: s.PhotoSerializer(many=True)},
        tags=["properties"],
    )
    def post(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        data = _valid(s.PhotoOrderSerializer, request.data)
        services.photos_reorder(prop=prop, photo_ids=data["order"])
        return Response(s.PhotoSerializer(prop.photos.order_by("position", "pk"), many=True).data)


class AvailabilityView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[s.AvailabilityParamsSerializer],
        responses={200: s.AvailabilityDaySerializer(many=True)},
        tags=["properties"],
    )
    def get(self, request, pk: int):
        prop = selectors.property_get_visible(user=request.user, property_id=pk)
        params = _valid(s.AvailabilityParamsSerializer, request.query_params)
        days = calendar.availability(prop=prop, start=params["start"], end=params["end"])
        days = s.AvailabilityDaySerializer(days, many=True, context={"currency": prop.currency})
        return Response(days.data)


class BlockListCreateView(APIView):
    @extend_schema(responses={200: s.BlockSerializer(many=True)}, tags=["calendar"])
    def get(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        return Response(s.BlockSerializer(prop.blocks.all(), many=True).data)

    @extend_schema(
        request=s.BlockWriteSerializer, responses={201: s.BlockSerializer}, tags=["calendar"]
    )
    def post(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        data = _valid(s.BlockWriteSerializer, request.data)
        block = services.block_create(prop=prop, **data)
        return Response(s.BlockSerializer(block).data, status=status.HTTP_201_CREATED)


class BlockDetailView(APIView):
    @extend_schema(responses={204: None}, tags=["calendar"])
    def delete(self, request, pk: int, block_id: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        block = get_object_or_404(
            AvailabilityBlock.objects.select_related("property"), pk=block_id, property=prop
        )
        services.block_delete(block=block)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RateListCreateView(APIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses={200: s.RateSerializer(many=True)}, tags=["calendar"])
    def get(self, request, pk: int):
        prop = selectors.property_get_visible(user=request.user, property_id=pk)
        return Response(s.RateSerializer(prop.rates.all(), many=True).data)

    @extend_schema(
        request=s.RateWriteSerializer, responses={201: s.RateSerializer}, tags=["calendar"]
    )
    def post(self, request, pk: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        data = _valid(s.RateWriteSerializer, request.data)
        rate = services.rate_create(prop=prop, **data)
        return Response(s.RateSerializer(rate).data, status=status.HTTP_201_CREATED)


class RateDetailView(APIView):
    @extend_schema(responses={204: None}, tags=["calendar"])
    def delete(self, request, pk: int, rate_id: int):
        prop = selectors.property_get_owned(user=request.user, property_id=pk)
        rate = get_object_or_404(
            SeasonalRate.objects.select_related("property"), pk=rate_id, property=prop
        )
        services.rate_delete(rate=rate)
        return Response(status=status.HTTP_204_NO_CONTENT)


class QuoteView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[s.QuoteParamsSerializer],
        responses={200: s.QuoteSerializer, 409: ErrorResponseSerializer},  # dates_unavailable
        tags=["properties"],
    )
    def get(self, request, pk: int):
        prop = selectors.property_get_visible(user=request.user, property_id=pk)
        params = _valid(s.QuoteParamsSerializer, request.query_params)
        quote = services.quote_for_stay(
            property=prop,
            check_in=params["check_in"],
            check_out=params["check_out"],
            guests=params["guests"],
            stay_type=params["stay_type"],
            meals=params.get("meals") or {},
            check_availability=True,
        )
        return Response(quote.as_dict())


class AmenityListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = s.AmenitySerializer
    pagination_class = None
    queryset = Amenity.objects.all()

    @extend_schema(tags=["properties"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

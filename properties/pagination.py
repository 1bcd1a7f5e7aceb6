"""Pagination without an exact count: fetch one row more than the page to know if
there is a next page. Counting every match of a search is the slowest part of
it on a large table, and clients only need "is there more"."""

from collections import OrderedDict

from rest_framework import pagination, serializers
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from config.params import QueryParamsSerializer


class LookaheadPagination(pagination.BasePagination):
    page_size = 20
    max_page_size = 100
    max_page = 500

    def paginate_queryset(self, queryset, request, view=None):
        params = _PageParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        self.page = params.validated_data["page"]
        self.size = params.validated_data["page_size"]
        self.request = request
        offset = (self.page - 1) * self.size
        rows = list(queryset[offset : offset + self.size + 1])
        self.has_next = len(rows) > self.size
        return rows[: self.size]

    def get_paginated_response(self, data):
        url = self.request.build_absolute_uri()
        next_url = replace_query_param(url, "page", self.page + 1) if self.has_next else None
        previous = None
        if self.page > 1:
            previous = (
                remove_query_param(url, "page")
                if self.page == 2
                else replace_query_param(url, "page", self.page - 1)
            )
        return Response(OrderedDict(next=next_url, previous=previous, results=data))

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "page", "required": False, "in": "query", "schema": {"type": "integer"}},
            {"name": "page_size", "required": False, "in": "query", "schema": {"type": "integer"}},
        ]


class _PageParams(QueryParamsSerializer):
    page = serializers.IntegerField(min_value=1, max_value=LookaheadPagination.max_page, default=1)
    page_size = serializers.IntegerField(
        min_value=1, max_value=LookaheadPagination.max_page_size, default=20
    )

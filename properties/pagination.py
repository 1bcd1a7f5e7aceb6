"""Search pages: no exact count, stable while listings are published.

Counting every match of a search is the slowest part of it on a large table, and
clients only need "is there more": a page reads one row more than it shows.

The ``next`` link carries a ``cursor`` (opaque to clients): the instant of the first page
(the snapshot: later pages leave out listings published after it, so a listing published
meanwhile shifts nothing and is found by a new search) and the SQL position the next
page starts at (search keeps in Python only what the quote takes, so pages are not
``page_size`` rows of SQL apart), with the positions of the pages before it for the
``previous`` link. ``page=N`` without a cursor still works: it reads the pages before N.
"""

import base64
import binascii
import itertools
import json
from collections import OrderedDict
from datetime import datetime

from django.utils import timezone
from rest_framework import pagination, serializers
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.api.params import QueryParamsSerializer


class LookaheadPagination(pagination.BasePagination):
    page_size = 20
    max_page_size = 100
    max_page = 500

    def paginate_search(self, search, request, now: datetime | None = None):
        """The page of ``search`` (``search(start=, size=, published_before=)`` returns a
        ``properties.search.Page``) the request asks for."""
        params = _PageParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        self.size = params.validated_data["page_size"]
        self.request = request
        cursor = params.validated_data.get("cursor")
        if cursor:
            self.snapshot, self.starts = cursor["snapshot"], cursor["starts"]
        else:
            self.snapshot, self.starts = now or timezone.now(), [0]
            for _ in range(params.validated_data["page"] - 1):  # page=N: read up to N
                page = search(start=self.starts[-1], size=self.size, published_before=None)
                if page.next_start is None:
                    break
                self.starts.append(page.next_start)
        # the first page needs no snapshot: nothing is published after now
        before = self.snapshot if len(self.starts) > 1 else None
        page = search(start=self.starts[-1], size=self.size, published_before=before)
        self.next_start = page.next_start
        return page.rows

    def get_paginated_response(self, data):
        url = remove_query_param(self.request.build_absolute_uri(), "page")
        next_url = previous = None
        if self.next_start is not None and len(self.starts) < self.max_page:
            next_url = replace_query_param(
                url, "cursor", _encode(self.snapshot, [*self.starts, self.next_start])
            )
        if len(self.starts) == 2:
            previous = remove_query_param(url, "cursor")
        elif len(self.starts) > 2:
            previous = replace_query_param(url, "cursor", _encode(self.snapshot, self.starts[:-1]))
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
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                # what "next" and "previous" carry: URL-safe base64 without padding
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "maxLength": 20000},
            },
            {"name": "page", "required": False, "in": "query", "schema": {"type": "integer"}},
            {"name": "page_size", "required": False, "in": "query", "schema": {"type": "integer"}},
        ]


def _encode(snapshot: datetime, starts: list[int]) -> str:
    data = json.dumps({"s": snapshot.isoformat(), "p": starts}, separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


class CursorField(serializers.CharField):
    def to_internal_value(self, value):
        text = super().to_internal_value(value)
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            snapshot = datetime.fromisoformat(data["s"])
            starts = [int(start) for start in data["p"]]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise serializers.ValidationError(
                "Not a cursor of this search.", code="invalid"
            ) from None
        if (
            snapshot.tzinfo is None
            or not starts
            or len(starts) > LookaheadPagination.max_page
            or starts[0] != 0
            or any(b <= a for a, b in itertools.pairwise(starts))
        ):
            raise serializers.ValidationError("Not a cursor of this search.", code="invalid")
        return {"snapshot": snapshot, "starts": starts}


class _PageParams(QueryParamsSerializer):
    page = serializers.IntegerField(min_value=1, max_value=LookaheadPagination.max_page, default=1)
    page_size = serializers.IntegerField(
        min_value=1, max_value=LookaheadPagination.max_page_size, default=20
    )
    cursor = CursorField(max_length=20_000, required=False)

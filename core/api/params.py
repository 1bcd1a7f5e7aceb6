"""Query-parameter serializers for hot read endpoints."""

import copy

from rest_framework import serializers


class QueryParamsSerializer(serializers.Serializer):
    """A serializer that only validates query parameters, with cheap field copies.

    DRF gives every serializer instance its own fields by deep-copying the declared ones,
    and a field's deep copy calls its constructor again with the original arguments
    (validators, choice maps and all). For the search's sixteen parameters that was
    about a twentieth of a search request's CPU. The declared fields of a class are never
    bound or used themselves, so a shallow copy of each is as good a starting point:
    binding sets the copy's own name and parent, and validating a value reads the
    field's settings without changing them. Only for serializers of plain scalar fields
    (no nested serializers, no fields that keep state between calls).
    """

    def get_fields(self):
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

"""QueryParamsSerializer: shallow field copies validate exactly as DRF's deep copies."""

import copy
from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers

from properties.api.search_params import SearchParams


class DeepCopiedSearchParams(SearchParams):
    """The same fields, copied as DRF copies them."""

    def get_fields(self):
        return copy.deepcopy(self._declared_fields)


def _day(n):
    return (timezone.now().date() + timedelta(days=n)).isoformat()


INPUTS = [
    {},
    {"city": "Lisbon", "guests": "2", "check_in": _day(3), "check_out": _day(5)},
    {"lat": "38.7", "lng": "-9.1", "radius_km": "10", "min_price": "20", "max_price": "90"},
    {"guests": "0", "min_price": "-1", "stay_type": "castle", "ordering": "name"},
    {"lat": "north", "lng": "200", "radius_km": "0"},
    {"check_in": _day(5), "check_out": _day(3)},
    {"check_in": "yesterday"},
    {"instant_book": "maybe", "country": "Portugal", "property_type": "igloo"},
    {"instant_book": "false", "q": "  sea view  ", "amenities": "wifi"},
    {"min_price": "100", "max_price": "50", "city": "x" * 101},
]


def _outcome(serializer_class, data):
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return True, dict(serializer.validated_data)
    return False, serializer.errors


def test_validation_matches_drf_deep_copies(db):
    for data in INPUTS:
        assert _outcome(SearchParams, data) == _outcome(DeepCopiedSearchParams, data), data


def test_each_instance_binds_its_own_fields_and_leaves_the_declared_ones_alone(db):
    first, second = SearchParams(data={"guests": "2"}), SearchParams(data={"guests": "x"})
    assert first.is_valid() and not second.is_valid()
    for name, field in first.fields.items():
        assert field is not second.fields[name]
        assert field.parent is first and second.fields[name].parent is second
        declared = SearchParams._declared_fields[name]
        assert declared is not field
        assert getattr(declared, "parent", None) is None
    assert first.validated_data["guests"] == 2
    assert "guests" in second.errors
    # a third instance still validates as the first did
    third = SearchParams(data={"guests": "3"})
    assert third.is_valid() and third.validated_data["guests"] == 3
    assert isinstance(third.fields["guests"], serializers.IntegerField)

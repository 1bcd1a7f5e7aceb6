"""Search: every filter of DESIGN.md section 4, pagination without a count, constant queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from bookings.models import Booking
from properties.api.serializers import PropertyListSerializer
from properties.models import Amenity, AvailabilityBlock, Property
from properties.search import TEXT_SEARCH_CONFIG, search_document, search_properties
from properties.tests.factories import GuestFactory, published_property

pytestmark = pytest.mark.django_db
URL = "/api/v1/properties/"


def _day(n):
    return timezone.now().date() + timedelta(days=n)


def _ids(params):
    response = APIClient().get(URL, params)
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def listings():
    lisbon = published_property(
        city="Lisbon", nightly="80.00", max_guests=2, instant_book=True, photos=1
    )
    porto = published_property(
        city="Porto",
        latitude=Decimal("41.157944"),
        longitude=Decimal("-8.629105"),
        nightly="150.00",
        max_guests=6,
        property_type="house",
        title="Riverside house with pool",
    )
    madrid = published_property(
        city="Madrid",
        country="ES",
        latitude=Decimal("40.416775"),
        longitude=Decimal("-3.703790"),
        nightly="120.00",
        kinds=("standard", "with_meals"),
    )
    published_property(city="Lisbon", status=Property.Status.DRAFT)
    porto.amenities.set(Amenity.objects.filter(code__in=["pool", "wifi"]))
    lisbon.amenities.set(Amenity.objects.filter(code__in=["wifi"]))
    return {"lisbon": lisbon, "porto": porto, "madrid": madrid}


def test_filters(listings):
    lis, p, m = listings["lisbon"].pk, listings["porto"].pk, listings["madrid"].pk
    assert _ids({}) == {lis, p, m}
    assert _ids({"city": "lisbon"}) == {lis}
    assert _ids({"country": "es"}) == {m}
    assert _ids({"guests": 5}) == {p}
    assert _ids({"min_price": "100", "max_price": "130"}) == {m}
    assert _ids({"amenities": "wifi"}) == {lis, p}
    assert _ids({"amenities": "wifi,pool"}) == {p}
    assert _ids({"property_type": "house"}) == {p}
    assert _ids({"instant_book": "true"}) == {lis}
    assert _ids({"stay_type": "with_meals"}) == {m}
    assert _ids({"q": "pool"}) == {p}
    assert _ids({"lat": "38.7", "lng": "-9.14", "radius_km": "50"}) == {lis}
    assert _ids({"lat": "40.0", "lng": "-6.0", "radius_km": "250"}) == {m}
    assert _ids({"lat": "40.0", "lng": "-6.0", "radius_km": "280"}) == {m, p}


def test_dates_exclude_holding_bookings_and_blocks_but_not_expired_holds(listings):
    lisbon, porto, madrid = listings["lisbon"], listings["porto"], listings["madrid"]
    guest = GuestFactory()
    common = {
        "guest": guest,
        "guests": 1,
        "stay_type": "standard",
        "total": Decimal("100"),
        "currency": "EUR",
        "cancellation_policy": "moderate",
    }
    Booking.objects.create(
        property=lisbon, check_in=_day(10), check_out=_day(12), status="confirmed", **common
    )
    Booking.objects.create(
        property=madrid,
        check_in=_day(10),
        check_out=_day(12),
        status="awaiting_payment",
        hold_expires_at=timezone.now() - timedelta(minutes=1),
        **common,
    )
    AvailabilityBlock.objects.create(property=porto, start=_day(11), end=_day(13))
    params = {"check_in": _day(9).isoformat(), "check_out": _day(11).isoformat()}
    assert _ids(params) == {porto.pk, madrid.pk}
    assert _ids({"check_in": _day(12).isoformat(), "check_out": _day(14).isoformat()}) == {
        lisbon.pk,
        madrid.pk,
    }


def test_dates_also_honour_min_max_nights_and_advance_notice(listings):
    lisbon, porto, madrid = listings["lisbon"], listings["porto"], listings["madrid"]
    Property.objects.filter(pk=lisbon.pk).update(min_nights=3)
    Property.objects.filter(pk=porto.pk).update(max_nights=2)
    Property.objects.filter(pk=madrid.pk).update(advance_notice_days=7)
    three_nights = {"check_in": _day(5).isoformat(), "check_out": _day(8).isoformat()}
    assert _ids(three_nights) == {lisbon.pk}
    two_nights_later = {"check_in": _day(10).isoformat(), "check_out": _day(12).isoformat()}
    assert _ids(two_nights_later) == {porto.pk, madrid.pk}


def test_unlisted_archived_and_drafts_never_show_up(listings):
    Property.objects.filter(pk=listings["lisbon"].pk).update(status=Property.Status.UNLISTED)
    Property.objects.filter(pk=listings["porto"].pk).update(status=Property.Status.ARCHIVED)
    assert _ids({}) == {listings["madrid"].pk}


def test_results_carry_cover_price_and_rating(listings):
    row = next(r for r in APIClient().get(URL, {"city": "Lisbon"}).json()["results"])
    assert row["nightly_price"] == "80.00" and row["currency"] == "EUR"
    assert row["cover"]["url"].startswith("/media/properties/")
    assert row["rating"] is None and row["review_count"] == 0


def test_result_cards_equal_drf_generic_output(listings):
    """The hand-written cards of a search (PropertyCardListSerializer) say exactly what
    DRF's generic path says for the declared fields, with and without a cover, rating or
    coordinates, from search rows (dictionaries) and from properties (cover prefetched)."""
    Property.objects.filter(pk=listings["madrid"].pk).update(
        rating_avg=Decimal("4.85"), review_count=7, latitude=Decimal("40.4168"), longitude=None
    )
    generic = serializers.ListSerializer(child=PropertyListSerializer())
    rows = list(search_properties({}, columns=PropertyListSerializer.columns()))
    assert len(rows) == 3 and all(isinstance(row, dict) for row in rows)
    by_pk = Property.objects.prefetch_related("photos").in_bulk([row["id"] for row in rows])
    instances = [by_pk[row["id"]] for row in rows]
    expected = generic.to_representation(instances)

    assert PropertyListSerializer(rows, many=True).data == expected
    assert PropertyListSerializer(instances, many=True).data == expected
    assert list(expected[0]) == list(PropertyListSerializer.Meta.fields)
    assert {card["cover"] is None for card in expected} == {True, False}


def test_ordering_and_lookahead_pagination(listings):
    prices = [
        r["nightly_price"] for r in APIClient().get(URL, {"ordering": "price"}).json()["results"]
    ]
    assert prices == ["80.00", "120.00", "150.00"]
    first = APIClient().get(URL, {"ordering": "-price", "page_size": 2}).json()
    assert [r["nightly_price"] for r in first["results"]] == ["150.00", "120.00"]
    assert "count" not in first and first["next"] and first["previous"] is None
    second = APIClient().get(first["next"]).json()
    assert [r["nightly_price"] for r in second["results"]] == ["80.00"] and second["next"] is None


def test_query_count_is_constant(django_assert_max_num_queries):
    for n in range(25):
        published_property(city="Lisbon", photos=1 if n % 2 else 0)
    with django_assert_max_num_queries(3):
        response = APIClient().get(
            URL,
            {
                "city": "Lisbon",
                "check_in": _day(3).isoformat(),
                "check_out": _day(5).isoformat(),
                "page_size": 20,
            },
        )
    assert len(response.json()["results"]) == 20


@pytest.mark.parametrize(
    "params",
    [
        {"check_in": _day(5).isoformat(), "check_out": _day(5).isoformat()},
        {"check_in": _day(5).isoformat(), "check_out": _day(3).isoformat()},
        {"check_in": _day(5).isoformat()},
        {"check_in": _day(900).isoformat(), "check_out": _day(903).isoformat()},
        {"check_in": _day(-10).isoformat(), "check_out": _day(-8).isoformat()},
        {"check_in": "tomorrow", "check_out": "later"},
        {"lat": "north", "lng": "1", "radius_km": "5"},
        {"lat": "10", "lng": "1"},
        {"lat": "100", "lng": "1", "radius_km": "5"},
        {"min_price": "-1"},
        {"max_price": "1e30"},
        {"min_price": "100", "max_price": "10"},
        {"guests": "0"},
        {"stay_type": "castle"},
        {"property_type": "spaceship"},
        {"ordering": "-secret"},
        {"page_size": "10000"},
        {"page": "0"},
        {"instant_book": "maybe"},
        {"amenities": "wifi,teleporter"},
        {"amenities": ",".join(f"a{n}" for n in range(31))},
        {"lat": "nan", "lng": "1", "radius_km": "5"},
        {"radius_km": "inf", "lat": "1", "lng": "1"},
        {"page": "two"},
    ],
)
def test_bad_search_input_is_400_in_the_documented_shape(params):
    response = APIClient().get(URL, params)
    assert response.status_code == 400, (params, response.content)
    body = response.json()
    assert body["type"] == "validation_error" and body["errors"][0]["code"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search: PostgreSQL")
def test_text_search_is_ranked_and_served_by_the_gin_index(listings):
    published_property(title="Flat", description="A pool on the roof, and a pool table inside.")
    ranked = APIClient().get(URL, {"q": "pools"}).json()["results"]
    assert [row["title"] for row in ranked][:1] == ["Riverside house with pool"]  # title weighs A
    assert len(ranked) == 2
    # The match uses the indexed expression (the same ``search_document()``):
    query = SearchQuery("pool", search_type="websearch", config=TEXT_SEARCH_CONFIG)
    matching = Property.objects.alias(document=search_document()).filter(document=query)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = matching.explain()
    assert "prop_search_document" in plan


def test_the_covering_index_holds_every_column_a_card_shows_and_the_dates_filter_checks():
    """A newest-first walk reads no table rows only while ``prop_created_cover``
    (migrations 0008, 0011) holds all it needs: a card column added without adding it there
    would silently make searches read the table again."""
    import importlib

    from properties.search import QUOTE_COLUMNS

    migration = importlib.import_module("properties.migrations.0011_search_folded_text")
    keys = {"id", "status", "created_at"}
    checked = {"advance_notice_days", "min_nights", "max_nights", "published_at"}
    read = set(PropertyListSerializer.columns()) | set(QUOTE_COLUMNS) | checked
    assert read <= set(migration.INCLUDED) | keys


@pytest.mark.skipif(connection.vendor != "postgresql", reason="INCLUDE indexes: PostgreSQL")
def test_a_newest_first_walk_is_an_index_only_scan(listings):
    today = timezone.now().date()
    params = {"check_in": today + timedelta(days=3), "check_out": today + timedelta(days=5)}
    with connection.cursor() as cursor:
        cursor.execute("SET enable_bitmapscan = off")
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = search_properties(params, columns=PropertyListSerializer.columns())[:21]
            plan = plan.explain()
        finally:
            cursor.execute("RESET enable_bitmapscan")
            cursor.execute("RESET enable_seqscan")
    assert "Index Only Scan using prop_created_cover" in plan, plan

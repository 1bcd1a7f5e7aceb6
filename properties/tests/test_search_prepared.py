"""Search through compiled query shapes (properties.prepared): every shape of search
compiles and verifies, and a compiled shape reused with other values returns exactly
what the ORM queryset of those values returns, serially and from concurrent threads."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Value
from django.db.models.expressions import Col
from django.utils import timezone

from bookings.models import Booking
from properties.api.search_params import SearchParams
from properties.api.serializers import PropertyListSerializer
from properties.models import Amenity, AvailabilityBlock, Property
from properties.prepared import ShapeCache, compile_shape
from properties.search import SearchResults, pages, search_properties
from properties.search.terms import term_field
from properties.tests.factories import GuestFactory, published_property

COLUMNS = PropertyListSerializer.columns()
CITIES = [  # name, country, latitude, longitude
    ("Lisbon", "PT", Decimal("38.722252"), Decimal("-9.139337")),
    ("Porto", "PT", Decimal("41.157944"), Decimal("-8.629105")),
    ("Madrid", "ES", Decimal("40.416775"), Decimal("-3.703790")),
]
AMENITIES = ["wifi", "pool", "kitchen", "parking"]


def _day(n: int):
    return timezone.now().date() + timedelta(days=n)


@pytest.fixture
def fresh_cache(monkeypatch):
    cache = ShapeCache()
    monkeypatch.setattr(pages, "_compiled_searches", cache)
    return cache


def _listings(seed: int = 3) -> None:
    """Two dozen listings that differ in every filtered column, with bookings (holding,
    lapsed, cancelled) and blocks, so that most filters keep some and drop others."""
    rng = random.Random(seed)
    guest = GuestFactory()
    amenities = list(Amenity.objects.filter(code__in=AMENITIES))
    for n in range(24):
        city, country, lat, lng = CITIES[n % 3]
        prop = published_property(
            city=city,
            country=country,
            latitude=lat + Decimal(rng.randint(-40000, 40000)) / 1000000,
            longitude=lng + Decimal(rng.randint(-40000, 40000)) / 1000000,
            nightly=f"{rng.randint(40, 220)}.00",
            max_guests=rng.randint(1, 8),
            property_type=rng.choice(["apartment", "house", "room"]),
            instant_book=rng.random() < 0.5,
            min_nights=rng.choice([1, 1, 2, 3]),
            advance_notice_days=rng.choice([0, 0, 2, 10]),
            kinds=("standard", "with_meals") if n % 4 == 0 else ("standard",),
            title=f"{rng.choice(['Sunny', 'Quiet', 'Riverside'])} flat {n}",
            photos=n % 2,
        )
        prop.amenities.set(rng.sample(amenities, rng.randint(0, len(amenities))))
        if n % 3 == 0:
            start = rng.randint(2, 20)
            Booking.objects.create(
                property=prop,
                guest=guest,
                check_in=_day(start),
                check_out=_day(start + rng.randint(1, 5)),
                status=rng.choice(["confirmed", "awaiting_payment", "cancelled"]),
                hold_expires_at=timezone.now() + timedelta(minutes=rng.choice([-5, 5])),
                guests=1,
                stay_type="standard",
                total=Decimal("100"),
                currency="EUR",
                cancellation_policy="moderate",
            )
        if n % 5 == 0:
            start = rng.randint(2, 20)
            AvailabilityBlock.objects.create(property=prop, start=_day(start), end=_day(start + 3))
    published_property(status=Property.Status.DRAFT)


def _random_query(rng: random.Random) -> dict:
    query: dict = {}
    city, country, lat, lng = rng.choice(CITIES)
    maybe = lambda: rng.random() < 0.35  # noqa: E731
    if maybe():
        query["city"] = city.lower() if rng.random() < 0.5 else city
    if maybe():
        query["country"] = country.lower()
    if maybe():
        query.update(lat=str(lat), lng=str(lng), radius_km=rng.choice([1, 3, 10, 300]))
    if maybe():
        check_in = rng.randint(0, 25)
        query.update(check_in=_day(check_in), check_out=_day(check_in + rng.randint(1, 4)))
    if maybe():
        query["guests"] = rng.randint(1, 8)
    if maybe():
        query["stay_type"] = rng.choice(["standard", "with_meals"])
    if maybe():
        query["min_price"] = rng.randint(30, 150)
    if maybe():
        query["max_price"] = query.get("min_price", 0) + rng.randint(0, 150)
    if maybe():
        query["amenities"] = ",".join(rng.sample(AMENITIES, rng.randint(1, 3)))
    if maybe():
        query["property_type"] = rng.choice(["apartment", "house", "room"])
    if maybe():
        query["instant_book"] = rng.choice(["true", "false"])
    if maybe():
        query["q"] = rng.choice(["sunny", "Riverside", "flat", "quiet flat"])
    if maybe():
        query["ordering"] = rng.choice(["price", "-price", "-rating", "-created"])
    return query


def _params(query: dict) -> dict:
    serializer = SearchParams(data=query)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@pytest.mark.django_db
def test_every_shape_compiles_and_returns_what_the_queryset_returns(fresh_cache):
    _listings()
    rng = random.Random(11)
    searches = 0
    nonempty = 0
    for _ in range(160):
        params = _params(_random_query(rng))
        for low, high in [(0, 21), (2, 7)]:
            expected = list(search_properties(params, columns=COLUMNS)[low:high])
            assert SearchResults(params, COLUMNS)[low:high] == expected, params
            searches += 1
            nonempty += bool(expected)
    items = fresh_cache._items
    assert None not in items.values(), [key for key, value in items.items() if value is None]
    assert len(items) < searches  # shapes were compiled once and used again
    assert nonempty > searches / 3  # the comparisons were not between empty pages


@pytest.mark.django_db
def test_a_compiled_shape_serves_other_values(fresh_cache, django_assert_num_queries):
    _listings()
    first = _params({"city": "Lisbon", "check_in": _day(3), "check_out": _day(5), "guests": 2})
    SearchResults(first, COLUMNS)[0:21]
    assert len(fresh_cache) == 1
    for city, guests, days in [("porto", 1, 8), ("Madrid", 5, 2), ("Lisbon", 3, 14)]:
        params = _params(
            {"city": city, "check_in": _day(days), "check_out": _day(days + 2), "guests": guests}
        )
        expected = list(search_properties(params, columns=COLUMNS)[0:21])
        with django_assert_num_queries(1):
            assert SearchResults(params, COLUMNS)[0:21] == expected
    assert len(fresh_cache) == 1


@pytest.mark.django_db
def test_a_builder_that_builds_another_query_each_time_does_not_verify(caplog):
    builds = iter(range(100))

    def stable(terms):
        return Property.objects.filter(status=terms("status"), max_guests__gte=Value(2))

    def unstable(terms):  # same SQL each time, another parameter
        return Property.objects.filter(status=terms("status"), max_guests__gte=Value(next(builds)))

    values = {"status": "published"}
    assert compile_shape(lambda t: stable(t).values("id"), values, term_field, "default")
    assert compile_shape(lambda t: unstable(t).values("id"), values, term_field, "default") is None
    assert "query shape not cached" in caplog.text


@pytest.mark.django_db
def test_a_shape_that_did_not_compile_is_searched_with_the_queryset(fresh_cache, monkeypatch):
    _listings()
    monkeypatch.setattr(pages, "compile_shape", lambda *args: None)
    params = _params({"city": "Porto", "guests": 2})
    expected = list(search_properties(params, columns=COLUMNS)[0:21])
    assert expected
    assert SearchResults(params, COLUMNS)[0:21] == expected
    assert SearchResults(params, COLUMNS)[0:21] == expected
    assert list(fresh_cache._items.values()) == [None]  # tried once, not again


def test_the_cache_keeps_the_most_recently_used_shapes():
    cache = ShapeCache(max_size=2)
    compiled = []
    for key in ["a", "b", "a", "c"]:
        cache.get(key, lambda key=key: compiled.append(key) or key)
    assert compiled == ["a", "b", "c"]
    assert list(cache._items) == ["a", "c"]  # "b" was the least recently used


@pytest.mark.django_db(transaction=True)
def test_threads_sharing_compiled_shapes_each_get_their_own_results(fresh_cache):
    """Request threads share a process's compiled shapes: eight threads run searches of
    the same few shapes with different values at once, each compared with the rows the
    queryset returned for its values beforehand."""
    _listings(seed=5)
    rng = random.Random(23)
    jobs = []
    for _ in range(64):
        city = rng.choice(CITIES)[0]
        check_in = rng.randint(0, 20)
        query = {"city": city, "check_in": _day(check_in), "check_out": _day(check_in + 2)}
        if rng.random() < 0.5:
            query["guests"] = rng.randint(1, 6)
        params = _params(query)
        jobs.append((params, list(search_properties(params, columns=COLUMNS)[0:21])))
    barrier = threading.Barrier(8)

    def run(batch):
        try:
            barrier.wait(timeout=10)
            return [SearchResults(params, COLUMNS)[0:21] == expected for params, expected in batch]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(run, [jobs[i::8] for i in range(8)]))
    assert all(all(batch) for batch in outcomes)
    assert 1 <= len(fresh_cache) <= 4


@pytest.mark.django_db
def test_a_compiled_shape_keeps_its_sql_not_the_built_query(fresh_cache):
    """Up to 512 shapes stay in each process: each keeps its SQL, parameters and column
    types (a few KB), not the built query with its subqueries (about 75 KB)."""
    params = _params({"city": "Lisbon", "check_in": _day(3), "check_out": _day(5)})
    SearchResults(params, COLUMNS)[0:21]
    (compiled,) = fresh_cache._items.values()
    assert not compiled.query.where.children and not compiled.query.annotations
    assert all(isinstance(column, (Col, Value)) for column in compiled.select)
    assert "cover_image" in compiled.names and "NOT EXISTS" in compiled.sql

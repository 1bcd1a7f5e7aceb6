"""Radius search through grid cells: the cells cover every point of the circle (across
the antimeridian and at the poles too), the database computes a listing's cell as Python
does, and results equal a brute-force great-circle check."""

import math
import random
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from properties.models import GEO_CELL_ROW, GEO_CELLS_PER_DEGREE, Property, geo_cell
from properties.search import (
    KM_PER_DEGREE_LAT,
    KM_PER_DEGREE_LNG_AT_EQUATOR,
    MAX_GEO_CELLS,
    cells_touching,
    distance_km,
)
from properties.tests.factories import published_property


def _km_per_lng(lat: float) -> float:
    return KM_PER_DEGREE_LNG_AT_EQUATOR * max(math.cos(math.radians(lat)), 0.01)


def _cell(lat: Decimal, lng: Decimal) -> int:
    """The cell as the database computes it, in exact decimals."""
    row = math.floor(lat * GEO_CELLS_PER_DEGREE)
    return row * GEO_CELL_ROW + math.floor(lng * GEO_CELLS_PER_DEGREE)


def _distance2(lat, lng, plat: Decimal, plng: Decimal) -> Decimal:
    """The squared great-circle distance, the search's exact check."""
    distance = Decimal(repr(distance_km(float(lat), float(lng), float(plat), float(plng))))
    return distance * distance


def _wrap(lng: float) -> float:
    return (lng + 180) % 360 - 180


@pytest.mark.parametrize(
    "lat,lng,radius",
    [
        (38.7223, -9.1393, 2),
        (-33.8688, 151.2093, 20),
        (0.0, 0.0, 5),
        (64.1466, -21.9426, 10),
        (-16.5, 179.99, 5),  # across the antimeridian (Fiji)
        (51.9, -179.995, 3),  # and from its other side (Aleutians)
        (78.2, 15.6, 8),  # Svalbard
    ],
)
def test_the_cells_hold_every_point_within_the_radius(lat, lng, radius):
    cells = set(cells_touching(lat, lng, radius))
    rng = random.Random(f"{lat},{lng},{radius}")
    dlat, dlng = radius / KM_PER_DEGREE_LAT, radius / _km_per_lng(lat + radius / 100)
    inside = 0
    for _ in range(4000):
        plat = Decimal(f"{lat + rng.uniform(-dlat, dlat):.6f}")
        plng = Decimal(f"{_wrap(lng + rng.uniform(-dlng, dlng)):.6f}")
        if _distance2(lat, lng, plat, plng) <= Decimal(str(radius * radius)):
            inside += 1
            assert _cell(plat, plng) in cells, (plat, plng)
    assert inside > 2000  # most of the box
    box_cells = (2 * dlat * GEO_CELLS_PER_DEGREE + 1) * (2 * dlng * GEO_CELLS_PER_DEGREE + 1)
    if abs(lng) + dlng < 180:  # (across it, longitude 180 has a cell of its own)
        assert len(cells) < box_cells  # corner cells the circle misses are left out


def test_a_point_on_a_cell_edge_at_the_end_of_the_radius_is_covered():
    edge = Decimal(1549) / GEO_CELLS_PER_DEGREE  # 38.725: the first latitude of row 1549
    # the point lies inside by a hair, exactly where row 1549 begins
    radius = distance_km(38.7, -9.14, float(edge), -9.14) + 1e-7
    cells = cells_touching(38.7, -9.14, radius)
    assert _distance2(38.7, -9.14, edge, Decimal("-9.14")) <= Decimal(str(radius * radius))
    assert _cell(edge, Decimal("-9.14")) in cells


def test_a_circle_too_large_for_cells_falls_back_to_its_bounding_box():
    assert cells_touching(40.0, -6.0, 250) is None
    small = cells_touching(40.0, -6.0, 20)
    assert small is not None and len(small) <= MAX_GEO_CELLS


@pytest.mark.django_db
def test_the_database_computes_the_cell_as_python_does():
    coordinates = [
        ("38.722300", "-9.139300"),
        ("-33.868800", "151.209300"),
        ("38.725000", "-0.025000"),  # on cell edges
        ("-0.000001", "0.000000"),
        ("89.999999", "179.999999"),
        ("-90.000000", "-180.000000"),
    ]
    for lat, lng in coordinates:
        published_property(latitude=Decimal(lat), longitude=Decimal(lng))
    rows = Property.objects.annotate(cell=geo_cell()).values_list("latitude", "longitude", "cell")
    assert len(rows) == len(coordinates)
    for lat, lng, cell in rows:
        assert cell == _cell(lat, lng), (lat, lng)


@pytest.mark.django_db
def test_radius_search_equals_a_brute_force_distance_check():
    rng = random.Random(7)
    centre_lat, centre_lng = -22.9068, -43.1729
    listings = {}
    for _ in range(60):
        lat = Decimal(f"{centre_lat + rng.uniform(-0.2, 0.2):.6f}")
        lng = Decimal(f"{centre_lng + rng.uniform(-0.2, 0.2):.6f}")
        listings[published_property(latitude=lat, longitude=lng).pk] = (lat, lng)
    client = APIClient()
    for radius in (2, 5, 10, 20):
        expected = {
            pk
            for pk, (lat, lng) in listings.items()
            if _distance2(centre_lat, centre_lng, lat, lng) <= Decimal(radius * radius)
        }
        found = set()
        url = "/api/v1/properties/"
        params = {"lat": str(centre_lat), "lng": str(centre_lng), "radius_km": radius}
        while url:
            response = client.get(url, params)
            assert response.status_code == 200, response.json()
            found |= {row["id"] for row in response.json()["results"]}
            url, params = response.json()["next"], None
        assert found == expected, radius
        assert expected or radius < 10  # the larger circles hold listings


def _found(params: dict) -> set[int]:
    client, url, found = APIClient(), "/api/v1/properties/", set()
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.json()
        found |= {row["id"] for row in response.json()["results"]}
        url, params = response.json()["next"], None
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("radius", ["5", "300"])  # grid cells, and the bounding box
def test_radius_search_wraps_the_antimeridian(radius):
    """Two listings 2 km apart on either side of longitude 180 (issue 19): a circle
    around either finds both."""
    east = published_property(latitude=Decimal("-16.500000"), longitude=Decimal("179.990000"))
    west = published_property(latitude=Decimal("-16.500000"), longitude=Decimal("-179.990000"))
    far = published_property(latitude=Decimal("-16.500000"), longitude=Decimal("170.000000"))
    assert distance_km(-16.5, 179.99, -16.5, -179.99) < 2.2
    for lng in ("179.99", "-179.99", "180", "-180"):
        found = _found({"lat": "-16.5", "lng": lng, "radius_km": radius})
        assert {east.pk, west.pk} <= found, lng
        assert far.pk not in found


@pytest.mark.django_db
def test_radius_search_holds_near_the_poles():
    """Near a pole, listings on opposite meridians are a few km apart."""
    a = published_property(latitude=Decimal("89.990000"), longitude=Decimal("0.000000"))
    b = published_property(latitude=Decimal("89.990000"), longitude=Decimal("180.000000"))
    c = published_property(latitude=Decimal("89.985000"), longitude=Decimal("-90.000000"))
    south = published_property(latitude=Decimal("-89.990000"), longitude=Decimal("45.000000"))
    assert distance_km(89.99, 0, 89.99, 180) < 2.5
    assert _found({"lat": "89.99", "lng": "0", "radius_km": "3"}) == {a.pk, b.pk, c.pk}
    assert _found({"lat": "90", "lng": "0", "radius_km": "2"}) == {a.pk, b.pk, c.pk}
    assert _found({"lat": "-89.995", "lng": "-135", "radius_km": "2"}) == {south.pk}
    # still the exact distance: b is 2.22 km away, c 2.00 km
    assert _found({"lat": "89.99", "lng": "0", "radius_km": "2.1"}) == {a.pk, c.pk}

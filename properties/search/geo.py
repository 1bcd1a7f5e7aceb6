"""Radius search: the circle's grid cells (or bounding box) and a generous distance check
in SQL, then the exact great-circle check in Python."""

import math
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet

from properties.models import GEO_CELL_ROW, GEO_CELLS_PER_DEGREE, geo_cell
from properties.prepared import Terms

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LNG_AT_EQUATOR = 111.320
# Cells of 0.025 degrees: a 20 km circle's box spans about 230 of them at the equator and
# 400 at 60 degrees north; the circle touches about four fifths of those.
MAX_GEO_CELLS = 500


def radius_terms(lat: float, lng: float, radius_km: float) -> dict[str, Any]:
    """The grid cells the circle touches (or, for a circle too large for them, its
    bounding box, in two ranges of longitude where it crosses the antimeridian), and
    the constants of a generous distance check where the circle neither crosses the
    antimeridian nor reaches a pole. The exact check is :func:`within_radius`."""
    dlat = radius_km / KM_PER_DEGREE_LAT
    lat_low, lat_high = lat - dlat, lat + dlat
    polar = lat_low <= -90 or lat_high >= 90
    # the narrowest degree of longitude in the circle: generous everywhere in it
    km_per_lng = KM_PER_DEGREE_LNG_AT_EQUATOR * math.cos(
        math.radians(min(max(abs(lat_low), abs(lat_high)), 90))
    )
    all_lng = polar or km_per_lng * 180 <= radius_km
    dlng = 180.0 if all_lng else radius_km / km_per_lng
    crosses = all_lng or lng - dlng < -180 or lng + dlng > 180
    terms: dict[str, Any] = {}
    cells = None if all_lng else cells_touching(lat, lng, radius_km)
    if cells is not None:
        terms["cells"] = cells
    else:
        terms.update(lat_min=_decimal(max(lat_low, -90)), lat_max=_decimal(min(lat_high, 90)))
        if not all_lng:
            low, high = lng - dlng, lng + dlng
            if low < -180:
                second = (low + 360, 180.0)
            elif high > 180:
                second = (-180.0, high - 360)
            else:
                second = (1.0, 0.0)  # empty
            terms.update(
                lng_min=_decimal(max(low, -180)),
                lng_max=_decimal(min(high, 180)),
                lng2_min=_decimal(second[0]),
                lng2_max=_decimal(second[1]),
            )
    if not crosses:
        slack = radius_km * 1.01 + 0.01
        terms.update(
            lat=_decimal(lat),
            lng=_decimal(lng),
            km_per_lat=_decimal(KM_PER_DEGREE_LAT),
            km_per_lng=_decimal(km_per_lng),
            radius2=_decimal(slack * slack),
        )
    return terms


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


def within_radius(params: dict, row: dict) -> bool:
    """Whether the row's exact point is within ``radius_km`` of ``lat``/``lng`` along the
    surface of the earth (haversine; wraps the antimeridian, holds at the poles)."""
    if row["latitude"] is None or row["longitude"] is None:
        return False
    return (
        distance_km(params["lat"], params["lng"], float(row["latitude"]), float(row["longitude"]))
        <= params["radius_km"]
    )


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def filter_radius(qs: QuerySet, terms: Terms) -> QuerySet:
    """Within the circle's grid cells (or its bounding box), then, where the circle
    neither crosses the antimeridian nor reaches a pole, a generous equirectangular
    distance check in portable SQL (:func:`within_radius` is the exact one)."""
    if "cells" in terms:
        qs = qs.alias(geo_cell=geo_cell()).filter(geo_cell__any_of=terms("cells"))
    else:
        qs = qs.filter(latitude__gte=terms("lat_min"), latitude__lte=terms("lat_max"))
        if "lng_min" in terms:
            qs = qs.filter(
                Q(longitude__gte=terms("lng_min"), longitude__lte=terms("lng_max"))
                | Q(longitude__gte=terms("lng2_min"), longitude__lte=terms("lng2_max"))
            )
    if "lat" not in terms:
        return qs
    dy = (F("latitude") - terms("lat")) * terms("km_per_lat")
    dx = (F("longitude") - terms("lng")) * terms("km_per_lng")
    return qs.alias(distance2=dx * dx + dy * dy).filter(distance2__lte=terms("radius2"))


_COLUMNS_AROUND = 180 * GEO_CELLS_PER_DEGREE  # a column's index wraps at 180 degrees


def cells_touching(lat: float, lng: float, radius_km: float) -> list[int] | None:
    """Every :func:`~properties.models.geo_cell` that may hold a point within
    ``radius_km`` of ``(lat, lng)`` (columns wrap across the antimeridian), or ``None``
    when more than ``MAX_GEO_CELLS`` would (its bounding box then serves).

    Generous: each row of cells is measured with its narrowest degree of longitude and
    the shortest degree of latitude, plus one percent; a cell on the edge may be listed
    in vain, never left out."""
    size = 1 / GEO_CELLS_PER_DEGREE
    dlat = radius_km / KM_PER_DEGREE_LAT

    def span(low: float, high: float) -> range:
        return range(math.floor(low / size - 1e-9), math.floor(high / size + 1e-9) + 1)

    rows = span(max(lat - dlat, -90), min(lat + dlat, 90 - 1e-9))
    limit = (radius_km * 1.01 + 0.01) ** 2
    cells: set[int] = set()
    for row in rows:
        low_lat, high_lat = row * size, (row + 1) * size
        far = min(max(abs(low_lat), abs(high_lat)), 90)
        km_per_lng = KM_PER_DEGREE_LNG_AT_EQUATOR * math.cos(math.radians(far))
        dy = (min(max(lat, low_lat), high_lat) - lat) * KM_PER_DEGREE_LAT
        if dy * dy > limit:
            continue
        if km_per_lng * 180 <= radius_km:
            return None  # the whole row of longitudes
        dlng = radius_km / km_per_lng
        columns = span(lng - dlng, lng + dlng)
        if len(columns) * len(rows) > MAX_GEO_CELLS * 4:
            return None
        for column in columns:
            dx = (min(max(lng, column * size), (column + 1) * size) - lng) * km_per_lng
            if dx * dx + dy * dy <= limit:
                wrapped = (column + _COLUMNS_AROUND) % (2 * _COLUMNS_AROUND) - _COLUMNS_AROUND
                cells.add(row * GEO_CELL_ROW + wrapped)
                if wrapped == -_COLUMNS_AROUND:  # longitude 180 is the cell of -180's east
                    cells.add(row * GEO_CELL_ROW + _COLUMNS_AROUND)
        if len(cells) > MAX_GEO_CELLS:
            return None
    return sorted(cells)

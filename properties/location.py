"""Where a listing is, as shown to people who have not booked it.

Before a guest has a booking, a listing shows its neighbourhood, city and an approximate
point: the exact point moved by a stable per-listing offset of about 500 m (a bearing and
a distance derived from an HMAC of the listing's id with the secret key, so it is the
same on every page and cannot be averaged away, and cannot be undone without the key),
then rounded to three decimals (about 100 m). Search by radius keeps using the exact
point on the server; the host and the guest's confirmed booking see the exact one.
"""

import hashlib
import hmac
import math
from decimal import Decimal

from django.conf import settings

OFFSET_MIN_M = 400
OFFSET_MAX_M = 600
METRES_PER_DEGREE = 111_320
_PLACES = Decimal("0.001")
_SHOWN = Decimal("0.000001")


def _offset(property_id: int) -> tuple[float, float]:
    """(bearing in radians, distance in metres) for this listing."""
    key = settings.SECRET_KEY.encode()
    digest = hmac.new(key, f"listing-location:{property_id}".encode(), hashlib.sha256).digest()
    bearing = int.from_bytes(digest[:4], "big") / 2**32 * 2 * math.pi
    distance = OFFSET_MIN_M + int.from_bytes(digest[4:8], "big") / 2**32 * (
        OFFSET_MAX_M - OFFSET_MIN_M
    )
    return bearing, distance


def approximate_point(
    property_id: int, latitude: Decimal | None, longitude: Decimal | None
) -> tuple[Decimal | None, Decimal | None]:
    """The point shown publicly for a listing (``None`` where the exact one is unknown)."""
    if latitude is None or longitude is None:
        return None, None
    bearing, distance = _offset(property_id)
    lat, lng = float(latitude), float(longitude)
    lat_shift = distance * math.cos(bearing) / METRES_PER_DEGREE
    cos_lat = max(math.cos(math.radians(lat)), 0.01)
    lng_shift = distance * math.sin(bearing) / (METRES_PER_DEGREE * cos_lat)
    shown_lat = min(max(lat + lat_shift, -90.0), 90.0)
    shown_lng = (lng + lng_shift + 180.0) % 360.0 - 180.0
    return (
        Decimal(shown_lat).quantize(_PLACES).quantize(_SHOWN),
        Decimal(shown_lng).quantize(_PLACES).quantize(_SHOWN),
    )

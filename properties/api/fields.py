"""Serializer helpers: image URLs per storage, coordinates."""

import functools
import inspect
from decimal import ROUND_HALF_UP, Decimal

from rest_framework import serializers


def _has_variants(storage) -> bool:
    """Whether the storage builds sized URLs: ``url(name, variant=...)`` (Cloudinary)."""
    url = storage.url  # a bound method, also through Django's lazy default storage
    return _takes_variant(getattr(url, "__func__", url))


@functools.cache
def _takes_variant(url_function) -> bool:
    try:
        return "variant" in inspect.signature(url_function).parameters
    except (TypeError, ValueError):
        return False


def image_urls(field) -> dict:
    """Original, thumbnail and card URLs; a storage with variants generates the sizes,
    otherwise (local files) all three are the original."""
    if not field:
        return {"url": None, "thumb": None, "card": None}
    storage = field.storage
    if _has_variants(storage):
        return {
            "url": storage.url(field.name),
            "thumb": storage.url(field.name, variant="thumb"),
            "card": storage.url(field.name, variant="card"),
        }
    url = field.url
    return {"url": url, "thumb": url, "card": url}


class CoordinateField(serializers.DecimalField):
    """Degrees, rounded half up to 6 decimals (about 0.1 m) instead of refusing more."""

    def validate_precision(self, value):
        return super().validate_precision(
            value.quantize(Decimal(1).scaleb(-self.decimal_places), rounding=ROUND_HALF_UP)
        )

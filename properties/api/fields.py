"""Serializer helpers: image URLs per storage, coordinates."""

import functools
import inspect

from django.core.files.storage import FileSystemStorage
from django.utils.encoding import filepath_to_uri

from core.api.fields import RoundedDecimalField


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
    return image_urls_of(field.storage, field.name)


def image_urls_of(storage, name: str) -> dict:
    """:func:`image_urls` of the file ``name`` in ``storage`` (a search card has the
    cover's name, no ``FieldFile``)."""
    if _has_variants(storage):
        return {
            "url": storage.url(name),
            "thumb": storage.url(name, variant="thumb"),
            "card": storage.url(name, variant="card"),
        }
    url = file_url(storage, name)
    return {"url": url, "thumb": url, "card": url}


def file_url(storage, name: str) -> str:
    """``storage.url(name)``. For local files the same string without ``urljoin``, which
    was most of the cost of a search page's twenty cover URLs: the quoted name has no
    scheme (``:`` is quoted) and, without empty, ``.`` or ``..`` segments, nothing for
    ``urljoin`` to resolve, so it is appended to the base URL."""
    if isinstance(storage, FileSystemStorage):
        path = filepath_to_uri(name).lstrip("/")
        base = storage.base_url
        if base and base.endswith("/") and not _DOT_SEGMENTS.intersection(path.split("/")):
            return base + path
    return storage.url(name)


_DOT_SEGMENTS = frozenset({"", ".", ".."})  # what urljoin resolves or drops


class CoordinateField(RoundedDecimalField):
    """Degrees, rounded half up to 6 decimals (about 0.1 m) instead of refusing more;
    a number too large to round (``1e22``) is a 400, not a 500 (core/api/fields.py)."""

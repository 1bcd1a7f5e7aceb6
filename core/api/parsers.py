"""Request parsers: DRF's, hardened against input that would otherwise be a 500."""

from django.utils.http import parse_header_parameters
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested too deeply (``[[[[...``) is a 400 ``parse_error``.

    ``json`` raises ``RecursionError`` for it, which DRF does not catch (only ``ValueError``).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser; a body that is not a complete multipart document is a 400
    ``parse_error`` instead of an empty or partial request.

    Django's parser is lenient: a body with no part (``--XYZ--``) parses as an empty form,
    and one cut off before its closing delimiter as whatever arrived, so a truncated
    upload could create a half-filled listing. RFC 2046 requires at least one
    part and the closing delimiter; both are checked while Django reads the stream.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        boundary = _boundary(media_type)
        if boundary is None:  # Django's parser reports the missing or invalid boundary
            return super().parse(stream, media_type, parser_context)
        watched = _ClosingDelimiterWatch(stream, b"--" + boundary + b"--")
        result = super().parse(watched, media_type, parser_context)
        if not watched.closed_properly:
            raise ParseError(
                "Multipart form parse error - the body ends before its closing boundary."
            )
        if not result.data and not result.files:
            raise ParseError("Multipart form parse error - the body has no parts.")
        return result


def _boundary(media_type: str | None) -> bytes | None:
    _, params = parse_header_parameters(media_type or "")
    boundary = params.get("boundary")
    if not boundary:
        return None
    try:
        return boundary.encode("ascii")
    except UnicodeEncodeError:
        return None


class _ClosingDelimiterWatch:
    """A read-only stream wrapper noting whether ``delimiter`` went past (Django reads the
    whole body, epilogue included, so a body without it never completes the watch)."""

    def __init__(self, stream, delimiter: bytes):
        self._stream = stream
        self._delimiter = delimiter
        self._tail = b""
        self.closed_properly = False

    def read(self, *args, **kwargs) -> bytes:
        chunk = self._stream.read(*args, **kwargs)
        if chunk and not self.closed_properly:
            window = self._tail + chunk
            self.closed_properly = self._delimiter in window
            self._tail = window[-(len(self._delimiter) - 1) :]
        return chunk

    def __getattr__(self, name):
        return getattr(self._stream, name)

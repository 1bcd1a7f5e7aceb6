"""Request parsers: DRF's, hardened against input that would otherwise be a 500."""

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

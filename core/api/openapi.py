"""OpenAPI schema generation: the documented error responses are the ones the API gives.

drf-standardized-errors documents 400/401/403/404/405/406/415/429/500 per view from its
permissions and parsers (``DRF_STANDARDIZED_ERRORS`` in settings names the serializers
below). The schema fuzzer (tests/test_fuzz_api.py) found what that misses:

* ``code`` is a free string: domain codes (``invalid_dates``, ``token_not_valid``,
  ``bad_authorization_header``, ``invalid_token`` …) are listed in docs/api.md, and the
  per-field enums the package derives from serializers could not name them;
* every unsafe method may answer 403 ``csrf_failed`` (cookie authentication), 409 (a
  conflict with the current state) and 413 (body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``);
* every operation may answer 503 ``service_unavailable`` (database unreachable);
* ``TimeField`` values are ``HH:MM[:SS[.ffffff]]`` without an offset, which OpenAPI's
  ``format: time`` (RFC 3339 full-time) does not allow.

Every limit a field enforces is stated, so that generated clients and the fuzzer send what
the API accepts (issue 20): single-line text refuses control characters and multi-line
text all but newlines and tabs (a ``pattern``); a decimal is digits (never empty or a bare
``-``), without a sign where its minimum is not negative; ``page`` and ``page_size`` have
their bounds. Public reads say that authentication is optional: ``{}`` (anonymous) comes
first among their security requirements.
"""

from drf_spectacular.utils import extend_schema_field
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from rest_framework import serializers

from core.api.fields import MultiLineCharField, SingleLineCharField

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# What core.api.fields refuses, as ECMA-262 patterns (C0/C1 controls, DEL, U+2028/U+2029).
SINGLE_LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$"
MULTI_LINE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
NO_NULL_PATTERN = r"^[^\u0000]*$"
# A required text that DRF trims: at least one character that is not whitespace.
NOT_BLANK_PATTERN = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
_PATTERNED = {"pattern", "format", "enum"}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable code a client can branch on (docs/api.md).")
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True, help_text="The field, e.g. `stay_types.0.kind`.")


class ErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["validation_error", "client_error"])
    errors = ErrorSerializer(many=True)


class ServerErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["server_error"])
    errors = ErrorSerializer(many=True)


@extend_schema_field(
    {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"}
)
class _TimeString(serializers.CharField):
    """Schema stand-in for ``TimeField`` (local time of day, no offset)."""


class AutoSchema(StandardizedErrorsAutoSchema):
    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code in {"409", "413"}:
            return status_code not in responses and self.method in UNSAFE_METHODS
        if status_code == "503":
            return status_code not in responses
        return super()._should_add_error_response(responses, status_code)

    def _should_add_http403_error_response(self) -> bool:
        # Cookie-authenticated unsafe requests without the CSRF header: 403 csrf_failed.
        csrf = self.method in UNSAFE_METHODS and bool(self.view.get_authenticators())
        return csrf or super()._should_add_http403_error_response()

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if isinstance(field, serializers.TimeField):
            field = _TimeString(
                read_only=field.read_only, required=field.required, allow_null=field.allow_null
            )
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and schema.get("type") == "string":
            if isinstance(field, SingleLineCharField) and "pattern" not in schema:
                schema["pattern"] = SINGLE_LINE_PATTERN
            elif isinstance(field, MultiLineCharField) and "pattern" not in schema:
                schema["pattern"] = MULTI_LINE_PATTERN
            elif isinstance(field, serializers.CharField) and not _PATTERNED & set(schema):
                # DRF refuses NUL in any CharField, and "  " where it trims and blanks are
                # refused (fuzz-found on password-reset confirm's uid)
                trimmed = field.trim_whitespace and not field.allow_blank
                schema["pattern"] = NOT_BLANK_PATTERN if trimmed else NO_NULL_PATTERN
        if isinstance(field, serializers.DecimalField) and schema.get("format") == "decimal":
            schema["pattern"] = _decimal_pattern(field)
        email = isinstance(field, serializers.EmailField)
        if email and "format" in schema and _may_be_blank(field):
            # An address or "" (none yet), as ``pending_email`` answers.
            schema = {"oneOf": [schema, {"type": "string", "maxLength": 0}]}
        return schema

    def _get_pagination_parameters(self):
        parameters = super()._get_pagination_parameters()
        paginator = self._get_paginator()
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if parameter["name"] in {"page", "page_size"} and schema.get("type") == "integer":
                schema["minimum"] = 1
                most = getattr(
                    paginator, "max_page_size" if parameter["name"] == "page_size" else "max_page",
                    None,
                )  # fmt: skip
                if most:
                    schema["maximum"] = most
        return parameters

    def get_auth(self):
        # OpenAPI: ``{}`` is "no credentials". Put it first where anonymous reads are allowed,
        # so a client knows the operation needs no authentication (and may take it).
        auth = super().get_auth()
        if auth and {} in auth:
            auth = [{}, *[a for a in auth if a != {}]]
        return auth


def _may_be_blank(field: serializers.Field) -> bool:
    """A field taking "" or, read-only, the copy of a model field with ``blank=True``."""
    if getattr(field, "allow_blank", False):
        return True
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    try:
        return bool(model and model._meta.get_field(field.source).blank)
    except Exception:  # not a model field (a method, a nested source)
        return False


def _decimal_pattern(field: serializers.DecimalField) -> str:
    """What core.api.fields.DecimalField takes as a string: digits with an optional point,
    within ``max_digits``/``decimal_places``, signed only where negatives can pass."""
    places = field.decimal_places
    whole = field.max_whole_digits if field.max_digits is not None else None
    low = field.min_value
    sign = "" if low is not None and low >= 0 else "-?"
    digits = f"\\d{{1,{whole}}}" if whole else "\\d+"
    if whole == 0:
        digits = "0"
    fraction = f"(?:\\.\\d{{1,{places}}})?" if places else ""
    high = field.max_value
    if high is not None and high >= 1 and (low is None or low >= 0 or low == -high):
        return _bounded_decimal_pattern(
            int(high),
            places,
            sign=sign,
            positive=low is not None and low > 0,
            below_one=low is None or low < 1,
        )
    if low is None or low <= 0 or not whole:
        return f"^{sign}{digits}{fraction}$"
    # A positive minimum: no zero. At least 1: a whole part from 1; under 1 (e.g. 0.01):
    # also a fraction with a non-zero digit within the places.
    positive_whole = f"[1-9]\\d{{0,{whole - 1}}}{fraction}"
    if low >= 1 or not places:
        return f"^{positive_whole}$"
    fractions = "|".join(
        f"{'0' * zeros}[1-9]\\d{{0,{places - zeros - 1}}}" for zeros in range(places)
    )
    return f"^(?:{positive_whole}|0?\\.(?:{fractions}))$"


def _positive_fractions(places: int) -> str:
    """``.01`` to ``.99`` (two places): a fraction with a non-zero digit."""
    return "|".join(f"{'0' * zeros}[1-9]\\d{{0,{places - zeros - 1}}}" for zeros in range(places))


def _bounded_decimal_pattern(
    high: int, places: int, *, sign: str, positive: bool, below_one: bool
) -> str:
    """Decimals from 0 (or just above it) to ``high`` (an integer): a whole part below
    ``high`` with any fraction, or ``high`` itself with a zero fraction."""
    below = str(high - 1)
    alternatives = [] if positive else ["0"]
    if len(below) > 1:
        alternatives.append(f"[1-9]\\d{{0,{len(below) - 2}}}")
    for i, digit in enumerate(below):
        lo, hi = (1 if i == 0 else 0), int(digit) - (0 if i == len(below) - 1 else 1)
        if hi >= lo:
            rest = len(below) - i - 1
            alternatives.append(below[:i] + f"[{lo}-{hi}]" + (f"\\d{{{rest}}}" if rest else ""))
    fraction = f"(?:\\.\\d{{1,{places}}})?" if places else ""
    zero_fraction = f"(?:\\.0{{1,{places}}})?" if places else ""
    options = [f"(?:{'|'.join(alternatives)}){fraction}", f"{high}{zero_fraction}"]
    if positive and below_one and places:
        options.append(f"0?\\.(?:{_positive_fractions(places)})")
    return f"^{sign}(?:{'|'.join(options)})$"


# Where a created object goes next: OpenAPI links from the 201 answer to the operations on
# the new object (clients and the stateful fuzzer follow them).
LINKS = {
    "/api/v1/properties/": [
        ("get", "/api/v1/properties/{id}/"), ("patch", "/api/v1/properties/{id}/"),
        ("post", "/api/v1/properties/{id}/photos/"), ("post", "/api/v1/properties/{id}/publish/"),
        ("post", "/api/v1/properties/{id}/blocks/"), ("post", "/api/v1/properties/{id}/rates/"),
        ("get", "/api/v1/properties/{id}/quote/"), ("delete", "/api/v1/properties/{id}/"),
    ],
    "/api/v1/bookings/": [
        ("get", "/api/v1/bookings/{id}/"), ("post", "/api/v1/bookings/{id}/pay/"),
        ("post", "/api/v1/bookings/{id}/approve/"), ("post", "/api/v1/bookings/{id}/decline/"),
        ("post", "/api/v1/bookings/{id}/cancel/"),
    ],
    "/api/v1/negotiations/": [
        ("get", "/api/v1/negotiations/{id}/"), ("get", "/api/v1/negotiations/{id}/events/"),
        ("post", "/api/v1/negotiations/{id}/offers/"),
        ("post", "/api/v1/negotiations/{id}/accept/"),
        ("post", "/api/v1/negotiations/{id}/decline/"),
        ("post", "/api/v1/negotiations/{id}/withdraw/"),
        ("post", "/api/v1/negotiations/{id}/messages/"),
    ],
}  # fmt: skip


def add_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: the links above, on each ``POST`` 201."""
    paths = result.get("paths", {})
    for source, targets in LINKS.items():
        created = paths.get(source, {}).get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        links = created.setdefault("links", {})
        for method, target in targets:
            operation = paths.get(target, {}).get(method)
            if operation is not None:
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {"id": "$response.body#/id"},
                }
    return result


def multipart_has_a_part(result, generator, request, public):
    """drf-spectacular postprocessing hook: a multipart body has at least one part (RFC 2046;
    core.api.parsers refuses one without), so its schema asks for at least one property."""
    schemas = result.get("components", {}).get("schemas", {})
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            content = (operation.get("requestBody") or {}).get("content", {})
            ref = content.get("multipart/form-data", {}).get("schema", {}).get("$ref", "")
            name = ref.rsplit("/", 1)[-1]
            if name in schemas:
                schemas[name]["minProperties"] = 1
    return result

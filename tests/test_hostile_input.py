"""No 500 and no bare error from any input (issue 20).

Each case was seen answering a 500, a bare 400 or the wrong error, or storing what it
should refuse: writes to unknown API paths (403 csrf_failed instead of 404), huge or
malformed numbers in decimal fields (``decimal.InvalidOperation``), empty or truncated
multipart bodies, control characters in single-line fields (``"Loft\\r\\nBcc: ..."``)
and unknown notification kinds. All get a 4xx in the documented error shape. The bare
400 of daphne itself is tested on a real server in tests/test_hostile_input_live.py.
"""

import importlib
import inspect
import pkgutil

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.utils import assert_error
from bookings.tests.factories import client_for, verified_guest
from core.api.fields import RoundedDecimalField
from negotiation.models import ChatMessage
from properties.models import Property
from properties.tests.factories import HostFactory, png_bytes, published_property

pytestmark = pytest.mark.django_db


@pytest.fixture
def host():
    return HostFactory()


@pytest.fixture
def host_client(host):
    return client_for(host)


@pytest.fixture
def listing(host):
    return Property.objects.create(host=host, title="Loft")


# --- Writes to unknown paths --------------------------------------------------------------

UNKNOWN_PATHS = [
    "/api/v1/nope/",
    "/api/v1/propertiez/",
    "/api/v1/properties/abc/",
    "/api/v1/bookings/1/nonsense/",
    "/api/nothing",
]
WRITES = ["post", "put", "patch", "delete"]


def _cookie_client(user) -> APIClient:
    """A browser: the access cookie, CSRF checks on, no CSRF cookie or header."""
    client = APIClient(enforce_csrf_checks=True)
    client.cookies[settings.JWT_ACCESS_COOKIE] = str(AccessToken.for_user(user))
    return client


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("path", UNKNOWN_PATHS)
@pytest.mark.parametrize("auth", ["anonymous", "bearer", "cookie"])
def test_write_to_an_unknown_api_path_is_not_found_not_a_csrf_failure(auth, path, method, host):
    if auth == "bearer":
        client = client_for(host)
        client.handler.enforce_csrf_checks = True
    elif auth == "cookie":
        client = _cookie_client(host)
    else:
        client = APIClient(enforce_csrf_checks=True)
    response = getattr(client, method)(path, {"title": "x"}, format="json")
    assert_error(response, 404, "not_found")


def test_cookie_authenticated_write_to_a_real_endpoint_still_needs_the_csrf_token(host):
    response = _cookie_client(host).post("/api/v1/properties/", {"title": "x"}, format="json")
    assert_error(response, 403, "csrf_failed")
    assert not Property.objects.exists()


# --- Decimal fields -----------------------------------------------------------------------

HOSTILE_NUMBERS = [
    "1e22",
    "-1e22",
    "1e400",
    "1e-400",
    "1E+999999999",
    "NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1" * 40,
    "0." + "1" * 40,
    "1_000",
    "\u0661\u0662",  # Arabic-Indic digits, which Decimal() reads as 12
    "\uff11\uff12",  # full-width digits
    "0x10",
    "1,5",
    "",
    "   ",
    "1e",
    "--1",
    True,
    [],
    {},
]


# Valid numbers with too many decimals, which a rounding field (coordinates) rounds.
ROUNDED = {"1e-400", "0." + "1" * 40}


def test_a_huge_latitude_in_a_patch_is_a_400_not_a_500(host_client, listing):
    response = host_client.patch(f"/api/v1/properties/{listing.pk}/", {"latitude": "1e22"})
    assert_error(response, 400, "max_whole_digits", "latitude")
    listing.refresh_from_db()
    assert listing.latitude is None


def test_an_overflowing_longitude_on_create_is_a_400_not_a_500(host_client):
    response = host_client.post("/api/v1/properties/", {"title": "x", "longitude": "1e400"})
    assert_error(response, 400, "max_whole_digits", "longitude")
    assert not Property.objects.exists()


PROPERTY_DECIMALS = [
    "latitude",
    "longitude",
    "bathrooms",
    "cleaning_fee",
    "weekly_discount_percent",
    "monthly_discount_percent",
    "floor_nightly_price",
    "auto_accept_nightly_price",
]


@pytest.mark.parametrize("value", HOSTILE_NUMBERS, ids=repr)
@pytest.mark.parametrize("field", PROPERTY_DECIMALS)
def test_hostile_numbers_in_listing_fields_are_400s(host_client, listing, field, value):
    nullable = ("latitude", "longitude", "floor_nightly_price", "auto_accept_nightly_price")
    if value in ("", "   ") and field in nullable:
        pytest.skip("blank is null for a nullable field")
    if str(value) in ROUNDED and field in ("latitude", "longitude"):
        pytest.skip("coordinates are rounded to 6 decimals, not refused")
    response = host_client.patch(f"/api/v1/properties/{listing.pk}/", {field: value})
    assert response.status_code == 400, response.content
    assert_error(response, 400, response.json()["errors"][0]["code"], field)


@pytest.mark.parametrize("value", HOSTILE_NUMBERS, ids=repr)
def test_hostile_numbers_in_a_stay_type_price_are_400s(host_client, listing, value):
    body = {"stay_types": [{"kind": "standard", "nightly_price": value}]}
    response = host_client.patch(f"/api/v1/properties/{listing.pk}/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"


@pytest.mark.parametrize("value", [v for v in HOSTILE_NUMBERS if isinstance(v, str)], ids=repr)
@pytest.mark.parametrize("param", ["min_price", "max_price", "lat"])
def test_hostile_numbers_in_search_parameters_are_never_a_5xx(param, value):
    query = {param: value}
    if param == "lat":
        query.update(lng="2.35", radius_km="5")
    response = APIClient().get("/api/v1/properties/", query)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["type"] == "validation_error"


def test_negative_zero_is_stored_as_zero(host_client, listing):
    response = host_client.patch(
        f"/api/v1/properties/{listing.pk}/", {"cleaning_fee": "-0", "latitude": "-0.0000001"}
    )
    assert response.status_code == 200, response.content
    listing.refresh_from_db()
    assert str(listing.cleaning_fee) == "0.00"
    assert str(listing.latitude) == "0E-6" or str(listing.latitude) == "0.000000"
    assert not str(listing.latitude).startswith("-")


def _input_serializer_names() -> set[str]:
    """Serializers of request bodies (the schema's ``...Request`` components) and of query
    parameters (``...Params``)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        name.removeprefix("Patched").removesuffix("Request") + "Serializer"
        for name in schema["components"]["schemas"]
        if name.endswith("Request")
    }


def _writable_decimal_fields():
    """Every decimal field a client can write, in every API input serializer (nested too)."""
    inputs = _input_serializer_names()
    found = {}
    modules = [
        info.name
        for app in ("accounts", "bookings", "negotiation", "notifications", "properties")
        for info in pkgutil.walk_packages(
            importlib.import_module(f"{app}.api").__path__, prefix=f"{app}.api."
        )
    ]
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name, cls in vars(module).items():
            if not (inspect.isclass(cls) and issubclass(cls, serializers.Serializer)):
                continue
            if cls.__module__ != module_name:
                continue
            if name not in inputs and not name.endswith(("Params", "ParamsSerializer")):
                continue
            _collect(cls().fields, f"{module_name}.{name}", found)
    return found


def _collect(fields, prefix, found):
    for field_name, field in fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.ListSerializer):
            field = field.child
        if isinstance(field, serializers.Serializer):
            _collect(field.fields, f"{prefix}.{field_name}", found)
        elif isinstance(field, serializers.DecimalField):
            found[f"{prefix}.{field_name}"] = field


DECIMAL_FIELDS = _writable_decimal_fields()


def test_the_audit_finds_the_decimal_fields():
    names = " ".join(DECIMAL_FIELDS)
    for expected in ("latitude", "cleaning_fee", "nightly_price", "amount", "expected_total"):
        assert expected in names


@pytest.mark.parametrize("name", sorted(DECIMAL_FIELDS))
def test_every_writable_decimal_field_refuses_hostile_numbers_cleanly(name):
    field = DECIMAL_FIELDS[name]
    for value in HOSTILE_NUMBERS:
        if value in ("", "   ") and (field.allow_null or not field.required):
            continue
        if isinstance(field, RoundedDecimalField) and str(value) in ROUNDED:
            continue
        with pytest.raises(serializers.ValidationError):
            field.run_validation(value)
    try:
        zero = field.run_validation("-0")
    except serializers.ValidationError:
        return  # zero is below its minimum
    assert not zero.is_signed()


# --- Multipart and form bodies -------------------------------------------------------------

EMPTY_MULTIPART = b"--XYZ--"
TRUNCATED_MULTIPART = b'--XYZ\r\nContent-Disposition: form-data; name="caption"\r\n\r\nLoft'
MULTIPART = "multipart/form-data; boundary=XYZ"


def _photos(listing) -> str:
    """The photo upload: one of the endpoints that take multipart (a file)."""
    return f"/api/v1/properties/{listing.pk}/photos/"


@pytest.mark.parametrize(
    "body", [EMPTY_MULTIPART, EMPTY_MULTIPART + b"\r\n", TRUNCATED_MULTIPART], ids=repr
)
def test_an_empty_or_truncated_multipart_body_is_a_parse_error(host_client, listing, body):
    response = host_client.generic("POST", _photos(listing), body, content_type=MULTIPART)
    assert_error(response, 400, "parse_error")
    assert response["X-Request-ID"]
    assert not listing.photos.exists()


def test_a_complete_multipart_body_still_works(host_client, listing):
    body = (
        b'--XYZ\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + png_bytes() + b"\r\n"
        b'--XYZ\r\nContent-Disposition: form-data; name="caption"\r\n\r\nLoft\r\n'
        b"--XYZ--\r\nepilogue, ignored"
    )
    response = host_client.generic("POST", _photos(listing), body, content_type=MULTIPART)
    assert response.status_code == 201, response.content
    assert listing.photos.get().caption == "Loft"


def test_a_multipart_body_without_a_boundary_is_a_parse_error(host_client, listing):
    response = host_client.generic(
        "POST", _photos(listing), EMPTY_MULTIPART, content_type="multipart/form-data"
    )
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("content_type", [MULTIPART, "application/x-www-form-urlencoded"])
def test_a_form_or_multipart_body_to_a_json_endpoint_is_415(host_client, content_type):
    body = b'--XYZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nLoft\r\n--XYZ--'
    if "urlencoded" in content_type:
        body = b"title=Loft"
    response = host_client.generic("POST", "/api/v1/properties/", body, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert not Property.objects.exists()


# --- Control characters ----------------------------------------------------------------------

INJECTIONS = [
    "Loft\r\nBcc: victim@example.com",
    "Loft\nBcc: victim@example.com",
    "Loft\rX",
    "Loft\tX",
    "Loft\x1b[31mX",
    "Loft\x7fX",
    "Loft\x85X",
    "Loft\u2028X",
    "Loft\u2029X",
]


@pytest.mark.parametrize("value", INJECTIONS, ids=repr)
@pytest.mark.parametrize("field", ["title", "city", "address", "neighbourhood"])
def test_control_characters_in_single_line_listing_fields_are_refused(
    host_client, listing, field, value
):
    response = host_client.patch(f"/api/v1/properties/{listing.pk}/", {field: value})
    assert_error(response, 400, "control_characters", field)
    listing.refresh_from_db()
    assert "Bcc" not in getattr(listing, field)


@pytest.mark.parametrize("value", INJECTIONS, ids=repr)
def test_control_characters_in_a_title_are_refused_on_create_too(host_client, value):
    response = host_client.post("/api/v1/properties/", {"title": value})
    assert_error(response, 400, "control_characters", "title")
    assert not Property.objects.exists()


@pytest.mark.parametrize("value", INJECTIONS, ids=repr)
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_control_characters_in_names_are_refused(field, value):
    user = verified_guest()
    response = client_for(user).patch("/api/v1/auth/me/", {field: value})
    assert_error(response, 400, "control_characters", field)
    user.refresh_from_db()
    assert "Bcc" not in getattr(user, field)


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_control_characters_in_names_are_refused_at_registration(field):
    response = APIClient().post(
        "/api/v1/auth/register/",
        {
            "email": "new@example.com",
            "password": "correct-horse-battery-staple",
            field: "Eve\r\nBcc: victim@example.com",
        },
    )
    assert_error(response, 400, "control_characters", field)


def test_multi_line_fields_keep_newlines_and_tabs(host_client, listing):
    text = "Line one\r\nLine two\n\tindented\rthree"
    response = host_client.patch(
        f"/api/v1/properties/{listing.pk}/", {"description": text, "house_rules": text}
    )
    assert response.status_code == 200, response.content
    listing.refresh_from_db()
    assert listing.description == "Line one\nLine two\n\tindented\nthree"
    assert listing.house_rules == listing.description


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x0b", "\x0c", "\x7f", "\x9b"], ids=repr)
@pytest.mark.parametrize("field", ["description", "house_rules"])
def test_multi_line_fields_refuse_other_control_characters(host_client, listing, field, char):
    response = host_client.patch(f"/api/v1/properties/{listing.pk}/", {field: f"a{char}b"})
    assert_error(response, 400, "control_characters", field)


def test_a_negotiation_message_keeps_newlines_and_refuses_other_controls():
    prop = published_property(accepts_offers=True)
    guest = verified_guest()
    client = client_for(guest)
    from datetime import timedelta

    from django.utils import timezone

    day = timezone.now().date()
    opened = client.post(
        "/api/v1/negotiations/",
        {
            "property": prop.pk,
            "check_in": str(day + timedelta(days=20)),
            "check_out": str(day + timedelta(days=23)),
            "guests": 1,
            "stay_type": "standard",
            "message": "Hello\x1b[2J",
        },
    )
    assert_error(opened, 400, "control_characters", "message")
    opened = client.post(
        "/api/v1/negotiations/",
        {
            "property": prop.pk,
            "check_in": str(day + timedelta(days=20)),
            "check_out": str(day + timedelta(days=23)),
            "guests": 1,
            "stay_type": "standard",
            "message": "Hello,\r\nare pets fine?",
        },
    )
    assert opened.status_code == 201, opened.content
    assert ChatMessage.objects.get().body == "Hello,\nare pets fine?"


# --- Notification preferences ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "no.such.kind", "email": False},
        {"kind": "booking.confirmedx", "email": True},
        {"kind": "", "email": False},
    ],
)
def test_an_unknown_notification_kind_is_a_400(body):
    client = client_for(verified_guest())
    response = client.put("/api/v1/notifications/preferences/", body)
    assert_error(response, 400, "invalid_choice", "kind")
    assert client.get("/api/v1/notifications/preferences/").json() == []


def test_a_form_preference_is_refused_not_taken_as_email_off():
    client = client_for(verified_guest())
    response = client.put(
        "/api/v1/notifications/preferences/",
        "kind=booking.confirmed",
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(response, 415, "unsupported_media_type")
    assert client.get("/api/v1/notifications/preferences/").json() == []

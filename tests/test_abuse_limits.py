"""Abuse limits (OWASP API4, unrestricted resource consumption), each hit and answered in
the documented error shape. Login, registration and per-email password-reset throttles are
in accounts/tests/test_throttles.py, a JSON body over the limit in tests/test_errors.py,
too many photos and pixel bombs in properties/tests/test_api.py, the bookings and search
page caps in their apps' tests; this file covers the rest."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import AsyncClient
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import png_upload as small_png
from accounts.tests.utils import assert_error
from bookings.tests.factories import bookable_property, client_for, verified_guest
from negotiation import services as negotiation_services
from properties.tests.factories import png_upload

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()


def assert_throttled(response):
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def _booking_body(prop, days):
    return {
        "property": prop.pk,
        "check_in": str(TODAY + timedelta(days=days)),
        "check_out": str(TODAY + timedelta(days=days + 2)),
        "guests": 2,
        "stay_type": "standard",
    }


def test_booking_creation_beyond_the_per_user_limit_is_429(rates):
    rates(bookings="3/min")
    prop = bookable_property(instant_book=True)
    client = client_for(verified_guest())

    statuses = [
        client.post("/api/v1/bookings/", _booking_body(prop, 20 + 3 * i)).status_code
        for i in range(3)
    ]
    response = client.post("/api/v1/bookings/", _booking_body(prop, 40))

    assert statuses == [201, 201, 201]
    assert_throttled(response)
    # Reads do not count against the write limit, and other users have their own.
    assert client.get("/api/v1/bookings/").status_code == 200
    other = client_for(verified_guest()).post("/api/v1/bookings/", _booking_body(prop, 50))
    assert other.status_code == 201


@pytest.fixture
def negotiation():
    prop = bookable_property(nightly="100.00", accepts_offers=True)
    return negotiation_services.negotiation_open(
        guest=verified_guest(), property_id=prop.pk, check_in=TODAY + timedelta(days=20),
        check_out=TODAY + timedelta(days=23), guests=2, stay_type="standard",
        amount=Decimal("250.00"),
    ).negotiation  # fmt: skip


def test_negotiation_messages_beyond_the_per_user_limit_are_429(rates, negotiation):
    rates(negotiation="4/min")
    client = client_for(negotiation.guest)
    url = f"/api/v1/negotiations/{negotiation.pk}/messages/"

    statuses = [client.post(url, {"body": f"Hello {i}"}).status_code for i in range(4)]

    assert statuses == [201] * 4
    assert_throttled(client.post(url, {"body": "One more"}))
    assert client.get(f"/api/v1/negotiations/{negotiation.pk}/").status_code == 200
    # The host has a budget of their own.
    assert client_for(negotiation.property.host).post(url, {"body": "Hi"}).status_code == 201


def test_offers_share_the_negotiation_limit_with_messages(rates, negotiation):
    rates(negotiation="2/min")
    host = client_for(negotiation.property.host)
    base = f"/api/v1/negotiations/{negotiation.pk}/"

    assert host.post(base + "messages/", {"body": "Let me think"}).status_code == 201
    assert host.post(base + "offers/", {"amount": "290.00"}).status_code == 200
    assert_throttled(host.post(base + "offers/", {"amount": "280.00"}))


def test_opening_negotiations_counts_against_the_negotiation_limit(rates):
    rates(negotiation="1/min")
    prop = bookable_property(nightly="100.00", accepts_offers=True)
    client = client_for(verified_guest())

    def open_(days):
        body = {**_booking_body(prop, days), "amount": "150.00"}
        return client.post("/api/v1/negotiations/", body)

    assert open_(20).status_code == 201
    assert_throttled(open_(30))


def test_password_reset_beyond_the_per_ip_limit_is_429_whatever_the_email(rates):
    rates(password_reset_ip="3/min", password_reset_email="100/min")
    client = APIClient()
    for i in range(3):
        response = client.post("/api/v1/auth/password-reset/", {"email": f"u{i}@example.com"})
        assert response.status_code == 202
    response = client.post("/api/v1/auth/password-reset/", {"email": "u9@example.com"})

    assert_throttled(response)


async def test_body_over_the_limit_is_413_through_the_asgi_handler(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = AsyncClient()

    response = await client.post(
        "/api/v1/auth/register/",
        {"email": "big@example.com", "password": "x" * 4096},
        content_type="application/json",
    )

    assert_error(response, 413, "payload_too_large")


@pytest.mark.django_db
def test_multipart_fields_over_the_limit_are_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    prop = bookable_property()

    response = client_for(prop.host).post(
        f"/api/v1/properties/{prop.pk}/photos/",
        {"image": png_upload(), "caption": "x" * 4096},
        format="multipart",
    )

    assert_error(response, 413, "payload_too_large")


PAGINATED = [
    "/api/v1/negotiations/",
    "/api/v1/notifications/",
    "/api/v1/properties/mine/",
    "/api/v1/auth/me/documents/",
    "/api/v1/properties/{property}/reviews/",
]


@pytest.mark.parametrize("path", PAGINATED)
def test_page_size_over_the_cap_is_400_on_every_list(path):
    prop = bookable_property()
    client = client_for(prop.host)
    url = path.format(property=prop.pk)

    assert client.get(url, {"page_size": 100}).status_code == 200
    assert_error(client.get(url, {"page_size": 101}), 400, "max_value", "page_size")
    assert_error(client.get(url, {"page_size": 0}), 400, "min_value", "page_size")


def test_photo_over_the_byte_limit_is_400_file_too_large(settings):
    settings.PHOTO_MAX_BYTES = 100
    prop = bookable_property()

    response = client_for(prop.host).post(
        f"/api/v1/properties/{prop.pk}/photos/", {"image": png_upload()}, format="multipart"
    )

    assert_error(response, 400, "file_too_large", "image")
    assert prop.photos.count() == 0


def test_identity_document_over_the_byte_limit_is_400_file_too_large(settings):
    settings.DOCUMENT_MAX_BYTES = 40
    user = verified_guest()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")

    response = client.post(
        "/api/v1/auth/me/documents/",
        {"kind": "passport", "number": "X123", "image": small_png()},
        format="multipart",
    )

    assert_error(response, 400, "file_too_large", "image")

"""Regression tests for the bugs the HTTP API fuzzer found (docs/robustness.md)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accounts.tests.utils import assert_error
from bookings import services as booking_services
from bookings.tests.factories import bookable_property, client_for, verified_guest
from properties.models import Property
from properties.tests.factories import HostFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()


def test_notification_preference_without_email_is_400_not_500():
    client = client_for(verified_guest())

    response = client.put("/api/v1/notifications/preferences/", {"kind": "booking.confirmed"})

    assert_error(response, 400, "required", "email")


def test_ical_export_with_a_non_ascii_token_is_404_not_500():
    prop = bookable_property()

    response = client_for(prop.host).get(f"/api/v1/properties/{prop.pk}/calendar.ics?token=é")

    assert_error(response, 404, "not_found")


def test_patching_a_stay_type_without_its_kind_is_400_not_500():
    prop = bookable_property()

    response = client_for(prop.host).patch(
        f"/api/v1/properties/{prop.pk}/", {"stay_types": [{"nightly_price": "90.00"}]}
    )

    assert_error(response, 400, "required", "stay_types.0.kind")


def test_analytics_of_a_host_without_listings_is_all_zero_not_500():
    response = client_for(HostFactory()).get(
        "/api/v1/host/analytics/", {"start": TODAY, "end": TODAY + timedelta(days=30)}
    )

    assert response.status_code == 200, response.content
    assert response.json()["overall"] == []  # one row per currency: none without listings
    assert response.json()["properties"] == []


def test_host_approving_a_booking_awaiting_payment_is_409_not_500():
    prop = bookable_property(instant_book=True)
    booking, _ = booking_services.booking_create(
        guest=verified_guest(), property_id=prop.pk, check_in=TODAY + timedelta(days=20),
        check_out=TODAY + timedelta(days=23), guests=2, stay_type="standard",
    )  # fmt: skip
    assert booking.status == "awaiting_payment"

    response = client_for(prop.host).post(f"/api/v1/bookings/{booking.pk}/approve/")

    assert_error(response, 409, "invalid_transition")


def test_cancel_response_schema_is_the_booking_with_its_refund():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/bookings/{id}/cancel/"]["post"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]

    assert {"id", "status", "total", "refund"} <= set(component["properties"])
    assert {"409", "413", "503"} <= set(operation["responses"])
    # The refund is made after the cancellation commits (retried by the reconciliation
    # sweep if the gateway fails): a cancellation never answers 502.
    assert "502" not in operation["responses"]


@pytest.mark.parametrize(
    ("path", "body", "attr"),
    [
        ("/api/v1/bookings/", {"property": 2**70}, "property"),
        ("/api/v1/negotiations/", {"property": 2**70}, "property"),
        ("/api/v1/notifications/read/", {"ids": [2**70]}, "ids.0"),
    ],
)
def test_ids_beyond_64_bits_are_400_not_500_on_sqlite(path, body, attr):
    stay = {
        "check_in": str(TODAY + timedelta(days=20)),
        "check_out": str(TODAY + timedelta(days=22)),
    }
    body = {**stay, "guests": 1, "stay_type": "standard", **body}

    response = client_for(verified_guest()).post(path, body)

    assert_error(response, 400, "max_value", attr)


def test_a_multipart_body_with_too_many_fields_is_400_not_500(settings):
    # Only the upload endpoints parse multipart (every other one answers 415).
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    host = HostFactory()
    prop = Property.objects.create(host=host, title="Loft")
    fields = "".join(
        f'--XYZ\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n{i}\r\n' for i in range(20)
    )
    response = client_for(host).generic(
        "POST", f"/api/v1/properties/{prop.pk}/photos/", (fields + "--XYZ--").encode(),
        content_type="multipart/form-data; boundary=XYZ",
    )  # fmt: skip

    assert_error(response, 400, "too_many_fields")

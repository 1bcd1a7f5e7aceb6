"""Bad input anywhere gets the documented error shape, never a 500; every response has an id."""

import logging

import pytest
from django.db import OperationalError
from django.test import RequestFactory
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from accounts.tests.utils import assert_error
from core.api import errors
from core.request_id import RequestIdFilter

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
GOOD = {"email": "someone@example.com", "password": "plum-orchard-41-lantern"}


@pytest.fixture
def client() -> APIClient:
    # a 500 must come back as a response, as a real server would send it
    return APIClient(raise_request_exception=False)


def _post_raw(client, body: bytes, content_type: str = "application/json"):
    return client.generic("POST", REGISTER, body, content_type=content_type)


def test_missing_fields_are_400_with_one_error_per_field(client):
    body = assert_error(client.post(REGISTER, {}), 400, "required", "email")

    assert body["type"] == "validation_error"
    assert {(e["code"], e["attr"]) for e in body["errors"]} == {
        ("required", "email"),
        ("required", "password"),
    }


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({**GOOD, "email": 12}, "email"),
        ({**GOOD, "email": ["a@example.com"]}, "email"),
        ({**GOOD, "password": {"nested": "object"}}, "password"),
        ({**GOOD, "first_name": ["list"]}, "first_name"),
        ({**GOOD, "first_name": "x" * 151}, "first_name"),
    ],
)
def test_wrong_types_are_400_naming_the_field(client, payload, attr):
    response = client.post(REGISTER, payload)

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [error["attr"] for error in body["errors"]] == [attr]


@pytest.mark.parametrize(
    "raw",
    [b'{"email": ', b"{'email': 'single quotes'}", b'{"email": "\xff"}', b"NaN", b"[" * 50_000],
    ids=["truncated", "single-quotes", "bad-utf8", "nan", "nested-too-deeply"],
)
def test_malformed_json_is_400_parse_error(client, raw):
    assert_error(_post_raw(client, raw), 400, "parse_error")


@pytest.mark.parametrize("raw", [b"null", b"[1, 2]", b'"a string"', b"42"])
def test_json_that_is_not_an_object_is_400(client, raw):
    response = _post_raw(client, raw)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_multipart_to_a_json_endpoint_is_415(client):
    # every endpoint takes JSON only, but the uploads (photos, avatar, identity documents)
    response = client.generic(
        "POST", "/api/v1/auth/verify-email/", b"--x\r\n", content_type="multipart/form-data"
    )

    assert_error(response, 415, "unsupported_media_type")


def test_register_with_a_form_body_is_415(client):
    response = _post_raw(client, b"--x\r\n", "multipart/form-data")

    assert_error(response, 415, "unsupported_media_type")


def test_unsupported_content_type_is_415(client):
    response = _post_raw(client, b"email=a@example.com", "text/plain")

    assert_error(response, 415, "unsupported_media_type")


def test_wrong_method_is_405(client):
    response = client.get(REGISTER)

    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-thing/", "/api/v2/auth/me/", "/api/v1/auth/me", "/nowhere"]
)
def test_unknown_paths_are_404_json(client, path):
    response = client.get(path)

    assert response["Content-Type"] == "application/json"
    assert_error(response, 404, "not_found")


def test_body_over_the_upload_limit_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    payload = {**GOOD, "first_name": "x" * 2048}

    assert_error(client.post(REGISTER, payload), 413, "payload_too_large")


def test_unreachable_database_is_503_with_retry_after():
    class DatabaseDownView(APIView):
        permission_classes: list = []

        def get(self, request):
            raise OperationalError("could not connect to server: Connection refused")

    response = DatabaseDownView.as_view()(APIRequestFactory().get("/"))

    assert response.status_code == 503
    assert response.data["type"] == "server_error"
    assert [e["code"] for e in response.data["errors"]] == ["service_unavailable"]
    assert response["Retry-After"] == "5"


def test_django_level_handlers_answer_in_the_same_shape():
    request = RequestFactory().get("/")

    for response, status, code in [
        (errors.handler400(request), 400, "bad_request"),
        (errors.handler403(request), 403, "permission_denied"),
        (errors.handler404(request), 404, "not_found"),
        (errors.handler500(request), 500, "error"),
        (errors.csrf_failure(request, reason="CSRF cookie not set."), 403, "csrf_failed"),
    ]:
        assert_error(response, status, code)


def test_unhandled_error_in_a_view_is_500_in_the_documented_shape():
    class BrokenView(APIView):
        permission_classes: list = []

        def get(self, request):
            raise ZeroDivisionError

    response = BrokenView.as_view()(APIRequestFactory().get("/"))

    assert response.status_code == 500
    assert response.data["type"] == "server_error"


# --- request ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/healthz", 200),
        ("get", "/api/v1/auth/me/", 401),
        ("get", "/api/v1/nope/", 404),
        ("get", REGISTER, 405),
        ("post", REGISTER, 400),
    ],
)
def test_every_response_has_a_request_id(client, method, path, status):
    response = getattr(client, method)(path)

    assert response.status_code == status
    assert len(response["X-Request-ID"]) == 32


def test_request_ids_differ_between_requests(client):
    ids = {client.get("/healthz")["X-Request-ID"] for _ in range(3)}

    assert len(ids) == 3


def test_a_sane_incoming_request_id_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="edge-7f3a.b_9")

    assert response["X-Request-ID"] == "edge-7f3a.b_9"


@pytest.mark.parametrize("incoming", ["abc\n", "has space", "x" * 65, "semi;colon", ""], ids=repr)
def test_an_insane_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert response.status_code == 200
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


def test_error_log_lines_carry_the_request_id(client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/api/v1/nope/", HTTP_X_REQUEST_ID="trace-404")

    (record,) = [r for r in caplog.records if r.name == "django.request"]
    RequestIdFilter().filter(record)
    assert record.request_id == "trace-404"

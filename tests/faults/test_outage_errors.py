"""Backing-service outages are 503 ``service_unavailable`` in the documented shape, with
``Retry-After``, inside DRF views and outside them (``handler500``); other errors stay 500.
In-process counterparts of the Redis and PostgreSQL outage scenarios."""

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from bookings.tests.factories import client_for, verified_guest
from core.api import errors

OUTAGES = [
    OperationalError("server closed the connection unexpectedly"),
    InterfaceError("connection already closed"),
    RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    RedisTimeoutError("Timeout reading from socket"),
    BrokerError("[Errno 111] Connection refused"),
]


def _assert_503(status, body, retry_after):
    assert status == 503
    assert body["type"] == "server_error"
    assert [e["code"] for e in body["errors"]] == ["service_unavailable"]
    assert retry_after == "5"


@pytest.mark.parametrize("exc", OUTAGES, ids=lambda e: type(e).__module__ + "." + type(e).__name__)
def test_an_outage_in_a_drf_view_is_503(exc):
    class DownView(APIView):
        permission_classes: list = []

        def get(self, request):
            raise exc

    response = DownView.as_view()(APIRequestFactory().get("/"))
    _assert_503(response.status_code, response.data, response["Retry-After"])


@pytest.mark.parametrize("exc", OUTAGES, ids=lambda e: type(e).__module__ + "." + type(e).__name__)
def test_an_outage_outside_drf_is_503_through_handler500(exc):
    import json

    request = RequestFactory().get("/")
    try:
        raise exc
    except Exception:  # Django calls handler500 inside its except block
        response = errors.handler500(request)
    _assert_503(response.status_code, json.loads(response.content), response["Retry-After"])


def test_any_other_error_outside_drf_stays_500():
    request = RequestFactory().get("/")
    try:
        raise ZeroDivisionError
    except ZeroDivisionError:
        response = errors.handler500(request)
    assert response.status_code == 500


@pytest.fixture
def throttle_cache_down(monkeypatch):
    def down(self, request, view):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("rest_framework.throttling.SimpleRateThrottle.allow_request", down)


@pytest.mark.django_db
def test_the_general_throttles_fail_open_when_their_cache_is_unreachable(throttle_cache_down):
    response = client_for(verified_guest()).get("/api/v1/auth/me/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_the_login_throttles_fail_closed_with_503_not_500(throttle_cache_down):
    from rest_framework.test import APIClient

    response = APIClient().post(
        "/api/v1/auth/token/", {"email": "a@example.com", "password": "x"}, format="json"
    )
    _assert_503(response.status_code, response.json(), response["Retry-After"])

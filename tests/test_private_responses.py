"""Personal API answers are never kept by a cache (issue 18): ``Cache-Control: no-store``
on every authenticated answer and every token answer, ``Vary: Authorization, Cookie`` on
API answers, and public reads stay cacheable."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import PASSWORD, UserFactory
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def _varies_by_user(response) -> bool:
    vary = {part.strip().lower() for part in response.get("Vary", "").split(",")}
    return {"authorization", "cookie"} <= vary


@pytest.fixture
def bearer():
    user = UserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/me/",
        "/api/v1/auth/me/documents/",
        "/api/v1/bookings/",
        "/api/v1/negotiations/",
        "/api/v1/notifications/",
        "/api/v1/properties/mine/",
    ],
)
def test_authenticated_answers_are_no_store_and_vary_by_user(bearer, path):
    response = bearer.get(path)

    assert response.status_code in {200, 403}, response.content  # mine/: not a host
    assert _no_store(response)
    assert _varies_by_user(response)


def test_cookie_authenticated_answers_are_no_store():
    user = UserFactory()
    client = APIClient()
    client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD})

    response = client.get("/api/v1/auth/me/")

    assert response.status_code == 200 and _no_store(response)


def test_token_refresh_logout_and_ticket_answers_are_no_store(bearer):
    user = UserFactory()
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD})
    refresh = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": token.json()["refresh"]})
    ticket = bearer.post("/api/v1/auth/ws-ticket/")
    logout = APIClient().post("/api/v1/auth/logout/", {})
    refused = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": "nope"})

    for response in (token, refresh, ticket, logout):
        assert response.status_code in {200, 201, 204}, response.content
        assert _no_store(response)
    assert refused.status_code == 401 and _varies_by_user(refused)


def test_public_reads_vary_by_user_but_stay_cacheable():
    prop = PropertyFactory()

    response = APIClient().get(f"/api/v1/properties/{prop.pk}/")

    assert response.status_code == 200
    assert not _no_store(response)
    assert _varies_by_user(response)

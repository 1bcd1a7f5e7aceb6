"""No login CSRF: the endpoints that set or change a login take JSON only and refuse a
foreign ``Origin`` (issue 18). The Chromium version is tests/e2e/test_login_csrf.py."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.utils import assert_error

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
REGISTER = "/api/v1/auth/register/"
RESET = "/api/v1/auth/password-reset/"
RESET_CONFIRM = "/api/v1/auth/password-reset/confirm/"

BODIES = {
    TOKEN: {"email": "attacker@example.com", "password": PASSWORD},
    REFRESH: {"refresh": "x"},
    REGISTER: {"email": "new@example.com", "password": "a-long-unusual-phrase-9"},
    RESET: {"email": "attacker@example.com"},
    RESET_CONFIRM: {"uid": "MQ", "token": "x", "new_password": "a-long-unusual-phrase-9"},
}


@pytest.mark.parametrize("path", list(BODIES))
@pytest.mark.parametrize("form_format", ["multipart", "urlencoded"])
def test_auth_endpoints_refuse_form_bodies_with_415(path, form_format):
    client = APIClient(enforce_csrf_checks=True)
    if form_format == "multipart":
        response = client.post(path, BODIES[path], format="multipart")
    else:
        from urllib.parse import urlencode

        response = client.generic(
            "POST", path, urlencode(BODIES[path]), "application/x-www-form-urlencoded"
        )

    assert_error(response, 415, "unsupported_media_type")
    assert "parley_access" not in response.cookies


def test_login_with_a_text_plain_body_shaped_like_json_is_415():
    """``<form enctype="text/plain">`` can make a body that parses as JSON."""
    user = UserFactory(email="attacker@example.com")
    body = f'{{"email": "{user.email}", "password": "{PASSWORD}", "x": "="}}'

    response = APIClient().generic("POST", TOKEN, body, "text/plain")

    assert_error(response, 415, "unsupported_media_type")
    assert "parley_access" not in response.cookies


def test_form_login_from_another_site_sets_no_cookies():
    """The finding: a cross-site form POST with the attacker's credentials logged the
    victim's browser in as the attacker."""
    UserFactory(email="attacker@example.com")
    client = APIClient()

    response = client.generic(
        "POST",
        TOKEN,
        f"email=attacker%40example.com&password={PASSWORD}",
        "application/x-www-form-urlencoded",
        HTTP_ORIGIN="http://evil.example",
    )

    assert response.status_code in {403, 415}
    assert not {"parley_access", "parley_refresh"} & set(response.cookies)


@pytest.mark.parametrize("path", list(BODIES))
@pytest.mark.parametrize("origin", ["http://evil.example", "null", "https://testserver"])
def test_auth_endpoints_refuse_a_foreign_origin_with_403(path, origin):
    UserFactory(email="attacker@example.com")

    response = APIClient().post(path, BODIES[path], format="json", HTTP_ORIGIN=origin)

    assert_error(response, 403, "origin_not_allowed")
    assert "parley_access" not in response.cookies


def test_login_from_the_same_origin_or_without_origin_works():
    user = UserFactory()
    body = {"email": user.email, "password": PASSWORD}

    same = APIClient().post(TOKEN, body, format="json", HTTP_ORIGIN="http://testserver")
    no_origin = APIClient().post(TOKEN, body, format="json")

    assert same.status_code == 200 and "parley_access" in same.cookies
    assert no_origin.status_code == 200


def test_login_from_a_trusted_origin_works(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.parley.example"]
    user = UserFactory()

    response = APIClient().post(
        TOKEN,
        {"email": user.email, "password": PASSWORD},
        format="json",
        HTTP_ORIGIN="https://app.parley.example",
    )

    assert response.status_code == 200

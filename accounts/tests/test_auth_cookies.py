"""Login, refresh rotation, logout and the cookie + CSRF browser flow (auth/token/...)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.utils import assert_error, csrf_header, login

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"


def test_login_returns_tokens_and_user_and_sets_httponly_lax_cookies(csrf_client, user, password):
    response = csrf_client.post(TOKEN, {"email": user.email, "password": password})

    assert response.status_code == 200
    body = response.json()
    assert body["access"] and body["refresh"]
    assert body["user"]["id"] == user.pk
    assert body["user"]["email"] == user.email
    access, refresh = response.cookies["parley_access"], response.cookies["parley_refresh"]
    assert access.value == body["access"]
    assert refresh.value == body["refresh"]
    for cookie in (access, refresh):
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
    assert access["path"] == "/"
    assert refresh["path"] == "/api/v1/auth/"
    csrf = response.cookies["csrftoken"]
    assert csrf.value
    assert not csrf["httponly"]  # the browser client must read it


def test_login_email_is_case_insensitive(api_client, password):
    user = UserFactory(email="mixed@example.com")

    response = api_client.post(TOKEN, {"email": "MiXeD@Example.com", "password": password})

    assert response.status_code == 200
    assert response.json()["user"]["id"] == user.pk


def test_login_with_wrong_password_is_401_invalid_credentials(api_client, user):
    response = api_client.post(TOKEN, {"email": user.email, "password": "not-the-password"})

    assert_error(response, 401, "invalid_credentials")
    assert "parley_access" not in response.cookies


def test_login_with_unknown_email_is_401_invalid_credentials(api_client, password):
    response = api_client.post(TOKEN, {"email": "nobody@example.com", "password": password})

    assert_error(response, 401, "invalid_credentials")


def test_inactive_user_cannot_log_in(api_client, password):
    user = UserFactory(is_active=False)

    response = api_client.post(TOKEN, {"email": user.email, "password": password})

    assert_error(response, 401, "invalid_credentials")


def test_unverified_user_can_log_in(api_client, password):
    user = UserFactory(unverified=True)

    response = api_client.post(TOKEN, {"email": user.email, "password": password})

    assert response.status_code == 200
    assert response.json()["user"]["email_verified"] is False


def test_login_without_password_is_400_naming_the_field(api_client, user):
    response = api_client.post(TOKEN, {"email": user.email})

    assert_error(response, 400, "required", "password")


def test_access_token_from_login_works_as_bearer(api_client, user, password):
    access = login(api_client, user.email, password).json()["access"]
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    response = bearer.get(ME)

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_refresh_rotates_and_the_old_refresh_token_is_then_rejected(api_client, user, password):
    old = login(api_client, user.email, password).json()["refresh"]
    client = APIClient()

    rotated = client.post(REFRESH, {"refresh": old})

    assert rotated.status_code == 200
    new_pair = rotated.json()
    assert new_pair["access"] and new_pair["refresh"]
    assert new_pair["refresh"] != old
    assert rotated.cookies["parley_refresh"].value == new_pair["refresh"]
    assert_error(client.post(REFRESH, {"refresh": old}), 401, "token_not_valid")
    assert client.post(REFRESH, {"refresh": new_pair["refresh"]}).status_code == 200


def test_refresh_with_a_garbled_token_is_401(api_client):
    assert_error(api_client.post(REFRESH, {"refresh": "not.a.jwt"}), 401, "token_not_valid")


def test_refresh_with_an_access_token_is_401(api_client, user, password):
    access = login(api_client, user.email, password).json()["access"]

    assert_error(APIClient().post(REFRESH, {"refresh": access}), 401, "token_not_valid")


def test_refresh_without_any_token_is_401(api_client):
    assert_error(api_client.post(REFRESH, {}), 401, "not_authenticated")


def test_refresh_by_cookie_requires_the_csrf_header(csrf_client, user, password):
    login(csrf_client, user.email, password)

    refused = csrf_client.post(REFRESH, {})
    accepted = csrf_client.post(REFRESH, {}, **csrf_header(csrf_client))

    assert_error(refused, 403, "csrf_failed")
    assert accepted.status_code == 200
    assert accepted.cookies["parley_refresh"].value == accepted.json()["refresh"]


def test_logout_blacklists_the_refresh_token_and_clears_the_cookies(api_client, user, password):
    refresh = login(api_client, user.email, password).json()["refresh"]

    response = api_client.post(LOGOUT, {"refresh": refresh})

    assert response.status_code == 204
    for name, path in (("parley_access", "/"), ("parley_refresh", "/api/v1/auth/")):
        cookie = response.cookies[name]
        assert cookie.value == ""
        assert cookie["max-age"] == 0
        assert cookie["path"] == path
    assert_error(APIClient().post(REFRESH, {"refresh": refresh}), 401, "token_not_valid")


def test_logout_by_cookie_with_csrf_then_cookie_refresh_is_401(csrf_client, user, password):
    refresh = login(csrf_client, user.email, password).json()["refresh"]

    assert csrf_client.post(LOGOUT, {}, **csrf_header(csrf_client)).status_code == 204

    # the browser dropped the cookies; a replay of the old refresh token fails
    assert_error(APIClient().post(REFRESH, {"refresh": refresh}), 401, "token_not_valid")
    assert_error(csrf_client.get(ME), 401, "not_authenticated")


def test_logout_by_cookie_without_csrf_header_is_refused(csrf_client, user, password):
    refresh = login(csrf_client, user.email, password).json()["refresh"]

    assert_error(csrf_client.post(LOGOUT, {}), 403, "csrf_failed")
    assert APIClient().post(REFRESH, {"refresh": refresh}).status_code == 200


def test_logout_without_a_token_is_204(api_client):
    assert api_client.post(LOGOUT, {}).status_code == 204


def test_cookie_authenticated_patch_without_csrf_header_is_403_and_changes_nothing(
    csrf_client, user, password
):
    login(csrf_client, user.email, password)

    response = csrf_client.patch(ME, {"first_name": "Mallory"})

    assert_error(response, 403, "csrf_failed")
    user.refresh_from_db()
    assert user.first_name == "Ada"


def test_cookie_authenticated_patch_with_csrf_header_is_200(csrf_client, user, password):
    login(csrf_client, user.email, password)

    response = csrf_client.patch(ME, {"first_name": "Grace"}, **csrf_header(csrf_client))

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.first_name == "Grace"


def test_cookie_authenticated_patch_with_a_wrong_csrf_header_is_403(csrf_client, user, password):
    login(csrf_client, user.email, password)

    response = csrf_client.patch(ME, {"first_name": "Mallory"}, HTTP_X_CSRFTOKEN="x" * 32)

    assert_error(response, 403, "csrf_failed")


def test_cookie_authenticated_get_needs_no_csrf_header(csrf_client, user, password):
    login(csrf_client, user.email, password)

    assert csrf_client.get(ME).status_code == 200


def test_bearer_authenticated_patch_needs_no_csrf(bearer_client, user):
    response = bearer_client.patch(ME, {"first_name": "Grace"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.first_name == "Grace"


def test_expired_access_cookie_is_401_and_a_cookie_refresh_recovers(csrf_client, user, password):
    login(csrf_client, user.email, password)

    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        assert_error(csrf_client.get(ME), 401, "not_authenticated")
        refreshed = csrf_client.post(REFRESH, {}, **csrf_header(csrf_client))
        assert refreshed.status_code == 200
        assert csrf_client.get(ME).status_code == 200


def test_expired_refresh_token_is_401(api_client, user, password):
    refresh = login(api_client, user.email, password).json()["refresh"]

    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        assert_error(api_client.post(REFRESH, {"refresh": refresh}), 401, "token_not_valid")


def test_bearer_token_of_a_deactivated_user_is_401(bearer_client, user):
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert bearer_client.get(ME).status_code == 401


class PublicView(APIView):
    """Like search: anyone may read; the default authenticators still run."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"user": request.user.pk})


def _public_get(cookie: str):
    request = APIRequestFactory().get("/public/")
    request.COOKIES["parley_access"] = cookie
    response = PublicView.as_view()(request)
    response.render()
    return response


def test_public_endpoint_with_a_valid_access_cookie_sees_the_user(user):
    response = _public_get(str(AccessToken.for_user(user)))

    assert response.status_code == 200
    assert response.data == {"user": user.pk}


@pytest.mark.parametrize("stale", ["expired", "garbled", "deactivated", "deleted"])
def test_public_endpoint_with_a_stale_access_cookie_is_anonymous(user, stale):
    cookie = "not-a-jwt" if stale == "garbled" else str(AccessToken.for_user(user))
    if stale == "deactivated":
        User.objects.filter(pk=user.pk).update(is_active=False)
    if stale == "deleted":
        User.objects.filter(pk=user.pk).delete()
    later = timezone.now() + timedelta(minutes=6 if stale == "expired" else 0)

    with time_machine.travel(later, tick=False):
        response = _public_get(cookie)

    assert response.status_code == 200
    assert response.data == {"user": None}

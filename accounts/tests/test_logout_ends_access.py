"""Logging out ends the access token too (issue 20): before, an access token kept working
for its whole lifetime (5 minutes) after logout. Its ``jti`` is denied in the cache until
it expires, for REST (Bearer and cookie) and for WebSockets."""

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from rest_framework.test import APIClient

from accounts.tests.utils import assert_error, csrf_header, login
from accounts.tokens import access_token_deny
from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_after_a_bearer_logout_the_access_token_is_refused(user, password):
    tokens = login(APIClient(), user.email, password).json()
    client = _bearer(tokens["access"])
    assert client.get(ME).status_code == 200

    assert client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 204

    assert_error(client.get(ME), 401, "token_not_valid")
    assert_error(client.patch(ME, {"first_name": "Eve"}), 401, "token_not_valid")


def test_logout_ends_only_the_token_presented_not_other_devices(user, password):
    phone = login(APIClient(), user.email, password).json()
    laptop = login(APIClient(), user.email, password).json()

    assert _bearer(phone["access"]).post(LOGOUT, {"refresh": phone["refresh"]}).status_code == 204

    assert _bearer(phone["access"]).get(ME).status_code == 401
    assert _bearer(laptop["access"]).get(ME).status_code == 200


def test_after_a_cookie_logout_the_old_access_cookie_is_anonymous(csrf_client, user, password):
    access = login(csrf_client, user.email, password).json()["access"]
    assert csrf_client.post(LOGOUT, {}, **csrf_header(csrf_client)).status_code == 204

    replay = APIClient()  # the cookie kept (copied) from before the logout
    replay.cookies[settings.JWT_ACCESS_COOKIE] = access
    assert_error(replay.get(ME), 401, "not_authenticated")
    assert replay.get("/api/v1/properties/").status_code == 200  # public reads still work


def test_denying_an_invalid_or_expired_token_does_nothing():
    access_token_deny("not-a-token")
    access_token_deny("")


async def _socket_code(token: str) -> int | None:
    headers = [(b"origin", b"http://localhost"), (b"authorization", f"Bearer {token}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected  # accepted, then closed with 4401 when not authenticated
    output = await communicator.receive_output(timeout=1) if not await _idle(communicator) else {}
    await communicator.disconnect()
    return output.get("code") if output.get("type") == "websocket.close" else None


async def _idle(communicator) -> bool:
    return await communicator.receive_nothing(timeout=0.3)


@pytest.mark.asyncio
async def test_after_logout_the_access_token_opens_no_socket(user, password):
    from asgiref.sync import sync_to_async

    tokens = await sync_to_async(lambda: login(APIClient(), user.email, password).json())()
    assert await _socket_code(tokens["access"]) is None

    response = await sync_to_async(
        lambda: _bearer(tokens["access"]).post(LOGOUT, {"refresh": tokens["refresh"]})
    )()
    assert response.status_code == 204

    assert await _socket_code(tokens["access"]) == 4401

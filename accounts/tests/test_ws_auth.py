"""WebSocket authentication (cookie, Bearer header, one-time ticket) and origin checks.

Runs the full ASGI stack (``config.asgi.application``) against ``/ws/notifications/``.
"""

import asyncio

import pytest
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/ws/notifications/"
ORIGIN = (b"origin", b"http://localhost")


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def access(user) -> str:
    return str(AccessToken.for_user(user))


def _ticket(user) -> str:
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/auth/ws-ticket/")
    assert response.status_code == 201
    return response.json()["ticket"]


@pytest.fixture
def ticket(user) -> str:
    return _ticket(user)


async def _assert_authenticated(communicator: WebsocketCommunicator) -> None:
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "ping"})
    frame = await communicator.receive_json_from()
    if frame.get("type") == "unread":  # the notification socket's count, sent on connect
        frame = await communicator.receive_json_from()
    assert frame == {"type": "pong"}
    await communicator.disconnect()


async def _assert_closed_4401(communicator: WebsocketCommunicator) -> None:
    connected, _ = await communicator.connect()
    assert connected  # accepted, then closed, so clients can tell it from a network error
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect(code=4401)  # the server reports the close back


async def test_socket_authenticates_with_the_access_cookie(access):
    cookie = (b"cookie", f"parley_access={access}".encode())

    await _assert_authenticated(WebsocketCommunicator(application, PATH, [ORIGIN, cookie]))


async def test_cookie_auth_survives_other_cookies_that_are_not_rfc_compliant(access):
    # Browsers send whatever other sites on the domain set, spaces and quotes included.
    other = 'theme=dark mode; prefs={"a":[1,2]}; csrftoken=abc; '
    cookie = (b"cookie", f"{other}parley_access={access}".encode())

    await _assert_authenticated(WebsocketCommunicator(application, PATH, [ORIGIN, cookie]))


async def test_socket_authenticates_with_a_bearer_header(access):
    header = (b"authorization", f"Bearer {access}".encode())

    await _assert_authenticated(WebsocketCommunicator(application, PATH, [ORIGIN, header]))


async def test_socket_authenticates_with_a_ticket(ticket):
    await _assert_authenticated(
        WebsocketCommunicator(application, f"{PATH}?ticket={ticket}", [ORIGIN])
    )


async def test_ticket_is_single_use(ticket):
    url = f"{PATH}?ticket={ticket}"
    await _assert_authenticated(WebsocketCommunicator(application, url, [ORIGIN]))

    await _assert_closed_4401(WebsocketCommunicator(application, url, [ORIGIN]))


async def test_ticket_expires_after_its_ttl(settings, user):
    # Tickets live in the cache with a TTL; time-machine cannot move a Redis server's clock,
    # so the TTL is shortened to one second and the test really waits it out.
    settings.WS_TICKET_TTL_SECONDS = 1
    ticket = await asyncio.to_thread(_ticket, user)
    await asyncio.sleep(1.5)

    await _assert_closed_4401(
        WebsocketCommunicator(application, f"{PATH}?ticket={ticket}", [ORIGIN])
    )


async def test_a_ticket_issued_before_a_password_reset_no_longer_connects(user, ticket):
    from accounts import services, tokens

    def reset():
        uid, token = tokens.password_reset_link_parts(user)
        services.password_reset_confirm(uid=uid, token=token, new_password="plum-orchard-41-x")

    await asyncio.to_thread(reset)

    await _assert_closed_4401(
        WebsocketCommunicator(application, f"{PATH}?ticket={ticket}", [ORIGIN])
    )
    fresh = await asyncio.to_thread(_ticket, user)
    await _assert_authenticated(
        WebsocketCommunicator(application, f"{PATH}?ticket={fresh}", [ORIGIN])
    )


async def test_unknown_ticket_is_closed_4401():
    await _assert_closed_4401(
        WebsocketCommunicator(application, f"{PATH}?ticket=made-up", [ORIGIN])
    )


async def test_anonymous_socket_is_accepted_then_closed_4401():
    await _assert_closed_4401(WebsocketCommunicator(application, PATH, [ORIGIN]))


async def test_garbled_bearer_token_is_closed_4401():
    header = (b"authorization", b"Bearer not-a-jwt")

    await _assert_closed_4401(WebsocketCommunicator(application, PATH, [ORIGIN, header]))


async def test_refresh_token_is_not_accepted_as_an_access_token(user):
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = await asyncio.to_thread(lambda: str(RefreshToken.for_user(user)))
    header = (b"authorization", f"Bearer {refresh}".encode())

    await _assert_closed_4401(WebsocketCommunicator(application, PATH, [ORIGIN, header]))


async def test_access_token_of_a_deactivated_user_is_closed_4401(user, access):
    await asyncio.to_thread(lambda: type(user).objects.filter(pk=user.pk).update(is_active=False))
    header = (b"authorization", f"Bearer {access}".encode())

    await _assert_closed_4401(WebsocketCommunicator(application, PATH, [ORIGIN, header]))


@pytest.mark.parametrize("origin", [b"http://evil.example", None], ids=["foreign", "missing"])
async def test_foreign_or_missing_origin_is_refused_even_with_a_valid_token(access, origin):
    headers = [(b"authorization", f"Bearer {access}".encode())]
    if origin:
        headers.append((b"origin", origin))
    communicator = WebsocketCommunicator(application, PATH, headers)

    connected, _ = await communicator.connect()

    assert not connected
    await communicator.disconnect()


async def test_non_json_frame_gets_an_error_frame_and_the_socket_stays_open(access):
    header = (b"authorization", f"Bearer {access}".encode())
    communicator = WebsocketCommunicator(application, PATH, [ORIGIN, header])
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "unread"  # sent on connect

    await communicator.send_to(text_data="{not json")
    error = await communicator.receive_json_from()
    await communicator.send_json_to({"type": "ping"})
    pong = await communicator.receive_json_from()

    assert error["type"] == "error"
    assert error["code"] == "bad_json"
    assert pong == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "teleport"}, "unknown_type"),
        ([1, 2, 3], "bad_frame"),
    ],
    ids=["unknown-type", "not-an-object"],
)
async def test_unusable_frames_get_an_error_frame_and_the_socket_stays_open(access, frame, code):
    header = (b"authorization", f"Bearer {access}".encode())
    communicator = WebsocketCommunicator(application, PATH, [ORIGIN, header])
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "unread"  # sent on connect

    await communicator.send_json_to(frame)
    error = await communicator.receive_json_from()
    await communicator.send_json_to({"type": "ping"})

    assert error["type"] == "error"
    assert error["code"] == code
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


async def test_oversized_and_binary_frames_get_an_error_frame(access):
    header = (b"authorization", f"Bearer {access}".encode())
    communicator = WebsocketCommunicator(application, PATH, [ORIGIN, header])
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "unread"  # sent on connect

    await communicator.send_to(text_data='{"type": "ping", "pad": "' + "x" * 17_000 + '"}')
    oversized = await communicator.receive_json_from()
    await communicator.send_to(bytes_data=b"\x00\x01")
    binary = await communicator.receive_json_from()

    assert (oversized["type"], oversized["code"]) == ("error", "bad_frame")
    assert (binary["type"], binary["code"]) == ("error", "bad_frame")
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()

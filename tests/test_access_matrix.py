"""Access-control matrix (OWASP API1 object level, API5 function level).

Every API operation (from the URL resolver) and every WebSocket route is tried by five
actors: anonymous, an unrelated guest, an unrelated host, the guest party and the host
party of the seeded objects (tests/fuzz_seed.py: a listing, its photos, block, rate and
feed, bookings, a negotiation, a review, an identity document). Each outcome is the
documented one (docs/api.md, docs/websocket.md):

* ``OK``: access granted; the answer is a success or a domain refusal (400/402/409)
  about the object's state, never 401/403/404;
* ``401``: not authenticated; ``404``: an object you are not a party to (indistinguishable
  from a missing one); ``403:<code>``: a function your role may not call;
* sockets: accepted, or closed with 4401 / 4403 / 4404.

An operation or socket without a row fails the test: add its row when adding it.
"""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.tests.factories import png_upload as small_png
from config.routing import websocket_urlpatterns
from notifications.models import Notification
from properties.models import CalendarFeed, Property
from properties.tests.factories import GuestFactory, HostFactory, published_property
from tests import fuzz_seed

OK, NOT_A_HOST = "ok", "403:not_a_host"
ACTORS = ("anonymous", "other_guest", "other_host", "guest", "host")

PUBLIC = (OK, OK, OK, OK, OK)
SIGNED_IN = (401, OK, OK, OK, OK)
HOSTS = (401, NOT_A_HOST, OK, NOT_A_HOST, OK)
PARTIES = (401, 404, 404, OK, OK)
GUEST_PARTY = (401, 404, 404, OK, 404)
HOST_PARTY = (401, 404, 404, 404, OK)  # also: the listing's owner
ACCEPTED, OPEN_TO_PARTIES = (4401, OK, OK, OK, OK), (4401, 4403, 4403, OK, OK)

P = "/api/v1/properties/{pk}/"
B = "/api/v1/bookings/{pk}/"
N = "/api/v1/negotiations/{pk}/"
MATRIX = {
    "POST /api/v1/auth/register/": PUBLIC,
    "POST /api/v1/auth/verify-email/": PUBLIC,
    "POST /api/v1/auth/verify-email/resend/": SIGNED_IN,
    "POST /api/v1/auth/token/": PUBLIC,
    "POST /api/v1/auth/token/refresh/": SIGNED_IN,  # with the actor's refresh token, if any
    "POST /api/v1/auth/logout/": PUBLIC,
    "GET /api/v1/auth/me/": SIGNED_IN,
    "PATCH /api/v1/auth/me/": SIGNED_IN,
    "POST /api/v1/auth/me/close/": SIGNED_IN,  # a wrong password: a 400, nothing closed
    "GET /api/v1/auth/me/documents/": SIGNED_IN,
    "POST /api/v1/auth/me/documents/": SIGNED_IN,
    "GET /api/v1/auth/me/documents/{pk}/image/": GUEST_PARTY,  # the guest's document
    "POST /api/v1/auth/become-host/": SIGNED_IN,
    "POST /api/v1/auth/password-reset/": PUBLIC,
    "POST /api/v1/auth/password-reset/confirm/": PUBLIC,
    "POST /api/v1/auth/ws-ticket/": SIGNED_IN,
    "GET /api/v1/amenities/": PUBLIC,
    "GET /api/v1/properties/": PUBLIC,
    "POST /api/v1/properties/": HOSTS,
    "GET /api/v1/properties/mine/": HOSTS,
    f"GET {P}": PUBLIC,
    f"PATCH {P}": HOST_PARTY,
    f"DELETE {P}": HOST_PARTY,
    f"POST {P}publish/": HOST_PARTY,
    f"POST {P}unlist/": HOST_PARTY,
    f"POST {P}ical-token/": HOST_PARTY,
    f"GET {P}photos/": PUBLIC,
    f"POST {P}photos/": HOST_PARTY,
    f"POST {P}photos/order/": HOST_PARTY,
    f"DELETE {P}photos/{{photo_id}}/": HOST_PARTY,
    f"POST {P}photos/{{photo_id}}/cover/": HOST_PARTY,
    f"GET {P}availability/": PUBLIC,
    f"GET {P}blocks/": HOST_PARTY,
    f"POST {P}blocks/": HOST_PARTY,
    f"DELETE {P}blocks/{{block_id}}/": HOST_PARTY,
    f"GET {P}rates/": PUBLIC,
    f"POST {P}rates/": HOST_PARTY,
    f"DELETE {P}rates/{{rate_id}}/": HOST_PARTY,
    f"GET {P}quote/": PUBLIC,
    f"GET {P}reviews/": PUBLIC,
    f"GET {P}calendar.ics": PUBLIC,  # with the current token; without it 404 (test_ical)
    f"GET {P}feeds/": HOST_PARTY,
    f"POST {P}feeds/": HOST_PARTY,
    f"DELETE {P}feeds/{{feed_id}}/": HOST_PARTY,
    f"POST {P}feeds/{{feed_id}}/sync/": HOST_PARTY,
    "GET /api/v1/bookings/": SIGNED_IN,  # each sees their own
    "POST /api/v1/bookings/": SIGNED_IN,
    f"GET {B}": PARTIES,
    f"POST {B}approve/": HOST_PARTY,
    f"POST {B}decline/": HOST_PARTY,
    f"POST {B}pay/": GUEST_PARTY,
    f"POST {B}cancel/": PARTIES,
    f"POST {B}review/": PARTIES,
    "POST /api/v1/reviews/{pk}/reply/": HOST_PARTY,
    "GET /api/v1/auth/me/reviews/": SIGNED_IN,  # the reviews hosts wrote of me
    "GET /api/v1/host/analytics/": HOSTS,
    "GET /api/v1/negotiations/": SIGNED_IN,
    "POST /api/v1/negotiations/": SIGNED_IN,
    f"GET {N}": PARTIES,
    f"GET {N}events/": PARTIES,
    f"POST {N}offers/": PARTIES,
    f"POST {N}accept/": PARTIES,
    f"POST {N}decline/": PARTIES,
    f"POST {N}withdraw/": PARTIES,  # the host is refused by the rules (409), not by access
    f"POST {N}messages/": PARTIES,
    f"POST {N}read/": PARTIES,
    "GET /api/v1/notifications/": SIGNED_IN,
    "POST /api/v1/notifications/read/": HOST_PARTY,  # ids of the host's notifications
    "GET /api/v1/notifications/preferences/": SIGNED_IN,
    "PUT /api/v1/notifications/preferences/": SIGNED_IN,
    "WS /ws/notifications/": ACCEPTED,
    "WS /ws/negotiations/{negotiation_id}/": OPEN_TO_PARTIES,
}


def _routes(patterns, prefix=""):
    for pattern in patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern) and text.startswith("api/v1/"):
            yield "/" + text.replace("<int:", "{").replace(">", "}"), pattern.callback


def operations() -> list[str]:
    found = [
        f"{method.upper()} {path}"
        for path, callback in _routes(get_resolver().url_patterns)
        for method in ("get", "post", "put", "patch", "delete")
        if hasattr(getattr(callback, "cls", None), method)
    ]
    sockets = [
        "WS /" + str(p.pattern).replace("<int:", "{").replace(">", "}")
        for p in websocket_urlpatterns
    ]
    return found + sockets


def test_the_matrix_has_no_row_for_an_operation_that_does_not_exist():
    assert set(MATRIX) - set(operations()) == set()


# --- The world: seeded objects, two outsiders, a feed ------------------------------------


class World:
    def __init__(self):
        seeded = fuzz_seed.seed()
        ids = seeded["ids"]
        self.guest = User.objects.get(email=seeded["guest"])
        self.host = User.objects.get(email=seeded["host"])
        self.other_guest = GuestFactory(email="outsider-guest@example.com")
        self.other_host = HostFactory(email="outsider-host@example.com")
        published_property(host=self.other_host, title="The other host's flat")
        self.prop = Property.objects.get(pk=ids["properties"][0])
        self.photo, self.block, self.rate = ids["photos"][0], ids["blocks"][0], ids["rates"][0]
        self.feed = CalendarFeed.objects.create(
            property=self.prop, url="http://127.0.0.1:9/feed.ics", name="Elsewhere"
        ).pk
        self.booking, self.past_booking = ids["bookings"][0], ids["bookings"][3]
        self.negotiation, self.review = ids["negotiations"][0], ids["reviews"][0]
        self.document = ids["documents"][0]
        self.host_notification = Notification.objects.filter(user=self.host).first().pk

    def user(self, actor: str) -> User | None:
        return None if actor == "anonymous" else getattr(self, actor)

    def pk(self, path: str) -> int:
        for prefix, value in (
            ("/api/v1/properties/", self.prop.pk),
            ("/api/v1/bookings/", self.past_booking if path.endswith("/review/") else self.booking),
            ("/api/v1/negotiations/", self.negotiation),
            ("/api/v1/reviews/", self.review),
            ("/api/v1/auth/me/documents/", self.document),
        ):
            if path.startswith(prefix):
                return value
        raise AssertionError(f"no object for {path}")


def _days(n: int) -> str:
    return str(timezone.now().date() + timedelta(days=n))


def _request(world: World, operation: str, actor: str) -> tuple[str, dict, str]:
    """The path, the body (or query) and its format for this operation and actor."""
    _, route = operation.split(" ", 1)
    path = route.format(
        pk=world.pk(route) if "{pk}" in route else 0, photo_id=world.photo,
        block_id=world.block, rate_id=world.rate, feed_id=world.feed,
    )  # fmt: skip
    stay = {"property": world.prop.pk, "guests": 2, "stay_type": "standard"}
    bodies = {
        "POST /api/v1/auth/register/": {
            "email": f"new-{actor}@example.com",
            "password": "A-long-passw0rd!",
            "first_name": "Nia",
            "last_name": "Moss",
        },
        "POST /api/v1/auth/verify-email/": {"token": "not-a-token"},
        "POST /api/v1/auth/token/": {"email": world.guest.email, "password": fuzz_seed.PASSWORD},
        "POST /api/v1/auth/token/refresh/": (
            {"refresh": str(RefreshToken.for_user(world.user(actor)))} if world.user(actor) else {}
        ),
        "PATCH /api/v1/auth/me/": {"first_name": "Zoe"},
        "POST /api/v1/auth/me/close/": {"password": "not-the-password", "confirm": True},
        "POST /api/v1/auth/me/documents/": {
            "kind": "passport",
            "number": "X1",
            "image": small_png(),
        },
        "POST /api/v1/auth/password-reset/": {"email": "nobody@example.com"},
        "POST /api/v1/auth/password-reset/confirm/": {
            "uid": "x",
            "token": "y",
            "new_password": "A-long-passw0rd!",
        },
        "POST /api/v1/properties/": {"title": "New flat"},
        f"PATCH {P}": {"title": "Renamed"},
        f"POST {P}photos/": {"image": small_png()},
        f"POST {P}photos/order/": {"order": list(world.prop.photos.values_list("pk", flat=True))},
        f"GET {P}availability/": {"start": _days(1), "end": _days(30)},
        f"POST {P}blocks/": {"start": _days(100), "end": _days(102)},
        f"POST {P}rates/": {"start": _days(120), "end": _days(125), "nightly_price": "120.00"},
        f"GET {P}quote/": {"check_in": _days(140), "check_out": _days(143), "guests": 2},
        f"GET {P}calendar.ics": {"token": world.prop.ical_token},
        f"POST {P}feeds/": {"url": "http://127.0.0.1:9/other.ics"},
        "POST /api/v1/bookings/": {
            **stay,
            "check_in": _days(150),
            "check_out": _days(152),
            "payment_token": "tok_ok",
        },
        f"POST {B}decline/": {"reason": "No"},
        f"POST {B}pay/": {"payment_token": "tok_ok"},
        f"POST {B}cancel/": {"reason": "Plans changed"},
        f"POST {B}review/": {"overall": 5},
        "POST /api/v1/reviews/{pk}/reply/": {"text": "Thank you!"},
        "GET /api/v1/host/analytics/": {"start": _days(0), "end": _days(60)},
        "POST /api/v1/negotiations/": {
            **stay,
            "check_in": _days(170),
            "check_out": _days(173),
            "amount": "150.00",
        },
        f"GET {N}events/": {"after": 0},
        f"POST {N}offers/": {"amount": "280.00"},
        f"POST {N}messages/": {"body": "Hello"},
        f"POST {N}read/": {"seq": 1},
        "POST /api/v1/notifications/read/": {"ids": [world.host_notification]},
        "PUT /api/v1/notifications/preferences/": {"kind": "booking.confirmed", "email": False},
    }
    body = bodies.get(operation, {})
    multipart = any(hasattr(value, "read") for value in body.values())
    return path, body, "multipart" if multipart else "json"


def _http(world: World, operation: str, actor: str):
    client = APIClient()
    if (user := world.user(actor)) is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    path, body, fmt = _request(world, operation, actor)
    method = operation.split(" ", 1)[0].lower()
    if method == "get":
        return client.get(path, body)
    return getattr(client, method)(path, body, format=fmt)


def _outcome(response) -> object:
    assert response.status_code < 500, response.content
    if response.status_code not in {401, 403, 404}:
        return OK
    code = response.json()["errors"][0]["code"]
    if response.status_code == 403:
        return f"403:{code}"
    assert code in {"not_authenticated", "not_found"}, response.content
    return response.status_code


async def _socket(world: World, route: str, actor: str, negotiation_id: int):
    path = route.format(negotiation_id=negotiation_id).removeprefix("WS ")
    headers = [(b"origin", b"http://localhost")]
    if (user := world.user(actor)) is not None:
        headers.append((b"authorization", f"Bearer {AccessToken.for_user(user)}".encode()))
    from config.asgi import application

    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected  # the handshake succeeds; refusals are close codes right after it
    await communicator.send_json_to({"type": "ping"})
    try:
        for _ in range(50):
            output = await communicator.receive_output(timeout=5)
            if output["type"] == "websocket.close":
                return output["code"]
            if '"pong"' in output.get("text", ""):
                return OK
        raise AssertionError("neither a close nor a pong")
    finally:
        await communicator.disconnect()


def _params():
    for operation in operations():
        marks = [pytest.mark.django_db(transaction=operation.startswith("WS "))]
        yield pytest.param(operation, marks=marks, id=operation)


@pytest.mark.parametrize("operation", list(_params()))
def test_access_matrix(operation):
    assert operation in MATRIX, f"{operation} has no row in the access matrix: add one"
    world = World()
    outcomes = {}
    for actor in ACTORS:  # outsiders first: their attempts must leave everything as it was
        if operation.startswith("WS "):
            outcomes[actor] = async_to_sync(_socket)(world, operation, actor, world.negotiation)
        else:
            outcomes[actor] = _outcome(_http(world, operation, actor))
    assert tuple(outcomes[a] for a in ACTORS) == MATRIX[operation], outcomes
    if operation == "WS /ws/negotiations/{negotiation_id}/":  # no such negotiation
        assert async_to_sync(_socket)(world, operation, "guest", 999_999) == 4404


# --- A sixth actor: a party whose email is not verified -------------------------------------


def _requires_verified_email(operation: str) -> bool:
    """Whether the view of ``operation`` asks for ``IsEmailVerified`` for that method, as
    declared by the view itself (``permission_classes`` or ``get_permissions``)."""
    from types import SimpleNamespace

    from accounts.permissions import IsEmailVerified

    method, path = operation.split(" ", 1)
    callback = dict(_routes(get_resolver().url_patterns))[path]
    view = callback.cls(**getattr(callback, "initkwargs", {}))
    view.request = SimpleNamespace(method=method)
    return any(isinstance(p, IsEmailVerified) for p in view.get_permissions())


VERIFIED_ONLY = [
    op for op in operations() if not op.startswith("WS ") and _requires_verified_email(op)
]


def test_booking_and_negotiating_need_a_verified_email():
    assert set(VERIFIED_ONLY) == {
        "POST /api/v1/bookings/",
        "POST /api/v1/negotiations/",
        *(f"POST {N}{action}/" for action in ("offers", "accept", "decline", "withdraw")),
        f"POST {N}messages/",
    }  # reading (and read receipts) stays open; the socket refuses the same actions


@pytest.mark.django_db
@pytest.mark.parametrize("operation", VERIFIED_ONLY)
def test_an_unverified_party_gets_403_email_unverified(operation):
    world = World()
    User.objects.filter(pk=world.guest.pk).update(email_verified_at=None)
    world.guest.refresh_from_db()
    assert _outcome(_http(world, operation, "guest")) == "403:email_unverified"

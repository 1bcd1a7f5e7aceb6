"""Channels middleware: authenticate a WebSocket by access cookie, Bearer header or ticket.

Sockets that present nothing valid, or an account whose email is not verified, get
``AnonymousUser``; consumers close them with 4401. Cookie auth is safe from cross-site
hijacking because the origin validator in front of this middleware refuses foreign
``Origin`` headers.

The scope also gets when the credentials expire (``core.consumers.CREDENTIALS_EXPIRE_AT``,
epoch seconds): an access token's ``exp``; a ticket (one-time, minted with a valid
access token) counts as a fresh access token. The notification socket closes then.
"""

import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tokens import is_access_token_denied, redeem_ws_ticket
from core.consumers import CREDENTIALS_EXPIRE_AT


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _credentials(scope) -> tuple[str, str]:
    """``("ticket", value)``, ``("token", value)`` or ``("", "")``."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("ticket"):
        return "ticket", query["ticket"][0]
    authorization = _header(scope, b"authorization")
    if authorization.lower().startswith("bearer "):
        return "token", authorization[7:].strip()
    # Django's lenient parser, as for HTTP requests: SimpleCookie stops at the first
    # cookie that is not RFC-compliant (a space, a quote), losing every cookie after it.
    access = parse_cookie(_header(scope, b"cookie")).get(settings.JWT_ACCESS_COOKIE)
    if access:
        return "token", access
    return "", ""


@database_sync_to_async
def _resolve_user(kind: str, value: str):
    """The user the credentials name, and when they expire (epoch seconds)."""
    user_id, expires_at = None, time.time()
    if kind == "ticket":
        user_id = redeem_ws_ticket(value)
        expires_at += settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    elif kind == "token":
        try:
            token = AccessToken(value)
            user_id = token[settings.SIMPLE_JWT.get("USER_ID_CLAIM", "user_id")]
            expires_at = float(token["exp"])
        except (InvalidToken, TokenError, KeyError):
            user_id = None
        else:
            if is_access_token_denied(token):  # ended by a logout
                user_id = None
    if user_id is None:
        return AnonymousUser(), expires_at
    # An account that has not verified its email opens no sockets (it cannot book,
    # negotiate or host either): it is treated as not authenticated (4401).
    users = get_user_model().objects.filter(email_verified_at__isnull=False, is_active=True)
    user = users.filter(pk=user_id).first()
    return user or AnonymousUser(), expires_at


class JWTAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        kind, value = _credentials(scope)
        user, expires_at = (
            await _resolve_user(kind, value) if kind else (AnonymousUser(), time.time())
        )
        scope = {**scope, "user": user, CREDENTIALS_EXPIRE_AT: expires_at}
        return await self.inner(scope, receive, send)

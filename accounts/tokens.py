"""Short-lived secrets: email verification tokens, one-time WebSocket tickets, and the
mark of a browser that has logged in to an account before."""

import logging
import secrets
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

logger = logging.getLogger(__name__)

_VERIFY_SALT = "accounts.verify-email"
_TICKET_PREFIX = "ws-ticket:"
_DENIED_ACCESS_PREFIX = "jwt-denied:"


def make_email_verification_token(*, user_id: int, email: str) -> str:
    return signing.dumps({"uid": user_id, "email": email}, salt=_VERIFY_SALT)


def read_email_verification_token(token: str) -> dict | None:
    """The token's payload, or ``None`` if it is forged, malformed or expired."""
    try:
        payload = signing.loads(
            token,
            salt=_VERIFY_SALT,
            max_age=settings.EMAIL_VERIFICATION_MAX_AGE.total_seconds(),
        )
    except signing.BadSignature:
        return None
    return payload if isinstance(payload, dict) else None


def issue_ws_ticket(*, user_id: int) -> str:
    ticket = secrets.token_urlsafe(32)
    cache.set(_TICKET_PREFIX + ticket, user_id, timeout=settings.WS_TICKET_TTL_SECONDS)
    return ticket


def redeem_ws_ticket(ticket: str) -> int | None:
    """The ticket's user id, once. ``cache.delete`` is atomic: only one caller wins."""
    if not ticket or len(ticket) > 128:
        return None
    key = _TICKET_PREFIX + ticket
    user_id = cache.get(key)
    if user_id is None or not cache.delete(key):
        return None
    return user_id


def login_device_mark(email: str) -> str:
    """What the ``parley_device`` cookie holds once a browser has logged in to the account
    with this (normalised) address: an HMAC only the server can make."""
    return salted_hmac("accounts.login-device", email, algorithm="sha256").hexdigest()[:40]


def is_known_device(request, email: str) -> bool:
    mark = request.COOKIES.get(settings.LOGIN_DEVICE_COOKIE, "")
    return bool(mark) and constant_time_compare(mark, login_device_mark(email))


def access_token_deny(raw: str) -> None:
    """Logging out ends the access token too: its ``jti`` is denied in the cache until the
    token expires (after that, the signature check refuses it anyway). An invalid or
    expired token needs nothing."""
    try:
        token = AccessToken(raw)
    except TokenError:
        return
    jti = token.get(jwt_settings.JTI_CLAIM)
    ttl = int(token["exp"] - time.time()) + 1
    if jti and ttl > 0:
        cache.set(_DENIED_ACCESS_PREFIX + str(jti), 1, timeout=ttl)


def is_access_token_denied(token) -> bool:
    """Whether ``token`` (validated) was ended by a logout. With the cache (Redis)
    unreachable the answer is no, logged: the API stays up, and a token lives 5 minutes."""
    jti = token.get(jwt_settings.JTI_CLAIM)
    if not jti:
        return False
    try:
        return cache.get(_DENIED_ACCESS_PREFIX + str(jti)) is not None
    except (RedisConnectionError, RedisTimeoutError) as exc:
        logger.warning("access token denylist unavailable: %r", exc)
        return False

"""Short-lived secrets: email verification and email-change tokens, password-reset link
parts, one-time WebSocket
tickets (revocable per user), and the mark of a browser that has logged in to an account before."""

import logging
import secrets
import time

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

logger = logging.getLogger(__name__)

_VERIFY_SALT = "accounts.verify-email"
_TICKET_PREFIX = "ws-ticket:"
_DENIED_ACCESS_PREFIX = "jwt-denied:"
_CHANGE_EMAIL_SALT = "accounts.change-email"
_TICKET_GENERATION_PREFIX = "ws-ticket-gen:"
_TICKET_GENERATION_TTL = 7 * 24 * 3600


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


def make_email_change_token(*, user_id: int, old_email: str, new_email: str) -> str:
    """The link sent to ``new_email``: it switches the account from ``old_email`` to it.
    Single use: once confirmed, the account's address is no longer ``old_email``; a newer
    request (another pending address) makes it void too."""
    return signing.dumps(
        {"uid": user_id, "from": old_email, "to": new_email, "purpose": "change_email"},
        salt=_CHANGE_EMAIL_SALT,
    )


def read_email_change_token(token: str) -> dict | None:
    """The payload of an email-change token, or ``None`` (forged, malformed, expired, or
    another kind of token)."""
    try:
        payload = signing.loads(
            token,
            salt=_CHANGE_EMAIL_SALT,
            max_age=settings.EMAIL_VERIFICATION_MAX_AGE.total_seconds(),
        )
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("purpose") != "change_email":
        return None
    return payload


def password_reset_link_parts(user: AbstractBaseUser) -> tuple[str, str]:
    """The ``uid`` and ``token`` a password-reset link carries (Django's reset token: void
    once the password or ``last_login`` changes)."""
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)


def _ticket_generation(user_id: int) -> int:
    return int(cache.get(_TICKET_GENERATION_PREFIX + str(user_id)) or 0)


def issue_ws_ticket(*, user_id: int) -> str:
    """A one-time ticket for a socket. It carries the user's ticket generation: revoking
    (logout, password reset, deactivation) moves the generation on, so every ticket issued
    before no longer redeems."""
    ticket = secrets.token_urlsafe(32)
    value = {"uid": user_id, "gen": _ticket_generation(user_id)}
    cache.set(_TICKET_PREFIX + ticket, value, timeout=settings.WS_TICKET_TTL_SECONDS)
    return ticket


def redeem_ws_ticket(ticket: str) -> int | None:
    """The ticket's user id, once, if it was not revoked since it was issued.
    ``cache.delete`` is atomic: only one caller wins."""
    if not ticket or len(ticket) > 128:
        return None
    key = _TICKET_PREFIX + ticket
    value = cache.get(key)
    if value is None or not cache.delete(key):
        return None
    if not isinstance(value, dict):  # issued before generations: valid until revoked once
        value = {"uid": value, "gen": 0}
    user_id = value.get("uid")
    if user_id is None or value.get("gen") != _ticket_generation(user_id):
        return None
    return user_id


def revoke_ws_tickets(*, user_id: int) -> None:
    """Every socket ticket of the user issued so far stops working. The generation key
    outlives any ticket (30 s) by far; should it lapse, tickets of a later generation are
    refused, never accepted."""
    key = _TICKET_GENERATION_PREFIX + str(user_id)
    try:
        cache.add(key, 0, timeout=_TICKET_GENERATION_TTL)
        try:
            cache.incr(key)
        except ValueError:  # lapsed between add and incr
            cache.set(key, 1, timeout=_TICKET_GENERATION_TTL)
        cache.touch(key, timeout=_TICKET_GENERATION_TTL)
    except (RedisConnectionError, RedisTimeoutError) as exc:
        # Tickets live in the same cache: while it is unreachable none can be redeemed.
        logger.warning("socket tickets of user %s not revoked: %r", user_id, exc)


def login_device_mark(email: str) -> str:
    """What the ``parley_device`` cookie holds once a browser has logged in to the account
    with this (normalised) address: an HMAC only the server can make."""
    return salted_hmac("accounts.login-device", email, algorithm="sha256").hexdigest()[:40]


def is_known_device(request, email: str) -> bool:
    mark = request.COOKIES.get(settings.LOGIN_DEVICE_COOKIE, "")
    return bool(mark) and constant_time_compare(mark, login_device_mark(email))


def access_token_deny(raw: str) -> int | None:
    """Logging out ends the access token too: its ``jti`` is denied in the cache until the
    token expires (after that, the signature check refuses it anyway). An invalid or
    expired token needs nothing. Returns the user id of a valid token."""
    try:
        token = AccessToken(raw)
    except TokenError:
        return None
    jti = token.get(jwt_settings.JTI_CLAIM)
    ttl = int(token["exp"] - time.time()) + 1
    if jti and ttl > 0:
        cache.set(_DENIED_ACCESS_PREFIX + str(jti), 1, timeout=ttl)
    return token.get(jwt_settings.USER_ID_CLAIM)


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

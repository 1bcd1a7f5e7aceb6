"""Short-lived secrets: email verification tokens, one-time WebSocket tickets, and the
mark of a browser that has logged in to an account before."""

import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac

_VERIFY_SALT = "accounts.verify-email"
_TICKET_PREFIX = "ws-ticket:"


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

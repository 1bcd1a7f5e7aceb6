"""Throttles for the abuse-prone auth endpoints: per client IP and per target email."""

from rest_framework.throttling import SimpleRateThrottle

from accounts.models import normalise_email
from accounts.tokens import is_known_device


class _IPThrottle(SimpleRateThrottle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class _EmailThrottle(SimpleRateThrottle):
    """Keyed by the account's address (normalised as the account is found), so one account
    cannot be hammered from many IPs.

    The trade-off (docs/api.md, "Limits"): a browser that has logged in to the account
    before carries a ``parley_device`` mark and counts in a bucket of its own, so a
    stranger who spends the account's attempts does not lock its owner out of their usual
    browser; a new browser waits for the window to pass. The per-address limit applies
    to everyone.
    """

    def get_cache_key(self, request, view):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None
        ident = normalise_email(email)[:254]  # the key the account is found by
        if is_known_device(request, ident):
            ident = f"known-device:{ident}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginIPThrottle(_IPThrottle):
    scope = "login_ip"


class LoginEmailThrottle(_EmailThrottle):
    scope = "login_email"


class RegisterIPThrottle(_IPThrottle):
    scope = "register_ip"


class PasswordResetIPThrottle(_IPThrottle):
    scope = "password_reset_ip"


class PasswordResetEmailThrottle(_EmailThrottle):
    scope = "password_reset_email"


class WsTicketThrottle(SimpleRateThrottle):
    scope = "ws_ticket"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}

"""JWT authentication from the ``Authorization`` header or the httpOnly access cookie.

simplejwt only reads the header. Browsers carry the token in a cookie instead,
which a cross-site form could also send, so cookie-authenticated unsafe requests
must pass Django's CSRF check (double submit: the ``csrftoken`` cookie echoed in
the ``X-CSRFToken`` header). DRF only enforces CSRF for session auth, hence this
class enforces it itself. Bearer requests cannot be forged cross-site and skip it.
"""

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts.tokens import is_access_token_denied


class _CSRFCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def enforce_csrf(request) -> None:
    """Raise 403 ``csrf_failed`` unless the request carries a valid CSRF token."""

    def dummy_get_response(_request):  # pragma: no cover - never called
        return None

    check = _CSRFCheck(dummy_get_response)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        raise exceptions.PermissionDenied(f"CSRF check failed: {reason}", code="csrf_failed")


class JWTCookieAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token):
        """simplejwt's check, and the token must not have been ended by a logout."""
        validated = super().get_validated_token(raw_token)
        if is_access_token_denied(validated):
            raise InvalidToken(
                {"detail": "The token was ended by a logout.", "code": "token_not_valid"}
            )
        return validated

    def authenticate(self, request):
        header = self.get_header(request)
        if header is not None:
            return super().authenticate(request)

        raw_token = request.COOKIES.get(settings.JWT_ACCESS_COOKIE)
        if not raw_token:
            return None
        try:
            validated = self.get_validated_token(raw_token.encode())
            user = self.get_user(validated)
        except (InvalidToken, TokenError, exceptions.AuthenticationFailed):
            # A stale cookie (expired, or its user deactivated or gone) must not lock the
            # browser out of public endpoints (search): treat it as anonymous; protected
            # views answer 401.
            return None
        enforce_csrf(request._request if hasattr(request, "_request") else request)
        return user, validated


class JWTCookieAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTCookieAuthentication"
    name = ["jwtAuth", "cookieAuth"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"type": "apiKey", "in": "cookie", "name": settings.JWT_ACCESS_COOKIE},
        ]

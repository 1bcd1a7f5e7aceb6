"""Guards of the endpoints that create or change a login: no login CSRF.

A page on another site can auto-submit an HTML form to ``auth/token/`` and, if the
answer sets the login cookies, leave the victim's browser logged in as the attacker
(who then sees whatever the victim uploads). A form can only send
``application/x-www-form-urlencoded``, ``multipart/form-data`` or ``text/plain``; a
cross-site ``fetch`` with ``application/json`` needs a CORS preflight that Parley
refuses. So these endpoints parse JSON only (anything else is ``415
unsupported_media_type``) and, when the browser names the page's origin, refuse a
foreign one (``403 origin_not_allowed``). Clients that are not browsers send no
``Origin`` and are unaffected.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from core.api.parsers import JSONParser


class OriginNotAllowed(exceptions.PermissionDenied):
    default_code = "origin_not_allowed"
    default_detail = "Requests from this origin are not allowed."


def _trusted_origins() -> set[str]:
    return {
        origin.rstrip("/").lower()
        for origin in (*settings.CSRF_TRUSTED_ORIGINS, *settings.CORS_ALLOWED_ORIGINS)
        if "*" not in origin
    }


def origin_is_allowed(request) -> bool:
    """No ``Origin`` header, the request's own origin, or a configured trusted origin."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if origin in _trusted_origins():
        return True
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return False  # "null" (sandboxed frames, data: URLs) and anything malformed
    try:
        own = f"{request.scheme}://{request.get_host()}".lower()
    except DisallowedHost:
        return False
    return origin == own


class SameOriginOnly(BasePermission):
    """403 ``origin_not_allowed`` for a request whose ``Origin`` is another site."""

    def has_permission(self, request, view) -> bool:
        if request.method in {"GET", "HEAD", "OPTIONS"} or origin_is_allowed(request):
            return True
        raise OriginNotAllowed()


class JSONOnlyAuthEndpoint:
    """Mixin for the login, refresh, registration and reset views."""

    parser_classes = [JSONParser]

    def get_permissions(self):
        return [SameOriginOnly(), *super().get_permissions()]

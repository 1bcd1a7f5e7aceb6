"""Permissions other apps use: verified email for booking and negotiating, host role."""

from rest_framework.permissions import BasePermission

from core.errors import DomainPermissionDenied


class EmailUnverified(DomainPermissionDenied):
    default_code = "email_unverified"
    default_detail = "Verify your email address before booking or negotiating."


class NotAHost(DomainPermissionDenied):
    default_code = "not_a_host"
    default_detail = "Only hosts can do this. Become a host first."


class IsEmailVerified(BasePermission):
    """Authenticated users with a verified email; others get ``403 email_unverified``."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not user.is_email_verified:
            raise EmailUnverified()
        return True


class IsHost(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not user.is_host:
            raise NotAHost()
        return True

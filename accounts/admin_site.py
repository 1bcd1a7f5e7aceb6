"""The admin site: its login is throttled like the API login and every attempt audited.

Django's admin login has no limit of its own, so a superuser's password could be guessed
there while the API login answered 429. ``ParleyAdminSite.login`` counts each POST in the
same two throttles as ``auth/token/`` (by client address and by the account's normalised
email; the counters are shared, so neither door adds attempts), answers ``429`` with
``Retry-After`` beyond them, and writes one ``accounts.admin_audit`` log line per attempt:
``admin login succeeded|failed|throttled email=... ip=...``. The admin's path is
``ADMIN_URL``.
"""

import logging
from types import SimpleNamespace

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpResponse

audit = logging.getLogger("accounts.admin_audit")


class ParleyAdminSite(admin.AdminSite):
    site_header = "Parley administration"
    site_title = "Parley admin"

    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        email = str(request.POST.get("username", ""))[:254]
        address = _address(request)
        wait = _login_throttle_wait(request, email)
        if wait is not None:
            audit.warning("admin login throttled email=%r ip=%s", email, address)
            response = HttpResponse("Too many login attempts. Try again later.", status=429)
            response["Retry-After"] = str(max(1, int(wait)))
            response["Content-Type"] = "text/plain; charset=utf-8"
            return response
        response = super().login(request, extra_context)
        user = getattr(request, "user", None)
        if response.status_code == 302 and user is not None and user.is_authenticated:
            audit.info("admin login succeeded email=%r user=%s ip=%s", email, user.pk, address)
        else:
            audit.warning("admin login failed email=%r ip=%s", email, address)
        return response


# The throttles are imported when a login is checked, not at the top: INSTALLED_APPS names
# this module's ParleyAdminConfig, so it is imported while the apps load, before any
# models module (accounts.throttles imports accounts.models) can be.


def _address(request) -> str:
    from accounts.throttles import LoginIPThrottle

    return LoginIPThrottle().get_ident(request)


def _login_throttle_wait(request, email: str) -> float | None:
    """Seconds to wait if either API login throttle refuses this attempt, else ``None``."""
    from accounts.throttles import LoginEmailThrottle, LoginIPThrottle

    shim = SimpleNamespace(
        META=request.META,
        headers=request.headers,
        COOKIES=request.COOKIES,
        data={"email": email},
        user=None,
    )
    waits = []
    for throttle in (LoginIPThrottle(), LoginEmailThrottle()):
        if not throttle.allow_request(shim, None):
            waits.append(throttle.wait() or 1)
    return max(waits) if waits else None


class ParleyAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.ParleyAdminSite"

"""Setting and clearing the JWT cookies of the browser flow."""

from django.conf import settings
from django.middleware.csrf import get_token

from accounts.models import normalise_email
from accounts.tokens import login_device_mark


def set_auth_cookies(request, response, *, access: str, refresh: str | None) -> None:
    jwt = settings.SIMPLE_JWT
    common = {
        "httponly": True,
        "secure": settings.JWT_COOKIE_SECURE,
        "samesite": settings.JWT_COOKIE_SAMESITE,
    }
    response.set_cookie(
        settings.JWT_ACCESS_COOKIE,
        access,
        max_age=int(jwt["ACCESS_TOKEN_LIFETIME"].total_seconds()),
        path="/",
        **common,
    )
    if refresh:
        response.set_cookie(
            settings.JWT_REFRESH_COOKIE,
            refresh,
            max_age=int(jwt["REFRESH_TOKEN_LIFETIME"].total_seconds()),
            path=settings.JWT_REFRESH_COOKIE_PATH,
            **common,
        )
    get_token(request)  # makes CsrfViewMiddleware send the csrftoken cookie


def clear_auth_cookies(response) -> None:
    response.delete_cookie(settings.JWT_ACCESS_COOKIE, path="/", samesite="Lax")
    response.delete_cookie(
        settings.JWT_REFRESH_COOKIE, path=settings.JWT_REFRESH_COOKIE_PATH, samesite="Lax"
    )


def set_device_cookie(response, *, email: str) -> None:
    """Mark this browser as one that logged in to the account (see accounts.throttles)."""
    response.set_cookie(
        settings.LOGIN_DEVICE_COOKIE,
        login_device_mark(normalise_email(email)),
        max_age=settings.LOGIN_DEVICE_COOKIE_AGE,
        path=settings.JWT_REFRESH_COOKIE_PATH,  # only the auth endpoints need it
        httponly=True,
        secure=settings.JWT_COOKIE_SECURE,
        samesite=settings.JWT_COOKIE_SAMESITE,
    )

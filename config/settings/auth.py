"""Accounts and sign-in: password rules, JWT lifetimes and the browser's cookies, WebSocket
tickets, password-reset timing and email verification."""

from datetime import timedelta

from .environment import env
from .services import CELERY_TASK_ALWAYS_EAGER

# --- Auth ---------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "first_name", "last_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # the site's name ("parley123") and disguised common passwords ("Passw0rd!")
    {"NAME": "accounts.password_validation.SiteAndPatternValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}
if env("JWT_SIGNING_KEY", default=""):
    SIMPLE_JWT["SIGNING_KEY"] = env("JWT_SIGNING_KEY")

# Cookie names and flags for the browser flow (accounts.authentication).
JWT_ACCESS_COOKIE = "parley_access"
JWT_REFRESH_COOKIE = "parley_refresh"
JWT_REFRESH_COOKIE_PATH = "/api/v1/auth/"
JWT_COOKIE_SECURE = env.bool("JWT_COOKIE_SECURE", default=False)
JWT_COOKIE_SAMESITE = "Lax"
# A browser that logged in to an account before gets its own login/reset limit bucket.
LOGIN_DEVICE_COOKIE = "parley_device"
LOGIN_DEVICE_COOKIE_AGE = 180 * 24 * 3600

WS_TICKET_TTL_SECONDS = 30
# The least time a password-reset answer takes, so a known address (whose email is sent
# in the request when tasks run eagerly) answers no slower than an unknown one.
PASSWORD_RESET_MIN_SECONDS = env.float(
    "PASSWORD_RESET_MIN_SECONDS", default=0.3 if CELERY_TASK_ALWAYS_EAGER else 0.0
)
EMAIL_VERIFICATION_MAX_AGE = timedelta(days=3)

"""Production: everything secret or site-specific comes from the environment."""

from .base import *  # noqa: F403
from .base import DATABASES, env, use_connection_pool

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

use_connection_pool(DATABASES["default"], env.int("DB_POOL_MAX_SIZE", default=10))

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
# Secure unless JWT_COOKIE_SECURE=false (a trial over plain HTTP, README): the browser
# client needs the CSRF cookie wherever it has the auth cookies.
JWT_COOKIE_SECURE = env.bool("JWT_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = JWT_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405

"""Settings shared by every mode, read from the environment (django-environ).

The site itself is here: applications, middleware, templates, uploads and media, email,
CORS and CSRF, logging and the rules of listings, bookings and negotiations. The rest is
in modules of their own, imported here: ``environment.py`` (``BASE_DIR``, ``env``),
``services.py`` (databases, Redis and Celery for the two runtime modes of DESIGN.md
section 2: SQLite, in-memory layer and eager tasks without ``DATABASE_URL`` /
``REDIS_URL``; PostgreSQL, channels-redis and a Redis broker and cache with them),
``auth.py`` (passwords, JWT and cookies) and ``api.py`` (REST framework, error responses,
OpenAPI schema).

``CLOUDINARY_URL`` switches media storage to Cloudinary; ``EMAIL_URL`` selects
the email backend (console by default).
"""

from datetime import timedelta
from decimal import Decimal

from .api import *  # noqa: F403
from .auth import *  # noqa: F403
from .environment import BASE_DIR, env
from .services import *  # noqa: F403

# Each mode sets SECRET_KEY: production requires it from the environment.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Error pages and reports mask secrets, URL-like settings with credentials included.
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.api.errors.SecretMaskingReporterFilter"
# The admin's path (a guessable /admin/ invites password guessing); always ends in "/".
ADMIN_URL = env("ADMIN_URL", default="admin/").strip("/") + "/"

# --- Applications -------------------------------------------------------------------------

INSTALLED_APPS = [
    "daphne",
    "accounts.admin_site.ParleyAdminConfig",  # django.contrib.admin, throttled login
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our static files
    "drf_standardized_errors",
    "channels",
    "accounts",
    "properties",
    "bookings",
    "negotiation",
    "notifications",
    "web",
]

MIDDLEWARE = [
    "core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.PrivateResponsesMiddleware",  # no-store on personal API answers
    # last: the chain above and the (sync) views run in one thread, see its docstring
    "core.middleware.SyncViewsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Uploads and media --------------------------------------------------------------------

# Request bodies beyond this are refused before a view sees them (413/400).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
AVATAR_MAX_BYTES = 5 * 1024 * 1024
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
IMAGE_MAX_PIXELS = 40_000_000

MEDIA_URL = "/media/"
# The app itself serves MEDIA_ROOT at MEDIA_URL (the embedded default; see local.py).
SERVE_MEDIA = False
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []

CLOUDINARY_URL = env("CLOUDINARY_URL", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Identity documents never go to a public CDN: local, served only to owner and staff.
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private"))},
    },
}
if CLOUDINARY_URL:
    STORAGES["default"] = {"BACKEND": "core.storage.CloudinaryMediaStorage"}

# --- Email --------------------------------------------------------------------------------

_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Parley <no-reply@parley.local>")
FRONTEND_URL = env("FRONTEND_URL", default="http://127.0.0.1:8000")

# --- CORS / CSRF --------------------------------------------------------------------------

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_COOKIE_HTTPONLY = False  # the browser client reads it for the X-CSRFToken header
CSRF_COOKIE_SAMESITE = "Lax"

# --- I18N ---------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging ------------------------------------------------------------------------------

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="text")  # "json" in production
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_id.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}

CSRF_FAILURE_VIEW = "core.api.errors.csrf_failure"

# --- Properties, bookings, negotiation -----------------------------------------------------

LISTING_MIN_PHOTOS = env.int("LISTING_MIN_PHOTOS", default=3)
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_PER_PROPERTY = 30
SERVICE_FEE_PERCENT = Decimal(env("SERVICE_FEE_PERCENT", default="10"))
BOOKING_MAX_ADVANCE_DAYS = 730
AVAILABILITY_MAX_DAYS = 366
# iCal feed URLs may not point to loopback/private addresses (SSRF); tests serve feeds locally.
ICAL_ALLOW_PRIVATE_URLS = False
BOOKING_PENDING_HOST_HOURS = env.int("BOOKING_PENDING_HOST_HOURS", default=24)
BOOKING_PAYMENT_HOLD_MINUTES = env.int("BOOKING_PAYMENT_HOLD_MINUTES", default=30)
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="bookings.payments.DatabaseGateway")
NEGOTIATION_MAX_ROUNDS = env.int("NEGOTIATION_MAX_ROUNDS", default=5)
# Negotiations a guest may open per listing in any 24 h, whatever became of them: with the
# round cap, this bounds how far a floor can be narrowed by probing (docs/money.md).
NEGOTIATION_OPENS_PER_DAY = env.int("NEGOTIATION_OPENS_PER_DAY", default=3)
NEGOTIATION_OFFER_TTL = timedelta(hours=env.int("NEGOTIATION_OFFER_TTL_HOURS", default=24))
# Minutes, when set, instead of the hours above (for demos and tests of offers lapsing).
if env("NEGOTIATION_OFFER_TTL_MINUTES", default=""):
    NEGOTIATION_OFFER_TTL = timedelta(minutes=env.int("NEGOTIATION_OFFER_TTL_MINUTES"))

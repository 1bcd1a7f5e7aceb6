"""Settings shared by every mode, read from the environment (django-environ).

Two runtime modes (DESIGN.md section 2):

* embedded default: no ``DATABASE_URL`` / ``REDIS_URL`` -> SQLite with IMMEDIATE
  transactions, in-memory channel layer, eager Celery, local-memory cache;
* services: ``DATABASE_URL`` -> PostgreSQL, ``REDIS_URL`` -> channels-redis,
  Redis Celery broker and Redis cache.

``CLOUDINARY_URL`` switches media storage to Cloudinary; ``EMAIL_URL`` selects
the email backend (console by default).
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

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


# --- Database -----------------------------------------------------------------------------
def use_connection_pool(database: dict, max_size: int) -> None:
    """A psycopg pool per process (``max_size`` > 0; PostgreSQL only).

    A request borrows a connection and gives it back at its end, so the per-request
    connect (a few ms of PostgreSQL backend start-up, every request under ASGI) goes away
    without persistent connections piling up, one per request thread. Production turns
    it on by default.
    """
    if max_size <= 0 or "postgresql" not in database["ENGINE"]:
        return
    database["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with a pool
    database.setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, max_size),
        "max_size": max_size,
        # waiting longer than this for a free connection fails the request (503)
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }


def limit_parallel_query(database: dict, workers: int) -> None:
    """``max_parallel_workers_per_gather`` for the app's PostgreSQL sessions (default 0).

    Parallel query speeds up one big query on an idle server. A web app runs many small
    queries at once, and a parallel plan only adds the cost of starting its workers: on
    the 2-core benchmark machine a radius search that PostgreSQL planned with two
    workers took 33 ms, and 3 to 14 ms without (docs/benchmarks.md).
    """
    if "postgresql" not in database["ENGINE"]:
        return
    options = database.setdefault("OPTIONS", {})
    # No JIT either: compiling a plan takes 1 to 2 s, which PostgreSQL starts paying once a
    # query's estimated cost passes jit_above_cost; a web request never wins that back
    # (a radius search priced for its dates spent 1.8 of its 2.4 s compiling, 5 Dec 2026).
    setting = f"-c max_parallel_workers_per_gather={workers} -c jit=off"
    options["options"] = f"{options['options']} {setting}" if options.get("options") else setting


SQLITE_PATH = env("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3"))
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["ENGINE"] = "core.sqlite"  # its write lock at BEGIN, like ours
    # 0: under ASGI every request runs in its own thread, so persistent connections are
    # never reused and pile up (measured in docs/benchmarks.md).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    use_connection_pool(DATABASES["default"], env.int("DB_POOL_MAX_SIZE", default=0))
    limit_parallel_query(
        DATABASES["default"], env.int("DB_MAX_PARALLEL_WORKERS_PER_GATHER", default=0)
    )
else:
    # IMMEDIATE transactions take the write lock at BEGIN, so a check-then-insert
    # inside transaction.atomic() cannot interleave with another writer.
    DATABASES = {
        "default": {
            "ENGINE": "core.sqlite",  # IMMEDIATE transactions, WAL, a 20 s busy timeout
            "NAME": SQLITE_PATH,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ATOMIC_REQUESTS = False  # services own their transactions (STYLE.md)
DB_LOCK_TIMEOUT_MS = env.int("DB_LOCK_TIMEOUT_MS", default=5000)  # core.locks: then 503

# --- Redis: cache, channel layer, Celery --------------------------------------------------

REDIS_URL = env("REDIS_URL", default="")
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", default="parley")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.SharedPoolRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # The pub/sub layer publishes each group message once to Redis (no per-channel
    # lists), which measured a lower p99 than the core layer; delivery is at most
    # once either way, so clients re-sync from the event log on reconnect.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": f"{REDIS_KEY_PREFIX}:asgi",
            },
        }
    }
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Eager tasks still open a producer (to serialise their arguments): a hostname keeps
    # kombu from warning "No hostname was supplied" on the first email (issue 20).
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True

CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Redis redelivers an unacknowledged task after this; never schedule further ahead.
# A task whose worker died unacked is handed out again after the visibility timeout;
# the restore sweep runs every interval x throttle seconds. 5 minutes: every task runs
# in seconds, and no countdown or retry delay reaches it (CELERY_RETRY_DELAY_MAX).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
if env("CELERY_BROKER_KEY_PREFIX", default=""):  # e.g. one per test run sharing a Redis
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env("CELERY_BROKER_KEY_PREFIX")
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# The longest countdown any task is retried or scheduled with (an ETA task waits unacked in
# the worker; past the visibility timeout Redis would hand it to a second worker).
CELERY_RETRY_DELAY_MAX = 240

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

# --- REST framework -----------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.JWTCookieAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only; the views that take a file (photos, avatar, identity documents)
    # name core.api.parsers.MultiPartParser themselves. Any other body is 415.
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.api.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttles.AnonThrottle",
        "core.api.throttles.UserThrottle",
        "core.api.throttles.ScopedWriteThrottle",  # views with a throttle_scope
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="120/min"),
        "user": env("THROTTLE_USER", default="600/min"),
        "login_ip": env("THROTTLE_LOGIN_IP", default="20/min"),
        "login_email": env("THROTTLE_LOGIN_EMAIL", default="5/min"),
        "register_ip": env("THROTTLE_REGISTER_IP", default="10/hour"),
        "password_reset_ip": env("THROTTLE_PASSWORD_RESET_IP", default="10/hour"),
        "password_reset_email": env("THROTTLE_PASSWORD_RESET_EMAIL", default="3/hour"),
        "ws_ticket": env("THROTTLE_WS_TICKET", default="60/min"),
        "bookings": env("THROTTLE_BOOKINGS", default="30/min"),
        "negotiation": env("THROTTLE_NEGOTIATION", default="120/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

_API_CLIENT_ERRORS = ("400", "401", "403", "404", "405", "406", "409", "413", "415", "429")
_API_SERVER_ERRORS = ("500", "503")
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "core.api.errors.ExceptionHandler",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    # Documented error responses (core/api/openapi.py): generic shape, free-string codes.
    "ALLOWED_ERROR_STATUS_CODES": [*_API_CLIENT_ERRORS, *_API_SERVER_ERRORS],
    "ERROR_SCHEMAS": {
        **dict.fromkeys([*_API_CLIENT_ERRORS, "402"], "core.api.openapi.ErrorResponseSerializer"),
        **dict.fromkeys(
            [*_API_SERVER_ERRORS, "502"], "core.api.openapi.ServerErrorResponseSerializer"
        ),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Parley API",
    "DESCRIPTION": "Stays where guest and host agree a price live, then book.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs pages load Swagger UI and ReDoc from this server, never a CDN (core/api/docs.py).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # operation ids shown (the names generated clients use); no validator.swagger.io badge
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "displayOperationId": True, "validatorUrl": None},
    # The schema is checked by tests/test_schema.py instead: drf-standardized-errors
    # generates per-endpoint error-code enums whose names spectacular warns about.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    "ENUM_NAME_OVERRIDES": {
        name: f"drf_standardized_errors.openapi_serializers.{name}.choices"
        for name in (
            "ValidationErrorEnum",
            "ClientErrorEnum",
            "ServerErrorEnum",
            "ParseErrorCodeEnum",
            "ErrorCode401Enum",
            "ErrorCode403Enum",
            "ErrorCode404Enum",
            "ErrorCode405Enum",
            "ErrorCode406Enum",
            "ErrorCode415Enum",
            "ErrorCode429Enum",
            "ErrorCode500Enum",
        )
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.openapi.add_links",
        "core.api.openapi.multipart_has_a_part",
    ],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "cookieAuth": {"type": "apiKey", "in": "cookie", "name": JWT_ACCESS_COOKIE},
        }
    },
}
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["ErrorTypeEnum"] = ["validation_error", "client_error"]
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["StayTypeEnum"] = "properties.models.StayKind"

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

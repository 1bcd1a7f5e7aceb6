"""The REST API: Django REST framework (authentication, parsers, pagination, throttle rates),
the error responses (drf-standardized-errors) and the OpenAPI schema (drf-spectacular)."""

from .auth import JWT_ACCESS_COOKIE
from .environment import env

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

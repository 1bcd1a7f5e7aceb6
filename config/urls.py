from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView

from core import health
from core.api import docs as api_docs
from core.api import errors

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("properties.api.urls")),
    path("", include("bookings.api.urls")),
    path("", include("negotiation.api.urls")),
    path("", include("notifications.api.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI and ReDoc from this server's own static files, under their own CSP.
    path("api/docs/", api_docs.SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", api_docs.RedocView.as_view(url_name="schema"), name="redoc"),
    # Unknown API paths answer in the API's error shape, even with DEBUG on, whatever the
    # method: 404 not_found, not a CSRF failure.
    re_path(r"^api/", errors.unknown_api_path),
    # One-click unsubscribe links of optional emails (List-Unsubscribe, RFC 8058).
    path("email/", include("notifications.urls")),
    # The browser client (hash routes), after the API so it never shadows it.
    path("", include("web.urls")),
]

if settings.SERVE_MEDIA or settings.DEBUG:
    # The embedded default serves uploads itself, with or without DEBUG (Django's
    # ``static()`` helper only does with DEBUG); services mode keeps them on the CDN.
    urlpatterns.insert(
        -1,
        re_path(
            rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        ),
    )

handler400 = "core.api.errors.handler400"
handler403 = "core.api.errors.handler403"
handler404 = "core.api.errors.handler404"
handler500 = "core.api.errors.handler500"

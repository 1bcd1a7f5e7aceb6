"""The API's interactive docs (Swagger UI at ``/api/docs/``, ReDoc at ``/api/redoc/``).

Both are served from this server's own static files (drf-spectacular-sidecar), never a
CDN, so they work offline, and under a strict Content-Security-Policy of their own:
scripts and styles from this origin only. The pages carry no inline code (Swagger UI's
start script is served by the view itself, ReDoc's is a static file); ReDoc writes its
styles into ``<style>`` elements at run time (styled-components), which are allowed by a
nonce made for each response and handed to ReDoc (its ``nonce`` option), not by
``'unsafe-inline'``. ReDoc's search runs in a Web Worker made from a ``blob:`` URL.
"""

import secrets

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


def docs_policy(*, style_nonce: str | None = None) -> str:
    styles = ["'self'"] + ([f"'nonce-{style_nonce}'"] if style_nonce else [])
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": styles,
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI; its start script is this view's answer to ``?script``."""

    template_name = "api_docs/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = docs_policy()
        return response


class RedocView(SpectacularRedocView):
    template_name = "api_docs/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        nonce = secrets.token_urlsafe(18)
        response.data["csp_nonce"] = nonce
        response.data["settings"] = self._dump(self.ui_settings()) or "{}"
        response.headers["Content-Security-Policy"] = docs_policy(style_nonce=nonce)
        return response

    @staticmethod
    def ui_settings() -> dict:
        from drf_spectacular.settings import spectacular_settings

        return dict(spectacular_settings.REDOC_UI_SETTINGS or {})

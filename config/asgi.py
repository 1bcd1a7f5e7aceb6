"""ASGI entry point: HTTP to Django, WebSockets through origin check, JWT auth, router."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

# Django must be set up before importing anything that touches models.
django_asgi_app = get_asgi_application()

try:
    from daphne.http_protocol import WebRequest
except ImportError:  # pragma: no cover - another ASGI server
    pass
else:
    # Daphne's HTTP is Twisted's, whose Request parses the form body of every POST itself
    # (into ``request.args``, which daphne never reads) and answers one it cannot parse
    # (an empty multipart body, ``--XYZ--``) with a bare ``400 Bad Request`` before
    # Django sees the request: no error body, no request id, no log line. Django parses
    # bodies; Twisted is told not to (a property: Twisted sets the flag on each request).
    WebRequest._parsePOSTFormSubmission = property(lambda self: False, lambda self, value: None)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from accounts.ws_auth import JWTAuthMiddleware  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from core.embedded_scheduler import with_embedded_scheduler  # noqa: E402

# The embedded default also runs the beat schedule in this process (no-op otherwise).
application = with_embedded_scheduler(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(
                JWTAuthMiddleware(URLRouter(websocket_urlpatterns))
            ),
        }
    )
)

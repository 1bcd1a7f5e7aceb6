"""ASGI entry point: HTTP to Django, WebSockets through origin check, JWT auth, router."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

# Django must be set up before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from accounts.ws_auth import JWTAuthMiddleware  # noqa: E402
from config.embedded_scheduler import with_embedded_scheduler  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402

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

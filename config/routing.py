"""WebSocket URL routes of every app."""

from django.urls import path

from negotiation.consumers import NegotiationConsumer
from notifications.consumers import NotificationConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationConsumer.as_asgi()),
    path("ws/negotiations/<int:negotiation_id>/", NegotiationConsumer.as_asgi()),
]

"""The per-user notification socket. For now: authentication and ping/pong."""

import json

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from notifications.events import user_group

MAX_FRAME_BYTES = 16 * 1024


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None or len(text_data) > MAX_FRAME_BYTES:
            await self._error("bad_frame", "Send JSON text frames of at most 16 KB.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("bad_json", "The frame is not valid JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self._error("bad_frame", "A frame must be a JSON object.")
            return
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})
            return
        await self._error("unknown_type", "Unknown frame type.")

    async def notify(self, event):
        """Group handler: forward a server-side payload to this socket."""
        await self.send_json(event["payload"])

    async def _error(self, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail})

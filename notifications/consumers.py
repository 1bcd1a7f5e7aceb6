"""The per-user notification socket: stored notifications (``{"type": "notification"}``)
with ``?after=<id>`` replay, plus the live ``booking.*`` and negotiation summary events.

An inbox: ``{"type": "unread", "count": N}`` on connect and after every new notification
or read change (``{"type": "read", "ids": [...]}``, from any of the user's tabs). The
socket lives as long as its credentials: it closes with 4401 when the access token it was
opened with expires (a ticket counts as a fresh access token; the authentication
middleware records when, ``core.consumers.credentials_expire_at``); the client
reconnects with a new ticket and ``?after=`` (docs/websocket.md). Frames, their limits
and errors are the base consumer's (``core.consumers``): only ``ping`` is understood.
"""

import asyncio
import time

from channels.db import database_sync_to_async

from core.consumers import AsyncJsonConsumer, after_param, credentials_expire_at
from notifications.events import user_group
from notifications.selectors import notifications_after, notifications_unread_count


class NotificationConsumer(AsyncJsonConsumer):
    async def connect(self):
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user_id = user.pk
        self.expiry = asyncio.get_running_loop().call_later(
            max(0.0, credentials_expire_at(self.scope) - time.time()), self._expire
        )
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.last_id = None
        after = after_param(self.scope)
        if after is not None:
            self.last_id = after
            for notification in await _notifications_after(user.pk, after):
                await self.send_json(notification.as_frame())
                self.last_id = notification.pk
        await self._send_unread()
        self.frames_open = True

    def _expire(self):
        self.frames_open = False
        self.expired = asyncio.ensure_future(self.close(code=4401))

    async def disconnect(self, code):
        self.frames_open = False
        if getattr(self, "expiry", None):
            self.expiry.cancel()
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def notify(self, event):
        """Group handler: forward a server-side payload; never a notification twice. A new
        notification or a read change is followed by the unread count, counted now."""
        payload = event["payload"]
        if payload.get("type") == "notification":
            if self.last_id is not None and payload["id"] <= self.last_id:
                return
            self.last_id = payload["id"]
        await self.send_json(payload)
        if payload.get("type") in {"notification", "read"}:
            await self._send_unread()

    async def _send_unread(self) -> None:
        count = await database_sync_to_async(notifications_unread_count)(user_id=self.user_id)
        await self.send_json({"type": "unread", "count": count})


@database_sync_to_async
def _notifications_after(user_id: int, after: int):
    return notifications_after(user_id=user_id, after=after)

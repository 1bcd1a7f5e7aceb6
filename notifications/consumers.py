"""The per-user notification socket: stored notifications (``{"type": "notification"}``)
with ``?after=<id>`` replay, plus the live ``booking.*`` and negotiation summary events.

An inbox: ``{"type": "unread", "count": N}`` on connect and after every new notification
or read change (``{"type": "read", "ids": [...]}``, from any of the user's tabs). The
socket lives as long as its credentials: it closes with 4401 when the access token it was
opened with expires (a ticket counts as a fresh access token); the client reconnects
with a new ticket and ``?after=`` (docs/websocket.md)."""

import asyncio
import json
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from core.consumers import AsyncJsonConsumer
from notifications.events import user_group
from notifications.selectors import notifications_after, notifications_unread_count

MAX_FRAME_BYTES = 16 * 1024


class NotificationConsumer(AsyncJsonConsumer):
    async def connect(self):
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user_id = user.pk
        self.expiry = asyncio.get_running_loop().call_later(
            max(0.0, _auth_expires_at(self.scope) - time.time()), self._expire
        )
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.last_id = None
        after = _after_param(self.scope)
        if after is not None:
            self.last_id = after
            for notification in await _notifications_after(user.pk, after):
                await self.send_json(notification.as_frame())
                self.last_id = notification.pk
        await self._send_unread()

    def _expire(self):
        self.expired = asyncio.ensure_future(self.close(code=4401))

    async def disconnect(self, code):
        if getattr(self, "expiry", None):
            self.expiry.cancel()
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None or len(text_data) > MAX_FRAME_BYTES:
            await self._error("bad_frame", "Send JSON text frames of at most 16 KB.")
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # deeply nested arrays (fuzz-found)
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

    async def _error(self, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail})


def _after_param(scope) -> int | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if "after" not in query:
        return None
    try:
        return max(0, min(int(query["after"][0]), 2**63 - 1))
    except ValueError:
        return 0


def _auth_expires_at(scope) -> float:
    """When the socket's credentials expire (epoch seconds): the access token's ``exp``;
    a ticket (one-time, minted with a valid access token) counts as a fresh access token."""
    from accounts.ws_auth import _credentials

    kind, value = _credentials(scope)
    if kind == "token":
        try:
            return float(AccessToken(value)["exp"])
        except (TokenError, KeyError):
            return time.time()
    return time.time() + settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()


@database_sync_to_async
def _notifications_after(user_id: int, after: int):
    return notifications_after(user_id=user_id, after=after)

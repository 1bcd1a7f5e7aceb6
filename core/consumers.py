"""The base of the project's WebSocket consumers: what both sockets do alike.

* Frames: JSON text frames of at most :data:`MAX_FRAME_BYTES` bytes of UTF-8 (what
  crosses the wire, measured the same on both sockets), each a JSON object; numbers
  with a fraction are read as ``Decimal`` and ``NaN``/``Infinity`` are refused. A frame
  that is not one gets an ``error`` frame (``bad_frame``, ``bad_json``) and the socket
  stays open.
* Rate: a token bucket per socket, a burst of :data:`BURST` frames refilled at
  :data:`REFILL_PER_SECOND` a second; a frame beyond it is answered ``rate_limited``.
* ``{"type": "ping"}`` is answered ``{"type": "pong"}``; an unknown type
  ``unknown_type``.
* Every error frame is ``{"type": "error", "code", "detail", "client_id"}``, the
  ``client_id`` being the frame's own when the consumer accepted it, else null.
* ``?after=``: :func:`after_param`, a position in a log of the socket (an event's
  ``seq``, a notification's id), clamped to ``[0, MAX_AFTER]``.
* The credentials' expiry: :func:`credentials_expire_at`, as the authentication
  middleware put it in the scope (:data:`CREDENTIALS_EXPIRE_AT`).

The protocol is docs/websocket.md.
"""

import json
import time
from decimal import Decimal
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer

MAX_FRAME_BYTES = 16 * 1024
BURST = 20  # frames
REFILL_PER_SECOND = 10.0
# The largest ``after`` a socket takes: a signed 64-bit integer, the range of every id and
# ``seq`` column the logs have (an ``after`` beyond a log's end replays nothing).
MAX_AFTER = 2**63 - 1
# The scope key under which the authentication middleware puts when the socket's
# credentials expire (epoch seconds).
CREDENTIALS_EXPIRE_AT = "credentials_expire_at"


class TokenBucket:
    def __init__(self, capacity: int = BURST, rate: float = REFILL_PER_SECOND):
        self.capacity, self.rate = capacity, rate
        self.tokens, self.stamp = float(capacity), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class AsyncJsonConsumer(AsyncJsonWebsocketConsumer):
    """``AsyncJsonWebsocketConsumer`` with the frame handling above, and without Channels'
    connection clean-up per message.

    A subclass sets ``self.frames_open = True`` once the socket is set up (authenticated,
    allowed, joined): frames before that, or after it closed the socket, are ignored. It
    handles its own frame types in :meth:`receive_frame`.

    Since Channels 4.2, ``AsyncConsumer.dispatch`` runs Django's ``close_old_connections``
    through ``sync_to_async`` before every handler: for every frame received and every
    group message delivered, a hop to the process's one shared sync thread and back, so
    the deliveries of all sockets queued behind that thread. Our consumers never query
    the database on the event loop: every query goes through ``database_sync_to_async``,
    which closes old connections before and after, in the thread that runs the query.
    """

    frames_open = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bucket = TokenBucket()

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data=None, bytes_data=None):
        if not self.frames_open:
            return
        if not self.bucket.take():
            await self.send_error("rate_limited", "Too many frames; slow down.")
            return
        if text_data is None or not _fits(text_data):
            await self.send_error("bad_frame", "Send JSON text frames of at most 16 KB.")
            return
        try:
            content = json.loads(text_data, parse_float=Decimal, parse_constant=_reject)
        except (ValueError, RecursionError):  # deeply nested arrays (fuzz-found)
            await self.send_error("bad_json", "The frame is not valid JSON.")
            return
        if not isinstance(content, dict):
            await self.send_error("bad_frame", "A frame must be a JSON object.")
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict, **kwargs):
        kind = content.get("type")
        if not isinstance(kind, str):
            kind = None  # a list or object would not even hash (fuzz-found)
        if kind == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.receive_frame(kind, content)

    async def receive_frame(self, kind: str | None, content: dict) -> None:
        """A frame of type ``kind`` other than ``ping``; the base knows none."""
        await self.send_error("unknown_type", "Unknown frame type.")

    async def send_error(self, code: str, detail: str, client_id: str | None = None) -> None:
        await self.send_json(
            {"type": "error", "code": code, "detail": detail, "client_id": client_id}
        )


def _fits(text: str) -> bool:
    """Whether ``text`` is at most :data:`MAX_FRAME_BYTES` bytes of UTF-8 (1 to 4 bytes a
    character: most frames are decided without encoding them)."""
    if len(text) > MAX_FRAME_BYTES:
        return False
    return len(text) * 4 <= MAX_FRAME_BYTES or len(text.encode()) <= MAX_FRAME_BYTES


def _reject(constant):
    raise ValueError(f"{constant} is not allowed")


def after_param(scope) -> int | None:
    """The ``?after=`` of the socket's URL: None if absent, 0 if not an integer, else
    clamped to ``[0, MAX_AFTER]``."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if "after" not in query:
        return None
    try:
        return max(0, min(int(query["after"][0]), MAX_AFTER))
    except ValueError:
        return 0


def credentials_expire_at(scope) -> float:
    """When the socket's credentials expire (epoch seconds), as the authentication
    middleware recorded it; a scope without it counts as expired."""
    return float(scope.get(CREDENTIALS_EXPIRE_AT) or 0.0)

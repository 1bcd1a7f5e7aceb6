"""The negotiation socket: replay after ``?after=SEQ``, then live events, in order,
with no gap and no duplicate; actions go through the same services as REST.

Replay and live delivery meet without gaps: the consumer joins the group first
and buffers live events while it replays from the database; afterwards it
sends only events with ``seq`` above the last one sent, and if a live event
skips ahead (a lost channel-layer message), it fetches the missing ones from
the log before sending it.
"""

import json
import time
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.http import Http404
from rest_framework.exceptions import APIException

from accounts.permissions import EmailUnverified
from core.api.fields import has_control_characters
from core.consumers import AsyncJsonConsumer
from core.errors import REDIS_OUTAGE, ApplicationError, ServiceUnavailable, is_outage
from negotiation import selectors, services
from negotiation.events import negotiation_group
from negotiation.models import Negotiation
from negotiation.presence import presence_join, presence_leave

MAX_FRAME_BYTES = 16 * 1024
TRY_AGAIN_LATER = 1013  # RFC 6455 close code
BURST = 20  # frames
REFILL_PER_SECOND = 10.0
ACTIONS = {"offer", "accept", "decline", "withdraw", "message"}


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


@database_sync_to_async
def _load(negotiation_id: int):
    return Negotiation.objects.filter(pk=negotiation_id).first()


@database_sync_to_async
def _read_marks(negotiation_id: int) -> list[dict]:
    return [
        {"type": "read", "user": user_id, "seq": seq}
        for user_id, seq in selectors.read_marks(negotiation_id=negotiation_id)
    ]


@database_sync_to_async
def _events_after(negotiation_id: int, after: int) -> list[dict]:
    return [
        e.as_frame() for e in selectors.events_after(negotiation_id=negotiation_id, after=after)
    ]


def _call_service(name: str, **kwargs):
    return getattr(services, name)(**kwargs)


# Each action is a transaction of its own, serialised by row locks, so it need not queue
# for the process's one thread-sensitive sync thread: actions of different sockets run on
# the executor's threads side by side (a socket still sends one action at a time).
_call = database_sync_to_async(_call_service, thread_sensitive=False)


class NegotiationConsumer(AsyncJsonConsumer):
    async def connect(self):
        self.negotiation_id = int(self.scope["url_route"]["kwargs"]["negotiation_id"])
        self.user = self.scope.get("user")
        self.group = None
        await self.accept()
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=4401)
            return
        try:
            negotiation = await _load(self.negotiation_id)
        except Exception as exc:
            if not is_outage(exc):
                raise
            await self.close(code=TRY_AGAIN_LATER)  # the database is down: reconnect later
            return
        if negotiation is None:
            await self.close(code=4404)
            return
        if negotiation.side_of(self.user.pk) is None:
            await self.close(code=4403)
            return
        self.bucket = TokenBucket()
        self.replaying = True
        self.buffer: list[dict] = []
        self.last_sent = self._after_param()
        self.group = negotiation_group(self.negotiation_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self._send_missing_up_to(None)
        self.replaying = False
        for frame in sorted(self.buffer, key=lambda f: f["seq"]):
            await self._deliver(frame)
        self.buffer = []
        for frame in await _read_marks(self.negotiation_id):  # "Seen" survives a reload
            await self.send_json(frame)
        await self._count_presence(presence_join)
        await self._relay({"type": "presence", "user": self.user.pk, "state": "joined"})

    def _after_param(self) -> int:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        try:
            return max(0, min(int(query.get("after", ["0"])[0]), 2**31 - 1))
        except ValueError:
            return 0

    async def disconnect(self, code):
        if self.group:
            if not await self._count_presence(presence_leave):  # their last connection
                await self._relay({"type": "presence", "user": self.user.pk, "state": "left"})
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _count_presence(self, count) -> int:
        """This person's connections to the room after counting this one in or out; with
        the cache unreachable, each connection speaks for itself (as before)."""
        try:
            return await count(negotiation_id=self.negotiation_id, user_id=self.user.pk)
        except REDIS_OUTAGE:
            return 1 if count is presence_join else 0

    # --- server -> client -------------------------------------------------------------------

    async def _send_missing_up_to(self, seq: int | None) -> None:
        for frame in await _events_after(self.negotiation_id, self.last_sent):
            if seq is not None and frame["seq"] > seq:
                break
            await self.send_json(frame)
            self.last_sent = frame["seq"]

    async def _deliver(self, frame: dict) -> None:
        if frame["seq"] <= self.last_sent:
            return  # already sent (replayed, or a duplicate)
        if frame["seq"] > self.last_sent + 1:
            await self._send_missing_up_to(frame["seq"] - 1)
        await self.send_json(frame)
        self.last_sent = frame["seq"]

    async def negotiation_event(self, message):
        frame = message["frame"]
        if self.replaying:
            self.buffer.append(frame)
        else:
            await self._deliver(frame)

    async def negotiation_ephemeral(self, message):
        frame = message["frame"]
        if frame.get("user") == self.user.pk and frame["type"] in {"typing", "presence"}:
            return  # not echoed to its sender
        await self.send_json(frame)
        if frame["type"] == "presence" and frame.get("state") == "joined":
            # Tell the newcomer who is already here ("here" is never answered: no loop).
            await self._relay({"type": "presence", "user": self.user.pk, "state": "here"})

    async def _relay(self, frame: dict) -> None:
        await self.channel_layer.group_send(
            self.group, {"type": "negotiation.ephemeral", "frame": frame}
        )

    # --- client -> server -------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if not self.group:
            return
        if not self.bucket.take():
            await self._error("rate_limited", "Too many frames; slow down.", None)
            return
        if text_data is None or len(text_data.encode()) > MAX_FRAME_BYTES:
            await self._error("bad_frame", "Send JSON text frames of at most 16 KB.", None)
            return
        try:
            content = json.loads(text_data, parse_float=Decimal, parse_constant=_reject)
        except (ValueError, RecursionError):
            await self._error("bad_json", "The frame is not valid JSON.", None)
            return
        if not isinstance(content, dict):
            await self._error("bad_frame", "A frame must be a JSON object.", None)
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if not isinstance(kind, str):
            kind = None  # a list or object would not even hash (fuzz-found)
        client_id = content.get("client_id")
        if client_id is not None and not _valid_client_id(client_id):
            if kind in ACTIONS:  # an action is refused rather than applied without its id
                detail = "client_id must be a string of 1 to 64 characters."
                await self._error("invalid", detail, None)
                return
            client_id = None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "typing":
            await self._relay({"type": "typing", "user": self.user.pk})
        elif kind == "read":
            await self._read(content, client_id)
        elif kind in ACTIONS:
            await self._act(kind, content, client_id)
        else:
            await self._error("unknown_type", "Unknown frame type.", client_id)

    async def _read(self, content, client_id):
        seq = content.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**31:
            await self._error("invalid", "read needs an integer seq.", client_id)
            return
        try:
            await _call(
                "negotiation_read", negotiation_id=self.negotiation_id, user=self.user, seq=seq
            )
        except Exception as exc:
            await self._outage_or_raise(exc, client_id)

    async def _act(self, kind: str, content: dict, client_id):
        if not self.user.is_email_verified:  # as over REST (IsEmailVerified)
            detail = str(EmailUnverified.default_detail)
            await self._error(EmailUnverified.default_code, detail, client_id)
            return
        kwargs = {"negotiation_id": self.negotiation_id, "user": self.user}
        try:
            if kind == "offer":
                kwargs["amount"] = _amount(content.get("amount"))
                kwargs["message"] = _text(content.get("message", ""), required=False)
            elif kind == "message":
                kwargs["body"] = _text(content.get("body"), required=True)
            outcome = await _call(f"negotiation_{kind}", client_id=client_id or "", **kwargs)
        except _BadField as exc:
            await self._error("invalid", str(exc), client_id)
            return
        except (Negotiation.DoesNotExist, Http404):
            await self._error("not_found", "No such negotiation.", client_id)
            return
        except ApplicationError as exc:
            await self._error(exc.code, exc.detail, client_id)
            return
        except APIException as exc:
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else "invalid"
            await self._error(code, str(exc.detail), client_id)
            return
        except Exception as exc:
            await self._outage_or_raise(exc, client_id)
            return
        ack = {"type": "ack", "client_id": client_id, "seq": outcome.seq}
        if outcome.notice:  # an offer declined at once: applied, and said in words
            ack["notice"] = outcome.notice
        await self.send_json(ack)

    async def _outage_or_raise(self, exc: Exception, client_id) -> None:
        """The database (or Redis) is down: say so and keep the socket; the action's fate
        shows in the event log once the service is back (the client re-syncs with
        ``after``). Anything else is a bug and closes the socket as usual."""
        if not is_outage(exc):
            raise exc
        await self._error("service_unavailable", ServiceUnavailable.default_detail, client_id)

    async def _error(self, code: str, detail: str, client_id) -> None:
        await self.send_json(
            {"type": "error", "code": code, "detail": detail, "client_id": client_id}
        )


def _valid_client_id(value) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 64


class _BadField(ValueError):
    pass


def _reject(constant):
    raise ValueError(f"{constant} is not allowed")


def _amount(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _BadField('amount must be a decimal string such as "410.00".')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise _BadField('amount must be a decimal string such as "410.00".') from None
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e10"):
        raise _BadField("amount must be a positive decimal below 10 000 000 000.")
    if amount != amount.quantize(Decimal("0.01")):
        raise _BadField("amount has at most two decimals.")
    return amount


def _text(value, *, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > 2000 or (required and not value.strip()):
        raise _BadField("Text of 1 to 2,000 characters is required.")
    if "\x00" in value:  # PostgreSQL cannot store it; REST refuses it too (fuzz-found)
        raise _BadField("Text may not contain NUL characters.")
    if has_control_characters(value, multiline=True):  # as REST (core/api/fields.py)
        raise _BadField("Control characters other than line breaks and tabs are not allowed.")
    return value.replace("\r\n", "\n").replace("\r", "\n")

"""The negotiation socket: replay after ``?after=SEQ``, then live events, in order,
with no gap and no duplicate; actions go through the same services as REST, their
frames validated by the same serializers (``negotiation.api.serializers``).

Replay and live delivery meet without gaps: the consumer joins the group first
and buffers live events while it replays from the database; afterwards it
sends only events with ``seq`` above the last one sent, and if a live event
skips ahead (a lost channel-layer message), it fetches the missing ones from
the log before sending it.

Frames, their size and rate limits and the error frames are the base consumer's
(``core.consumers``).
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass

from channels.db import database_sync_to_async
from rest_framework import serializers

from accounts.permissions import EmailUnverified
from core.consumers import AsyncJsonConsumer, after_param
from core.errors import REDIS_OUTAGE, ApplicationError, ServiceUnavailable, is_outage
from negotiation import selectors, services
from negotiation.api.serializers import MessageInSerializer, OfferInSerializer, ReadInSerializer
from negotiation.events import negotiation_group
from negotiation.models import Negotiation
from negotiation.presence import presence_join, presence_leave

TRY_AGAIN_LATER = 1013  # RFC 6455 close code


@dataclass(frozen=True)
class Action:
    """A frame type that changes the negotiation: the service it calls, with the fields
    its serializer validated (as the REST endpoint's), the negotiation, the user and the
    frame's ``client_id``."""

    service: Callable[..., services.Outcome]
    serializer: type[serializers.Serializer] | None = None


ACTIONS: dict[str, Action] = {
    "offer": Action(services.negotiation_offer, OfferInSerializer),
    "accept": Action(services.negotiation_accept),
    "decline": Action(services.negotiation_decline),
    "withdraw": Action(services.negotiation_withdraw),
    "message": Action(services.negotiation_message, MessageInSerializer),
}


@database_sync_to_async
def _side(negotiation_id: int, user) -> str | None:
    return selectors.negotiation_side(negotiation_id=negotiation_id, user=user)


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


def _call_service(service, **kwargs):
    return service(**kwargs)


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
            side = await _side(self.negotiation_id, self.user)
        except Negotiation.DoesNotExist:
            await self.close(code=4404)
            return
        except Exception as exc:
            if not is_outage(exc):
                raise
            await self.close(code=TRY_AGAIN_LATER)  # the database is down: reconnect later
            return
        if side is None:
            await self.close(code=4403)
            return
        self.replaying = True
        self.buffer: list[dict] = []
        self.last_sent = after_param(self.scope) or 0
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
        self.frames_open = True

    async def disconnect(self, code):
        self.frames_open = False
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

    async def receive_frame(self, kind, content):
        client_id = content.get("client_id")
        if client_id is not None and not _valid_client_id(client_id):
            if kind in ACTIONS:  # an action is refused rather than applied without its id
                detail = "client_id must be a string of 1 to 64 characters."
                await self.send_error("invalid", detail)
                return
            client_id = None
        if kind == "typing":
            await self._relay({"type": "typing", "user": self.user.pk})
        elif kind == "read":
            await self._read(content, client_id)
        elif kind in ACTIONS:
            await self._act(ACTIONS[kind], content, client_id)
        else:
            await self.send_error("unknown_type", "Unknown frame type.", client_id)

    async def _read(self, content, client_id):
        try:
            fields = _validated(ReadInSerializer, content)
        except _InvalidFields as exc:
            await self.send_error("invalid", str(exc), client_id)
            return
        try:
            await _call(
                services.negotiation_read,
                negotiation_id=self.negotiation_id,
                user=self.user,
                seq=fields["seq"],
            )
        except Exception as exc:
            await self._outage_or_raise(exc, client_id)

    async def _act(self, action: Action, content: dict, client_id):
        if not self.user.is_email_verified:  # as over REST (IsEmailVerified)
            detail = str(EmailUnverified.default_detail)
            await self.send_error(EmailUnverified.default_code, detail, client_id)
            return
        try:
            fields = _validated(action.serializer, content) if action.serializer else {}
        except _InvalidFields as exc:
            await self.send_error("invalid", str(exc), client_id)
            return
        try:
            outcome = await _call(
                action.service,
                negotiation_id=self.negotiation_id,
                user=self.user,
                client_id=client_id or "",
                **fields,
            )
        except Negotiation.DoesNotExist:
            await self.send_error("not_found", "No such negotiation.", client_id)
            return
        except ApplicationError as exc:
            await self.send_error(exc.code, exc.detail, client_id)
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
        await self.send_error("service_unavailable", ServiceUnavailable.default_detail, client_id)


def _valid_client_id(value) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 64


class _InvalidFields(ValueError):
    """What is wrong with a frame's fields, in words."""


def _validated(serializer_class, content: dict) -> dict:
    """The frame's fields as the REST endpoint validates its body; what is wrong with them
    is raised in words (``"amount: A valid number is required..."``)."""
    try:
        return dict(_frame_validator(serializer_class).run_validation(content))
    except serializers.ValidationError as exc:
        field, messages = next(iter(exc.detail.items()))
        message = messages[0] if isinstance(messages, list) else messages
        raise _InvalidFields(f"{field}: {message}") from None


@functools.cache
def _frame_validator(serializer_class) -> serializers.Serializer:
    """One serializer per frame type, its fields built once: a new serializer deep-copies
    its declared fields, which was most of a frame's validation (60 to 100 µs on the event
    loop, for every chat message; issue 21). Frames are validated on the event loop's one
    thread, one at a time, and ``run_validation`` keeps nothing on the serializer."""
    return serializer_class()

"""Chat and read marks: a message (on PostgreSQL, the plain case in one statement:
``negotiation.chat``), and a party's read position, relayed to the room."""

from datetime import timedelta

from django.db import connection, transaction

from accounts.models import User
from core.publishing import one_batch
from negotiation import chat
from negotiation.errors import NegotiationClosed
from negotiation.events import append_event, publish_ephemeral, publish_event, tell_event
from negotiation.models import ChatMessage, Negotiation, NegotiationStatus, ReadState
from negotiation.services.common import (
    Outcome,
    _expire_if_due,
    _keep_receipt,
    _lock_for_chat,
    _now,
    _receipt,
)
from notifications.services import announce

CHAT_AFTER_CLOSE = timedelta(days=14)


def _post_message(negotiation: Negotiation, author: User, body: str) -> int:
    message = ChatMessage.objects.create(negotiation=negotiation, author=author, body=body)
    event = append_event(
        negotiation,
        "message.created",
        {"message": message.pk, "body": body, "side": negotiation.side_of(author.pk)},
        actor=author,
    )
    publish_event(negotiation, event)
    tell_event(negotiation, event)  # the other party, in-app (a message has no email)
    return event.seq


def negotiation_message(
    *, negotiation_id: int, user: User, body: str, client_id: str = "", now=None
) -> Outcome:
    if connection.vendor == "postgresql":  # the plain case in one statement
        posted = chat.post_message(negotiation_id, user, body, _now(now), client_id)
        if posted is not None:
            # The statement committed on its own (or is the caller's transaction's): what
            # it published leaves in one batch, as a transaction's sends do at commit.
            with one_batch():
                publish_event(posted.negotiation, posted.event)
                announce(posted.notification)  # the other party's, live (no email)
            return Outcome(posted.negotiation, posted.event.seq)
    with transaction.atomic():
        negotiation = _lock_for_chat(negotiation_id, user)
        if (replayed := _receipt(negotiation, user, client_id)) is not None:
            return Outcome(negotiation, replayed)
        now = _now(now)
        _expire_if_due(negotiation, now)
        if negotiation.status != NegotiationStatus.OPEN and (
            negotiation.closed_at and now > negotiation.closed_at + CHAT_AFTER_CLOSE
        ):
            raise NegotiationClosed("Chat closes 14 days after a negotiation ends.")
        outcome = Outcome(negotiation, _post_message(negotiation, user, body))
        _keep_receipt(outcome, user, client_id)
        return outcome


def negotiation_read(*, negotiation_id: int, user: User, seq: int) -> int:
    """Record that ``user`` has read up to ``seq``; relayed to the other side, not stored
    as an event. Returns the stored read position (never moves backwards)."""
    with transaction.atomic():
        negotiation = Negotiation.objects.filter(pk=negotiation_id).first()
        if negotiation is None or negotiation.side_of(user.pk) is None:
            raise Negotiation.DoesNotExist
        seq = max(0, min(seq, negotiation.last_seq))
        state, _ = ReadState.objects.select_for_update().get_or_create(
            negotiation=negotiation, user=user
        )
        if seq > state.last_read_seq:
            state.last_read_seq = seq
            state.save(update_fields=["last_read_seq"])
            publish_ephemeral(negotiation.pk, {"type": "read", "user": user.pk, "seq": seq})
        return state.last_read_seq

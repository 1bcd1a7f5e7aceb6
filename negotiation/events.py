"""Appending to a negotiation's event log and publishing it after commit."""

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from negotiation.models import Event, Negotiation
from notifications.events import publish_to_users
from notifications.services import notify

# Events that become a notification of the party who did not cause them.
NOTIFIED = {
    "negotiation.opened",
    "offer.created",
    "offer.accepted",
    "negotiation.declined",
    "negotiation.withdrawn",
    "negotiation.expired",
    "negotiation.unavailable",
    "message.created",
}

logger = logging.getLogger(__name__)


def negotiation_group(negotiation_id: int) -> str:
    return f"negotiation.{negotiation_id}"


def append_event(negotiation: Negotiation, type: str, data: dict, actor=None) -> Event:
    """Next ``seq`` under the negotiation row lock the caller holds; published on commit."""
    data = json.loads(json.dumps(data, default=str))
    negotiation.last_seq += 1
    negotiation.save(update_fields=["last_seq", "updated_at"])
    event = Event.objects.create(
        negotiation=negotiation, seq=negotiation.last_seq, type=type, data=data, actor=actor
    )
    frame = event.as_frame()
    summary = {
        "type": f"negotiation.{type}" if not type.startswith("negotiation.") else type,
        "negotiation": {
            "id": negotiation.pk,
            "status": negotiation.status,
            "turn": negotiation.turn,
            "last_seq": negotiation.last_seq,
            "property": negotiation.property_id,
        },
        "event": type,
        "seq": event.seq,
    }

    def send() -> None:
        try:
            async_to_sync(get_channel_layer().group_send)(
                negotiation_group(negotiation.pk), {"type": "negotiation.event", "frame": frame}
            )
        except Exception:  # sockets re-sync from the log on reconnect
            logger.exception("could not publish event %s#%s", negotiation.pk, event.seq)

    transaction.on_commit(send)
    publish_to_users([negotiation.guest_id, negotiation.host_id], summary)
    if type in NOTIFIED:
        for user_id in (negotiation.guest_id, negotiation.host_id):
            if actor is None or user_id != actor.pk:
                notify(
                    user_id=user_id,
                    kind=f"negotiation.{type}" if not type.startswith("negotiation.") else type,
                    data={"negotiation": negotiation.pk, "seq": event.seq, **data},
                )
    return event


def publish_ephemeral(negotiation_id: int, frame: dict) -> None:
    """Typing, presence and read receipts: relayed to the group, never stored."""

    def send() -> None:
        try:
            async_to_sync(get_channel_layer().group_send)(
                negotiation_group(negotiation_id), {"type": "negotiation.ephemeral", "frame": frame}
            )
        except Exception:
            logger.exception("could not relay %s", frame.get("type"))

    transaction.on_commit(send)

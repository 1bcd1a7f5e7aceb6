"""Appending to a negotiation's event log and publishing it after commit."""

import json

from negotiation.models import Event, Negotiation
from notifications.events import group_send_on_commit, publish_to_users
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

    # sockets re-sync from the log on reconnect if this send is lost
    group_send_on_commit(
        negotiation_group(negotiation.pk), {"type": "negotiation.event", "frame": frame}
    )
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
    group_send_on_commit(
        negotiation_group(negotiation_id), {"type": "negotiation.ephemeral", "frame": frame}
    )

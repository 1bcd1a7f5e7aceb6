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


def append_event(
    negotiation: Negotiation, type: str, data: dict, actor=None, *, notify_parties: bool = True
) -> Event:
    """Next ``seq`` under the negotiation row lock the caller holds; published on commit.
    A notified event becomes a notification of each party but its actor, unless
    ``notify_parties`` is False (the event is then only in the log and the room)."""
    data = json.loads(json.dumps(data, default=str))
    negotiation.last_seq += 1
    negotiation.save(update_fields=["last_seq", "updated_at"])
    event = Event.objects.create(
        negotiation=negotiation, seq=negotiation.last_seq, type=type, data=data, actor=actor
    )
    publish_event(negotiation, event)
    if notify_parties and type in NOTIFIED:
        kind = notification_kind(type, data)
        for user_id in (negotiation.guest_id, negotiation.host_id):
            if actor is None or user_id != actor.pk:
                notify(user_id=user_id, kind=kind, data=notice_data(event))
    return event


def notification_kind(type: str, data: dict | None = None) -> str:
    """The notification kind of an event: ``negotiation.<event>``; a negotiation ended
    because its listing was archived has its own kind (with its own email)."""
    if type == "negotiation.unavailable" and (data or {}).get("reason") == "listing_archived":
        return "negotiation.listing_archived"
    return type if type.startswith("negotiation.") else f"negotiation.{type}"


def notice_data(event: Event) -> dict:
    """The data of the notification an event gives the party who did not cause it."""
    return {"negotiation": event.negotiation_id, "seq": event.seq, **event.data}


def publish_event(negotiation: Negotiation, event: Event) -> None:
    """After commit: the event frame to the negotiation's sockets (they re-sync from the
    log on reconnect if this send is lost) and a summary to both parties' user groups."""
    group_send_on_commit(
        negotiation_group(negotiation.pk), {"type": "negotiation.event", "frame": event.as_frame()}
    )
    summary = {
        "type": notification_kind(event.type),
        "negotiation": {
            "id": negotiation.pk,
            "status": negotiation.status,
            "turn": negotiation.turn,
            "last_seq": negotiation.last_seq,
            "property": negotiation.property_id,
        },
        "event": event.type,
        "seq": event.seq,
    }
    publish_to_users([negotiation.guest_id, negotiation.host_id], summary)


def publish_ephemeral(negotiation_id: int, frame: dict) -> None:
    """Typing, presence and read receipts: relayed to the group, never stored."""
    group_send_on_commit(
        negotiation_group(negotiation_id), {"type": "negotiation.ephemeral", "frame": frame}
    )

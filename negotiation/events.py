"""A negotiation's event log and what makes its events heard.

:func:`append_event` writes the next row of the log, and nothing else. What follows an
event is called by the service that appended it, one line each, where its reader sees
it: :func:`publish_event` (the event frame to the negotiation's sockets and a summary to
both parties' notification streams, after commit) and :func:`tell_event` (the
notifications the table of :mod:`notifications.recipients` gives the event, stored,
pushed live and emailed as it says).
"""

import json

from core.money import format_amount
from negotiation.models import Event, Negotiation
from notifications.events import group_send_on_commit, publish_to_users
from notifications.services import tell


def negotiation_group(negotiation_id: int) -> str:
    return f"negotiation.{negotiation_id}"


def append_event(negotiation: Negotiation, type: str, data: dict, actor=None) -> Event:
    """The next ``seq`` of the log, under the negotiation row lock the caller holds."""
    data = json.loads(json.dumps(data, default=str))
    negotiation.last_seq += 1
    negotiation.save(update_fields=["last_seq", "updated_at"])
    return Event.objects.create(
        negotiation=negotiation, seq=negotiation.last_seq, type=type, data=data, actor=actor
    )


def tell_event(negotiation: Negotiation, event: Event, *, notice: dict | None = None) -> None:
    """The notifications of a stored event, as the table says: who is told (in-app and
    live) and who is emailed, by who acted. ``notice`` adds to the notifications' data."""
    tell(
        kind=notification_kind(event.type, event.data),
        guest_id=negotiation.guest_id,
        host_id=negotiation.host_id,
        actor_id=event.actor_id,
        data={**notice_data(event), **_summary_for(negotiation, event), **(notice or {})},
    )


def _summary_for(negotiation: Negotiation, event: Event) -> dict:
    # A message's notification is in-app only, and written by chat.py's single statement
    # too: both paths keep to the event's own data.
    return {} if event.type == "message.created" else negotiation_summary(negotiation)


def negotiation_summary(negotiation: Negotiation) -> dict:
    """What an email about the negotiation needs beyond the event: the listing, the stay,
    the terms and both first names (the chat's one-statement path does without: messages
    have no email)."""
    prop = negotiation.property
    return {
        "title": prop.title,
        "property": prop.pk,
        "timezone": prop.timezone or "UTC",
        "check_in": negotiation.check_in.isoformat(),
        "check_out": negotiation.check_out.isoformat(),
        "check_in_time": prop.check_in_time.strftime("%H:%M") if prop.check_in_time else "",
        "check_out_time": prop.check_out_time.strftime("%H:%M") if prop.check_out_time else "",
        "guests": negotiation.guests,
        "stay_type": negotiation.stay_type,
        "currency": negotiation.currency,
        "list_total": format_amount(negotiation.list_total, negotiation.currency),
        "cancellation_policy": negotiation.cancellation_policy,
        "guest_id": negotiation.guest_id,
        "host_id": negotiation.host_id,
        "guest_name": negotiation.guest.first_name,
        "host_name": negotiation.host.first_name,
    }


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

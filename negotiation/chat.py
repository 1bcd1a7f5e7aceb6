"""A chat message on an open negotiation in one SQL statement (PostgreSQL).

The commonest action of a live negotiation took seven round trips to PostgreSQL through
the ORM (``BEGIN``, the row lock, the message, ``last_seq``, the event, the
counterpart's notification, ``COMMIT``), about two thirds of its latency at 200 actions/s
(docs/benchmarks-negotiation.md). Here one statement does the same writes: its
``UPDATE`` takes the negotiation's row lock and the next ``seq``, the inserts use what
it returns, and the statement commits on its own (or inside the caller's transaction).

Only the plain case runs here: a party writing on an open negotiation that has not
lapsed. Anything else (not found, not a party, lapsed and due to be recorded as expired,
closed) matches no row and returns ``None``; ``services.negotiation_message`` then takes
its ORM path, which decides and refuses exactly as before. What was written is returned
for the service to publish (the event, and the counterpart's notification, live), as
its ORM path does. A test keeps both paths' rows and frames equal.

Time: the statement is given the application's clock, as the ORM path uses it; since
that clock was read before the lock, an event's time is at least its predecessor's
(``GREATEST`` with ``updated_at``, which every event sets), so times follow ``seq``.
"""

import contextlib
import json
from datetime import datetime
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction

from accounts.models import User
from negotiation.events import notice_data, notification_kind
from negotiation.models import ActionReceipt, ChatMessage, Event, Negotiation, NegotiationStatus
from notifications.models import Notification

EVENT_TYPE = "message.created"

# Table names come from the models; every value is a parameter.
_SQL = f"""
WITH negotiation AS (
    UPDATE {Negotiation._meta.db_table}
    SET last_seq = last_seq + 1, updated_at = GREATEST(%(now)s, updated_at)
    WHERE id = %(negotiation)s AND status = %(open)s AND expires_at > %(now)s
      AND %(user)s IN (guest_id, host_id)
      AND NOT EXISTS (
          SELECT 1 FROM {ActionReceipt._meta.db_table}
          WHERE negotiation_id = %(negotiation)s AND user_id = %(user)s
            AND client_id = %(client_id)s
      )
    RETURNING id, last_seq, guest_id, host_id, status, turn, property_id, updated_at,
        CASE WHEN guest_id = %(user)s THEN 'guest' ELSE 'host' END AS side,
        CASE WHEN guest_id = %(user)s THEN host_id ELSE guest_id END AS counterpart
),
message AS (
    INSERT INTO {ChatMessage._meta.db_table} (negotiation_id, author_id, body, created_at)
    SELECT id, %(user)s, %(body)s, updated_at FROM negotiation
    RETURNING id
),
event AS (
    INSERT INTO {Event._meta.db_table} (negotiation_id, seq, type, data, actor_id, created_at)
    SELECT negotiation.id, negotiation.last_seq, %(type)s,
        jsonb_build_object('message', message.id, 'body', %(body)s::text,
                           'side', negotiation.side),
        %(user)s, negotiation.updated_at
    FROM negotiation, message
    RETURNING seq, data
),
receipt AS (
    INSERT INTO {ActionReceipt._meta.db_table} (negotiation_id, user_id, client_id, seq, created_at)
    SELECT id, %(user)s, %(client_id)s, last_seq, updated_at FROM negotiation
    WHERE %(client_id)s <> ''
),
notice AS (
    INSERT INTO {Notification._meta.db_table} (user_id, kind, data, created_at, dedupe_key)
    SELECT negotiation.counterpart, %(kind)s,
        jsonb_build_object('negotiation', negotiation.id, 'seq', event.seq) || event.data,
        negotiation.updated_at, ''
    FROM negotiation, event
    RETURNING id
)
SELECT negotiation.id, negotiation.last_seq, negotiation.guest_id, negotiation.host_id,
    negotiation.status, negotiation.turn, negotiation.property_id, negotiation.updated_at,
    negotiation.counterpart, event.data, notice.id
FROM negotiation, event, notice
"""  # noqa: S608


class Posted(NamedTuple):
    """What the statement wrote: the negotiation's new state (the columns an event's
    publication reads), the event and the counterpart's notification."""

    negotiation: Negotiation
    event: Event
    notification: Notification


def post_message(
    negotiation_id: int, user: User, body: str, now: datetime, client_id: str = ""
) -> Posted | None:
    """Store ``body`` as ``user``'s message on an open negotiation, or return ``None`` if
    this is not the plain case.

    A ``client_id`` this user already used here is not the plain case either (the ORM
    path answers it with its first ``seq``); two copies racing each other meet the
    receipt's unique constraint, and the loser is handed to the ORM path the same way."""
    params = {
        "negotiation": negotiation_id,
        "user": user.pk,
        "body": body,
        "now": now,
        "open": NegotiationStatus.OPEN,
        "type": EVENT_TYPE,
        "kind": notification_kind(EVENT_TYPE),
        "client_id": client_id,
    }
    # Inside a caller's transaction a savepoint keeps a lost race from aborting it; on
    # its own the statement commits (or fails) alone, with no extra round trip.
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with guard, connection.cursor() as cursor:
            cursor.execute(_SQL, params)
            row = cursor.fetchone()
    except IntegrityError:
        return None  # a concurrent copy of the same action won: its receipt answers this one
    if row is None:
        return None
    pk, seq, guest_id, host_id, status, turn, property_id, at, counterpart, data, notice = row
    negotiation = Negotiation(
        pk=pk,
        last_seq=seq,
        guest_id=guest_id,
        host_id=host_id,
        status=status,
        turn=turn,
        property_id=property_id,
        updated_at=at,
    )
    data = json.loads(data) if isinstance(data, str) else data
    event = Event(negotiation=negotiation, seq=seq, type=EVENT_TYPE, data=data, created_at=at)
    event.actor_id = user.pk
    notification = Notification(
        pk=notice,
        user_id=counterpart,
        kind=notification_kind(EVENT_TYPE),
        data=notice_data(event),
        created_at=at,
    )
    return Posted(negotiation, event, notification)

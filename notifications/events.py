"""Publishing to users' notification sockets, after commit.

A rolled-back transaction publishes nothing: the publish is registered with
``transaction.on_commit``. Payloads are round-tripped through JSON first so an
unserialisable event fails loudly where it is made (as Zulip does).
"""

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def publish_to_users(user_ids: list[int], payload: dict) -> None:
    """Send ``payload`` to each user's notification group once the transaction commits."""
    payload = json.loads(json.dumps(payload))

    def send() -> None:
        layer = get_channel_layer()
        for user_id in dict.fromkeys(user_ids):
            try:
                async_to_sync(layer.group_send)(
                    user_group(user_id), {"type": "notify", "payload": payload}
                )
            except Exception:  # the event log / REST stay the source of truth
                logger.exception("could not publish %s to user %s", payload.get("type"), user_id)

    transaction.on_commit(send)

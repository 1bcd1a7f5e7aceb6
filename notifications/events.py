"""Publishing to the users' notification groups, after commit.

The mechanism (one batch per transaction, savepoints respected, order kept) is
:mod:`core.publishing`; this module names the per-user groups and round-trips payloads
through JSON first, so an unserialisable event fails loudly where it is made (as Zulip
does).
"""

import json

from core.publishing import send_on_commit


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def publish_to_users(user_ids: list[int], payload: dict) -> None:
    """Send ``payload`` to each user's notification group once the transaction commits."""
    payload = json.loads(json.dumps(payload))
    for user_id in dict.fromkeys(user_ids):
        group_send_on_commit(user_group(user_id), {"type": "notify", "payload": payload})


def group_send_on_commit(group: str, message: dict) -> None:
    """Queue ``group_send(group, message)`` for when the current transaction commits (at
    once outside a transaction, or at the end of a ``core.publishing.one_batch`` block)."""
    send_on_commit(group, message)

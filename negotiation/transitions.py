"""The one place a negotiation changes status: the transition table
(:data:`negotiation.models.TRANSITIONS`) is checked, the status and its end written.
The event that records it, and who hears of it, are the calling service's."""

from datetime import datetime

from core.errors import InvalidTransition
from negotiation.models import TRANSITIONS, Negotiation


def check_transition(negotiation: Negotiation, to_status: str) -> None:
    if to_status not in TRANSITIONS[negotiation.status]:
        raise InvalidTransition(
            f"A negotiation that is {negotiation.get_status_display().lower()} cannot "
            f"become {to_status}."
        )


def close(negotiation: Negotiation, to_status: str, now: datetime) -> None:
    """End the negotiation (locked by the caller) as ``to_status`` at ``now``."""
    check_transition(negotiation, to_status)
    negotiation.status = to_status
    negotiation.closed_at = now
    negotiation.save(update_fields=["status", "closed_at", "updated_at"])

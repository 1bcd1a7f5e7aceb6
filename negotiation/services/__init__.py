"""Negotiation use-cases (DESIGN.md section 3, "Negotiation"), one module each kind:

- :mod:`.opening`: a guest opens a negotiation (an offer, a message, or both);
- :mod:`.offers`: offers and counter-offers (declined under the host's floor, accepted at
  the auto-accept price), accepting (which books), declining, withdrawing;
- :mod:`.messages`: chat and read marks;
- :mod:`.ending`: negotiations ended from outside (dates booked, listing archived, an
  account ending) and the expiry sweep;
- :mod:`.common`: the locks, lazy expiry and idempotent run every action shares;
  :mod:`.prices`: the rules an offer's amount keeps.

Each change appends an event with the next ``seq`` in the same transaction, then
publishes it and tells whom the table says, one line each (``negotiation.events``);
everything leaves after commit. The use-cases are importable from here.
"""

from negotiation.errors import NegotiationClosed
from negotiation.services.common import Outcome
from negotiation.services.ending import (
    negotiations_end_for_archive,
    negotiations_end_for_user,
    negotiations_expire_due,
    negotiations_mark_unavailable,
)
from negotiation.services.messages import negotiation_message, negotiation_read
from negotiation.services.offers import (
    negotiation_accept,
    negotiation_decline,
    negotiation_offer,
    negotiation_withdraw,
)
from negotiation.services.opening import negotiation_open

__all__ = [
    "NegotiationClosed",
    "Outcome",
    "negotiation_accept",
    "negotiation_decline",
    "negotiation_message",
    "negotiation_offer",
    "negotiation_open",
    "negotiation_read",
    "negotiation_withdraw",
    "negotiations_end_for_archive",
    "negotiations_end_for_user",
    "negotiations_expire_due",
    "negotiations_mark_unavailable",
]

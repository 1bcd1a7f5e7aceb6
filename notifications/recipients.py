"""Who is told what (DESIGN.md section 7), written once.

For every notification kind, by who acted (the guest, the host, or the system: a sweep,
an automatic rule), the table says which party gets the notification (stored in the
inbox and pushed on their notification socket) and which of those also get its email.

The rules, in words:

- The person who must act is always told, whoever acted: a booking waiting for payment
  tells the guest (with the pay link and the hold's end), a request tells the host.
- A confirmed, cancelled or expired booking tells both parties, the actor included: the
  actor's copy is an inbox item and an email receipt.
- New negotiations, offers, declines and messages tell the other party.
- An accepted offer tells the other party; the guest's email about it is the pay-now
  email of the booking it created, so only the host gets an email of the acceptance.
- Payment and account emails cannot be turned off (:data:`ALWAYS_EMAILED`); every other
  email can, and carries ``List-Unsubscribe``.

``notifications.services.tell`` applies the table; kinds addressed to one known person
(reminders, reviews, superhost) go through ``notify`` and are emailed when their row
emails anyone.
"""

from dataclasses import dataclass

GUEST = "guest"
HOST = "host"
SYSTEM = "system"
ROLES = (GUEST, HOST)
ACTORS = (GUEST, HOST, SYSTEM)

BOTH = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    """``told[actor]``: the roles notified; ``emailed``: which of them get the email."""

    told: dict[str, frozenset[str]]
    emailed: frozenset[str]

    def recipients(self, actor: str) -> dict[str, frozenset[str]]:
        """``{role: channels}`` for this actor; channels among ``in_app``, ``socket`` and
        ``email`` (in-app and socket always go together: the socket frame is the stored
        notification)."""
        return {
            role: frozenset({"in_app", "socket"} | ({"email"} if role in self.emailed else set()))
            for role in ROLES
            if role in self.told[actor]
        }


def _always(*roles: str) -> dict[str, frozenset[str]]:
    """The same roles whoever acted."""
    return dict.fromkeys(ACTORS, frozenset(roles))


def _other(*, system: frozenset[str] = BOTH) -> dict[str, frozenset[str]]:
    """The party who did not act (both, or ``system``, when nobody did)."""
    return {GUEST: frozenset({HOST}), HOST: frozenset({GUEST}), SYSTEM: system}


RULES: dict[str, Rule] = {
    # bookings
    "booking.pending_host": Rule(_always(HOST), frozenset({HOST})),
    "booking.awaiting_payment": Rule(_always(GUEST), frozenset({GUEST})),
    "booking.confirmed": Rule(_always(GUEST, HOST), BOTH),
    "booking.declined": Rule(_always(GUEST), frozenset({GUEST})),
    "booking.cancelled": Rule(_always(GUEST, HOST), BOTH),
    "booking.expired": Rule(_always(GUEST, HOST), BOTH),
    "booking.completed": Rule(_always(GUEST, HOST), NOBODY),
    "booking.request_expiring": Rule(_always(HOST), frozenset({HOST})),
    "booking.checkin_reminder": Rule(_always(GUEST), frozenset({GUEST})),
    "review.invitation": Rule(_always(GUEST, HOST), BOTH),
    "review.published": Rule(_other(), NOBODY),  # the actor: who wrote the review
    "superhost.gained": Rule(_always(HOST), frozenset({HOST})),
    "superhost.lost": Rule(_always(HOST), frozenset({HOST})),
    # negotiations
    "negotiation.opened": Rule(_always(HOST), frozenset({HOST})),
    "negotiation.offer.created": Rule(_other(), BOTH),
    "negotiation.offer.accepted": Rule(_other(system=frozenset({HOST})), frozenset({HOST})),
    "negotiation.declined": Rule(_other(), BOTH),
    "negotiation.withdrawn": Rule(_always(HOST), NOBODY),
    "negotiation.expired": Rule(_always(GUEST, HOST), BOTH),
    # the dates were taken (system), or the host's account closed (host)
    "negotiation.unavailable": Rule(_other(), frozenset({GUEST})),
    "negotiation.listing_archived": Rule(_always(GUEST), frozenset({GUEST})),
    "negotiation.message.created": Rule(_other(), NOBODY),
}

# Emails nobody can turn off: money and the booking it buys (account emails, such as
# verification and password reset, are not notifications and always go).
ALWAYS_EMAILED = frozenset(
    {
        "booking.awaiting_payment",
        "booking.confirmed",
        "booking.cancelled",
        "booking.declined",
        "booking.expired",
    }
)

# Kinds with an email that a user may turn off (``auth/me/`` ``email_preferences``).
OPTIONAL_EMAILS = frozenset(kind for kind, rule in RULES.items() if rule.emailed) - ALWAYS_EMAILED


def actor_role(*, actor_id: int | None, guest_id: int, host_id: int) -> str:
    if actor_id is not None and actor_id == guest_id:
        return GUEST
    if actor_id is not None and actor_id == host_id:
        return HOST
    return SYSTEM


def recipients(kind: str, actor: str) -> dict[str, frozenset[str]]:
    """``{role: channels}`` of ``kind`` when ``actor`` acted (a ``KeyError`` for a kind
    the table does not know: every kind has its rule)."""
    return RULES[kind].recipients(actor)


def emailed(kind: str) -> bool:
    """Whether ``kind`` has an email for anyone (kinds sent to one known person)."""
    rule = RULES.get(kind)
    return bool(rule and rule.emailed)

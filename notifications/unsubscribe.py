"""One-click unsubscribe from an optional email kind (RFC 8058).

Every optional email carries ``List-Unsubscribe: <url>`` and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click``. The URL holds a signed token naming the user and the kind,
so it works without logging in: a mail provider's ``POST`` turns that kind's emails off
at once; a person who opens the link gets a page with a button that does the same (a
``GET`` changes nothing, so link scanners cannot unsubscribe anyone). Payment emails have
no such link and cannot be turned off.

This module makes and reads the tokens; the page they open is
:func:`notifications.views.unsubscribe_view`.
"""

from django.core import signing
from django.urls import reverse

from notifications.links import site_url
from notifications.recipients import OPTIONAL_EMAILS

SALT = "parley.notifications.unsubscribe"

KIND_WORDS = {
    "booking.pending_host": "new booking requests",
    "booking.request_expiring": "reminders of requests about to expire",
    "booking.checkin_reminder": "check-in reminders",
    "review.invitation": "invitations to review a stay",
    "superhost.gained": "Superhost news",
    "superhost.lost": "Superhost news",
    "negotiation.opened": "new negotiations",
    "negotiation.offer.created": "new offers",
    "negotiation.offer.accepted": "accepted offers",
    "negotiation.declined": "declined negotiations",
    "negotiation.expired": "expired negotiations",
    "negotiation.unavailable": "negotiations whose dates were taken",
    "negotiation.listing_archived": "negotiations ended by an archived listing",
}


def token(*, user_id: int, kind: str) -> str:
    return signing.dumps({"u": user_id, "k": kind}, salt=SALT, compress=True)


def url(*, user_id: int, kind: str) -> str:
    return site_url() + reverse("email-unsubscribe", args=[token(user_id=user_id, kind=kind)])


def headers(*, user_id: int, kind: str) -> dict[str, str]:
    """The ``List-Unsubscribe`` headers of an optional email; none for the others."""
    if kind not in OPTIONAL_EMAILS:
        return {}
    return {
        "List-Unsubscribe": f"<{url(user_id=user_id, kind=kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def read(value: str) -> tuple[int, str] | None:
    """The user id and optional kind a token names; ``None`` if forged or not optional."""
    try:
        payload = signing.loads(value, salt=SALT)
        user_id, kind = int(payload["u"]), str(payload["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (user_id, kind) if kind in OPTIONAL_EMAILS else None

"""Host figures that need both bookings and negotiations (docs/analytics.md), composed in
the top app layer: bookings works out its own figures and negotiation adds its counts.

- :func:`host_analytics`: the analytics endpoint's figures, bookings' per listing and
  currency (:func:`bookings.analytics.host_booking_figures`) with the negotiation counts
  (:func:`negotiation.selectors.offer_counts`) added.
- :func:`host_record` and :func:`superhosts_recompute`: Superhost status
  (:mod:`bookings.superhost`), whose response rate counts the negotiations a guest opened
  (:func:`negotiation.selectors.host_answerable_negotiations`) beside the requests to book.
"""

from datetime import date, datetime

from django.utils import timezone

from accounts.models import User
from bookings import superhost
from bookings.analytics import host_booking_figures
from negotiation.selectors import host_answerable_negotiations, offer_counts


def host_analytics(*, host: User, start: date, end: date) -> dict:
    """The host's analytics over ``[start, end)``: rows per listing and currency and one
    overall row per currency (docs/analytics.md)."""
    figures = host_booking_figures(host=host, start=start, end=end)
    figures.add_counts(offer_counts(property_ids=figures.property_ids, start=start, end=end))
    return figures.result()


def _negotiations_answerable(host_id: int, since: datetime) -> list[superhost.Answerable]:
    """The negotiations a guest opened with the host since ``since``, as things the host
    could answer."""
    return [
        superhost.Answerable(
            opened_at=opened_at,
            deadline=opened_at + superhost.RESPONSE_TIME,
            host_answered_at=answered_at,
            ended_at=ended_at,
        )
        for opened_at, answered_at, ended_at in host_answerable_negotiations(
            host_id=host_id, since=since
        )
    ]


def host_record(*, host_id: int, now=None) -> superhost.HostRecord:
    """The host's Superhost record over the last ``superhost.PERIOD``."""
    now = now or timezone.now()
    return superhost.host_record(
        host_id=host_id,
        now=now,
        also_answerable=_negotiations_answerable(host_id, now - superhost.PERIOD),
    )


def superhosts_recompute(*, now=None) -> int:
    """Recompute every host; returns how many changed. Idempotent. A change tells the
    host (``superhost.gained`` or ``superhost.lost``, in-app and by email)."""
    changed = 0
    for host_id in User.objects.filter(is_host=True).values_list("pk", flat=True).iterator():
        record = host_record(host_id=host_id, now=now)
        if superhost.superhost_set(host_id=host_id, record=record):
            changed += 1
    return changed

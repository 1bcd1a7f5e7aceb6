"""Negotiation's answers to ``properties``' port (:mod:`properties.holds`).

Open negotiations are priced in the listing's currency, which therefore cannot change
while any is open (``409 currency_locked``): :class:`OpenNegotiations` counts them as a
deal source. A negotiation past ``expires_at`` no longer counts, whether or not the
sweep has recorded it yet. Negotiations hold no dates today (a live hold would make
negotiation a date holder too). ``NegotiationConfig.ready()`` registers it.
"""

from datetime import datetime

from negotiation.models import Negotiation, NegotiationStatus
from properties.holds import RunningDeals
from properties.models import Property


class OpenNegotiations:
    """Open negotiations as a deal source of :mod:`properties.holds`."""

    def running_deals(self, *, prop: Property, now: datetime) -> RunningDeals:
        count = Negotiation.objects.filter(
            property=prop, status=NegotiationStatus.OPEN, expires_at__gt=now
        ).count()
        return RunningDeals(
            key="open_negotiations", count=count, phrase=f"{count} negotiation(s) are open"
        )

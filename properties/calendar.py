"""The availability calendar: each day's state and nightly price, as the listing shows it."""

from datetime import date, timedelta

from properties import holds
from properties.models import AvailabilityBlock, Property
from properties.quotes import bookable_window
from properties.selectors import rates_overlapping


def availability(*, prop: Property, start: date, end: date, now=None) -> list[dict]:
    """Each day of ``[start, end)``: ``available``, ``blocked``, ``booked`` (held by a
    date holder, :mod:`properties.holds`) or, outside the window a stay may take (before
    the property's today plus its advance notice, or from its today plus
    ``BOOKING_MAX_ADVANCE_DAYS`` on: ``bookable_window``, as the quote decides),
    ``unavailable``; with its price."""
    first, last = bookable_window(prop, now)

    blocks = list(
        AvailabilityBlock.objects.filter(property=prop, start__lt=end, end__gt=start).values_list(
            "start", "end"
        )
    )
    booked = [
        (held.start, held.end)
        for held in holds.held_ranges(property_id=prop.pk, start=start, end=end, now=now)
    ]
    rates = list(rates_overlapping(property_id=prop.pk, start=start, end=end))
    base = prop.base_nightly_price
    days = []
    day = start
    while day < end:
        if any(b_start <= day < b_end for b_start, b_end in booked):
            state = "booked"
        elif day < first or day >= last:
            state = "unavailable"
        elif any(b_start <= day < b_end for b_start, b_end in blocks):
            state = "blocked"
        else:
            state = "available"
        price = next((r.nightly_price for r in rates if r.start <= day < r.end), base)
        days.append({"date": day, "status": state, "nightly_price": str(price) if price else None})
        day += timedelta(days=1)
    return days

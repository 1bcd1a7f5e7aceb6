"""Host analytics over a date range: occupancy, revenue, ADR, bookings, cancellations, offers.

Stays are counted by the nights that fall inside ``[start, end)``; revenue of a
stay is spread evenly over its nights. Occupancy is booked nights over the
nights the listing was open (range nights minus blocked nights).
"""

from datetime import date
from decimal import Decimal

from accounts.models import User
from bookings.models import Booking, BookingStatus
from properties.models import AvailabilityBlock, Property

EARNING = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)


def _nights_inside(check_in: date, check_out: date, start: date, end: date) -> int:
    return max(0, (min(check_out, end) - max(check_in, start)).days)


def offers_for_properties(property_ids: list[int], start: date, end: date) -> dict[int, dict]:
    """Offers received and accepted per property (filled in by the negotiation app)."""
    try:
        from negotiation.selectors import offer_counts
    except ImportError:
        return {}
    return offer_counts(property_ids=property_ids, start=start, end=end)


def host_analytics(*, host: User, start: date, end: date) -> dict:
    props = list(Property.objects.filter(host=host).exclude(status=Property.Status.DRAFT))
    ids = [p.pk for p in props]
    range_nights = (end - start).days
    stats = {
        p.pk: {
            "property": p.pk,
            "title": p.title,
            "currency": p.currency,
            "open_nights": range_nights,
            "booked_nights": 0,
            "revenue": Decimal(0),
            "bookings": 0,
            "cancellations": 0,
            "offers_received": 0,
            "offers_accepted": 0,
        }
        for p in props
    }
    for block in AvailabilityBlock.objects.filter(
        property_id__in=ids, start__lt=end, end__gt=start
    ):
        stats[block.property_id]["open_nights"] -= _nights_inside(
            block.start, block.end, start, end
        )
    bookings = Booking.objects.filter(property_id__in=ids).overlapping(start, end)
    for booking in bookings.only("property_id", "check_in", "check_out", "total", "status"):
        row = stats[booking.property_id]
        if booking.status == BookingStatus.CANCELLED:
            row["cancellations"] += 1
        if booking.status not in EARNING:
            continue
        inside = _nights_inside(booking.check_in, booking.check_out, start, end)
        row["bookings"] += 1
        row["booked_nights"] += inside
        row["revenue"] += booking.total * inside / booking.nights
    for prop_id, counts in offers_for_properties(ids, start, end).items():
        stats[prop_id].update(counts)

    summed = ("open_nights", "booked_nights", "revenue", "bookings", "cancellations",
              "offers_received", "offers_accepted")  # fmt: skip
    totals: dict = dict.fromkeys(summed, 0)  # all keys, also for a host without listings
    rows = []
    for row in stats.values():
        rows.append(_finish(row))
        for key in summed:
            totals[key] += row[key]
    currencies = {p.currency for p in props}
    overall = _finish({**totals, "currency": currencies.pop() if len(currencies) == 1 else None})
    return {"start": start, "end": end, "overall": overall, "properties": rows}


def _finish(row: dict) -> dict:
    booked, open_nights = row["booked_nights"], row["open_nights"]
    revenue = Decimal(row["revenue"]).quantize(Decimal("0.01"))
    return {
        **row,
        "revenue": revenue,
        "occupancy": round(booked / open_nights, 4) if open_nights else 0.0,
        "average_daily_rate": (revenue / booked).quantize(Decimal("0.01")) if booked else None,
    }

"""Who holds which dates: the bookings that hold a property's dates (DESIGN.md section 3).

``pending_host``, ``awaiting_payment`` and ``confirmed`` bookings hold their dates; a
hold whose ``hold_expires_at`` has passed does not, whether or not the sweep has
recorded it yet (``BookingQuerySet.holding``). Ranges are half-open, ``[check_in,
check_out)``.

:class:`BookingDates` answers ``properties``' questions through its port
(:mod:`properties.holds`): search's "free for these dates", the quote's and the host
blocks' "taken", the availability calendar, the iCal export, who may read an unlisted
listing, and the bookings that keep a listing's currency. ``BookingsConfig.ready()``
registers it.
"""

from datetime import date, datetime

from django.db.models import Exists, Expression, OuterRef, QuerySet

from accounts.models import User
from bookings.models import Booking
from properties.holds import HeldRange, RunningDeals
from properties.models import Property
from properties.quotes import property_today


def holding_bookings(
    *, property_id: int, start: date, end: date | None, now: datetime | None = None
) -> QuerySet[Booking]:
    """The property's bookings holding dates at ``now`` that meet ``[start, end)``
    (``end=None``: every one that ends after ``start``)."""
    holding = Booking.objects.filter(property_id=property_id).holding(now)
    if end is None:
        return holding.filter(check_out__gt=start)
    return holding.overlapping(start, end)


class BookingDates:
    """Bookings as a date holder and a deal source of :mod:`properties.holds`."""

    def free_condition(self, *, start, end, now) -> Expression:
        # Correlated on the property: the probe reads only the partial index
        # ``booking_holding_dates`` (docs/benchmarks.md, search item 10).
        booked = Booking.objects.filter(property=OuterRef("pk")).holding(now)
        return ~Exists(booked.overlapping(start, end))

    def is_held(self, *, property_id: int, start: date, end: date, now: datetime | None) -> bool:
        return holding_bookings(property_id=property_id, start=start, end=end, now=now).exists()

    def held_ranges(
        self, *, property_id: int, start: date, end: date | None, now: datetime | None
    ) -> list[HeldRange]:
        bookings = (
            holding_bookings(property_id=property_id, start=start, end=end, now=now)
            .only("pk", "check_in", "check_out", "status", "updated_at")
            .order_by("check_in", "pk")
        )
        return [
            HeldRange(
                uid=f"parley-booking-{booking.pk}",
                start=booking.check_in,
                end=booking.check_out,
                status=booking.status,
                changed_at=booking.updated_at,
            )
            for booking in bookings
        ]

    def has_stay(self, *, user: User, property_id: int) -> bool:
        return Booking.objects.filter(property_id=property_id, guest=user).exists()

    def running_deals(self, *, prop: Property, now: datetime) -> RunningDeals:
        """Bookings that hold dates or are ahead: their totals are in the current currency."""
        count = (
            Booking.objects.filter(property=prop)
            .holding(now)
            .filter(check_out__gt=property_today(prop, now))
            .count()
        )
        return RunningDeals(
            key="holding_bookings", count=count, phrase=f"{count} booking(s) are held or ahead"
        )

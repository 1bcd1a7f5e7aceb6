"""Host analytics over ``[start, end)``: one definition per figure (docs/analytics.md).

Rows are per listing and currency (a listing whose bookings are in two currencies, after
a currency change, has a row per currency); ``overall`` is a list with one row per
currency. Money is never added across currencies.

- ``open_nights``: nights of the range that are not blocked, blocks merged (overlapping
  or identical blocks count once); a night that is both blocked (an imported block over a
  booking) and booked counts as open, so booked nights never exceed open ones.
- ``booked_nights``: nights inside the range of confirmed or completed stays.
- ``occupancy``: booked / open nights, in [0, 1] (0 when nothing is open), 4 decimals.
- ``stay_revenue``: what the host earns from confirmed and completed stays: total minus
  the guest's service fee (stay with meals and discounts, plus cleaning; an agreed
  booking's scaled items), spread evenly over the stay's nights, those inside counted.
- ``cancellation_revenue``: what cancellations kept for the host: captured minus
  refunded, minus the service fee the platform kept; spread over the nights like a stay.
- ``revenue`` = ``stay_revenue`` + ``cancellation_revenue``.
- ``average_daily_rate``: ``stay_revenue`` / ``booked_nights`` (null without nights).
- ``bookings`` / ``cancellations``: confirmed or completed / cancelled bookings whose
  stay meets the range.
- ``negotiated_discount``: for stays agreed in a negotiation, list minus agreed host
  earnings (without service fees), spread over the nights like revenue.
- ``negotiations``: negotiations whose stay meets the range; ``negotiations_booked``: those
  whose booking is confirmed or completed; ``offers_received``: guests' offers in them;
  ``offers_accepted``: negotiations that ended with the host (or the host's auto-accept
  price) accepting a guest's offer; a host's counter accepted by the guest is not one.

This module works out the figures of bookings, blocks and payments
(:func:`host_booking_figures`); the negotiation counts are added by
:func:`negotiation.reporting.host_analytics`, which composes the two (the analytics
endpoint calls it).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q, Sum

from accounts.models import User
from bookings.models import Booking, BookingStatus, Payment
from core.money import quantize
from properties.models import AvailabilityBlock, Property

EARNING = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
COUNTS = ("bookings", "cancellations", "negotiations", "negotiations_booked",
          "offers_received", "offers_accepted")  # fmt: skip
MONEY = ("stay_revenue", "cancellation_revenue", "negotiated_discount")


def _nights(start: date, end: date) -> set[date]:
    return {start + timedelta(days=i) for i in range((end - start).days)}


def _inside(check_in: date, check_out: date, start: date, end: date) -> int:
    return max(0, (min(check_out, end) - max(check_in, start)).days)


def _amount(price: dict, key: str) -> Decimal:
    return Decimal(str(price.get(key) or 0))


def host_earnings(booking: Booking) -> Decimal:
    """The booking's total without the guest's service fee (stay, meals, cleaning)."""
    return booking.total - _amount(booking.price or {}, "service_fee")


def negotiated_discount(booking: Booking) -> Decimal:
    """List minus agreed host earnings of a booking agreed in a negotiation, else 0."""
    price = booking.price or {}
    if not price.get("agreed"):
        return Decimal(0)
    listed = price.get("list") or {}
    list_host = _amount(listed, "total") - _amount(listed, "service_fee")
    return max(list_host - host_earnings(booking), Decimal(0))


def cancellation_kept(booking: Booking, captured: Decimal, refunded: Decimal) -> Decimal:
    """What a cancelled booking kept for the host: captured minus refunded, minus the part
    of the service fee not refunded (the platform's). Nothing if nothing was captured."""
    if captured <= 0:
        return Decimal(0)
    price = booking.price or {}
    fee_kept = _amount(price, "service_fee") - _amount(price.get("refund") or {}, "service_fee")
    return max(captured - refunded - max(fee_kept, Decimal(0)), Decimal(0))


def _payments(booking_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    rows = (
        Payment.objects.filter(booking_id__in=booking_ids, status=Payment.Status.SUCCEEDED)
        .values("booking_id")
        .annotate(
            captured=Sum("amount", filter=Q(kind=Payment.Kind.CAPTURE)),
            refunded=Sum("amount", filter=Q(kind=Payment.Kind.REFUND)),
        )
    )
    return {
        r["booking_id"]: (r["captured"] or Decimal(0), r["refunded"] or Decimal(0)) for r in rows
    }


@dataclass
class HostFigures:
    """A host's rows per (listing, currency) over ``[start, end)``, being filled: bookings'
    figures by :func:`host_booking_figures`, other counts by :meth:`add_counts`; then
    :meth:`result` finishes them (occupancy, rates, the overall rows)."""

    start: date
    end: date
    props: list[Property]
    blocked: dict[int, set[date]] = field(default_factory=lambda: defaultdict(set))
    booked_any: dict[int, set[date]] = field(default_factory=lambda: defaultdict(set))
    rows: dict[tuple[int, str], dict] = field(default_factory=dict)

    @property
    def property_ids(self) -> list[int]:
        return [p.pk for p in self.props]

    def row(self, prop_id: int, currency: str) -> dict:
        key = (prop_id, currency)
        if key not in self.rows:
            self.rows[key] = {
                "property": prop_id,
                "currency": currency,
                "booked": set(),
                **dict.fromkeys(COUNTS, 0),
                **{name: Decimal(0) for name in MONEY},
            }
        return self.rows[key]

    def add_counts(self, counts: dict[tuple[int, str], dict]) -> None:
        """Add counts per (listing, currency), e.g. the negotiation figures."""
        for key, values in counts.items():
            r = self.row(*key)
            for name, value in values.items():
                r[name] += value

    def result(self) -> dict:
        in_range = _nights(self.start, self.end)
        titles = {p.pk: p.title for p in self.props}
        finished = []
        for (prop_id, _currency), r in sorted(self.rows.items()):
            # Open: the range minus blocked nights that no stay of the listing occupies.
            blocked_only = self.blocked[prop_id] - self.booked_any[prop_id]
            open_nights = len(in_range - blocked_only)
            booked_nights = len(r.pop("booked"))
            r.update(title=titles[prop_id], open_nights=open_nights, booked_nights=booked_nights)
            finished.append(_finish(r))
        return {
            "start": self.start,
            "end": self.end,
            "overall": _overall(finished),
            "properties": finished,
        }


def host_booking_figures(*, host: User, start: date, end: date) -> HostFigures:
    """The figures of the host's listings (drafts aside) that bookings, blocks and
    payments give; the negotiation counts are still zero."""
    props = list(Property.objects.filter(host=host).exclude(status=Property.Status.DRAFT))
    figures = HostFigures(start=start, end=end, props=props)
    ids = figures.property_ids
    in_range = _nights(start, end)
    for block in AvailabilityBlock.objects.filter(
        property_id__in=ids, start__lt=end, end__gt=start
    ).only("property_id", "start", "end"):
        figures.blocked[block.property_id] |= _nights(block.start, block.end) & in_range

    for p in props:
        figures.row(p.pk, p.currency)
    bookings = list(
        Booking.objects.filter(property_id__in=ids)
        .overlapping(start, end)
        .filter(status__in=(*EARNING, BookingStatus.CANCELLED))
        .only("property_id", "check_in", "check_out", "total", "currency", "status", "price")
    )
    payments = _payments([b.pk for b in bookings if b.status == BookingStatus.CANCELLED])
    for booking in bookings:
        r = figures.row(booking.property_id, booking.currency)
        share = Decimal(_inside(booking.check_in, booking.check_out, start, end)) / booking.nights
        if booking.status == BookingStatus.CANCELLED:
            r["cancellations"] += 1
            captured, refunded = payments.get(booking.pk, (Decimal(0), Decimal(0)))
            r["cancellation_revenue"] += cancellation_kept(booking, captured, refunded) * share
            continue
        nights = _nights(booking.check_in, booking.check_out) & in_range
        r["bookings"] += 1
        r["booked"] |= nights
        figures.booked_any[booking.property_id] |= nights
        r["stay_revenue"] += host_earnings(booking) * share
        r["negotiated_discount"] += negotiated_discount(booking) * share
    return figures


def _overall(rows: list[dict]) -> list[dict]:
    """One row per currency: the sums of the listing rows in that currency."""
    totals: dict[str, dict] = {}
    for r in rows:
        total = totals.setdefault(
            r["currency"],
            {"currency": r["currency"], "open_nights": 0, "booked_nights": 0,
             **dict.fromkeys(COUNTS, 0), **{name: Decimal(0) for name in MONEY}},
        )  # fmt: skip
        for name in ("open_nights", "booked_nights", *COUNTS, *MONEY):
            total[name] += r[name]
    return [_finish(totals[currency]) for currency in sorted(totals)]


def _finish(row: dict) -> dict:
    currency = row["currency"]
    money = {name: quantize(row[name], currency) for name in MONEY}
    booked, open_nights = row["booked_nights"], row["open_nights"]
    revenue = money["stay_revenue"] + money["cancellation_revenue"]
    adr = quantize(money["stay_revenue"] / booked, currency) if booked else None
    return {
        **row,
        **money,
        "revenue": revenue,
        "occupancy": round(booked / open_nights, 4) if open_nights else 0.0,
        "average_daily_rate": adr,
        "negotiation_conversion": (
            round(row["negotiations_booked"] / row["negotiations"], 4)
            if row["negotiations"]
            else None
        ),
    }

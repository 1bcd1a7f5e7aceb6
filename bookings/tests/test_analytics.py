"""Host analytics against a table worked out by hand (the same table is in docs/analytics.md).

Listing A (EUR, 100/night, cleaning 30, service fee 10 %) and listing C (USD, 80/night,
cleaning 20), both of one host; the range is March 2030 (31 nights).

| A | nights | host earns | in March |
|---|---|---|---|
| blocks 1-4 Mar and 2-6 Mar (overlapping) | 1-5 Mar | | 5 blocked |
| three identical blocks 10-12 Mar | 10, 11 | | 2 blocked |
| imported block 22-24 Mar over B1 | 22 (booked), 23 | | 1 blocked (23) |
| B1 confirmed 20-23 Mar: 300 + 30 + 33 fee = 363 | 3 | 330.00 | 330.00 |
| B2 negotiated, completed 12-15 Mar: list 363, agreed 330 (272.73 + 27.27 + 30.00 fee) | 3 | 300.00 (list 330.00: discount 30.00) | 300.00 |
| B3 cancelled, strict half: 400 + 30 + 43 = 473 captured, refund 200 + 30 + 21.50 = 251.50 | - | kept 221.50 - fee kept 21.50 = 200.00 | 200.00 |
| B4 confirmed 30 Mar-2 Apr: 363 | 2 of 3 | 330.00 | 220.00 (April 110.00) |
| B5 cancelled before any capture, 15-17 Mar | - | 0 | 0 |
| B6 expired (payment never made), 6-8 Mar | - | 0 | 0 |

A, March: open = 31 - (5 + 2 + 1) = 23; booked = 3 + 3 + 2 = 8; occupancy 8/23 = 0.3478;
stay revenue 330 + 300 + 220 = 850.00; cancellations kept 200.00; revenue 1050.00;
ADR 850 / 8 = 106.25; bookings 3; cancellations 2; negotiated discount 30.00.
Negotiations on A: N1 (guest offered 330, host accepted: booking B2), N2 (host's counter
accepted by the guest: booking B6, expired), N3 (two guest offers, declined): 3
negotiations, 1 booked, 4 guest offers, 1 guest offer accepted.

C, March: C1 confirmed 5-9 Mar: 320 + 20 + 34 = 374, host 340.00; open 31, booked 4,
occupancy 0.129, ADR 85.00.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bookings.models import Booking, BookingStatus, Payment
from bookings.tests.factories import bookable_property, client_for, verified_guest
from negotiation.models import Event, Negotiation, NegotiationStatus, Offer
from properties.models import AvailabilityBlock
from properties.pricing import agreed_price

pytestmark = pytest.mark.django_db

MARCH = {"start": "2030-03-01", "end": "2030-04-01"}
APRIL = {"start": "2030-04-01", "end": "2030-05-01"}
NOW = datetime(2030, 1, 1, tzinfo=UTC)

EXPECTED_A_MARCH = {
    "currency": "EUR",
    "open_nights": 23,
    "booked_nights": 8,
    "occupancy": 0.3478,
    "stay_revenue": "850.00",
    "cancellation_revenue": "200.00",
    "revenue": "1050.00",
    "average_daily_rate": "106.25",
    "negotiated_discount": "30.00",
    "bookings": 3,
    "cancellations": 2,
    "negotiations": 3,
    "negotiations_booked": 1,
    "negotiation_conversion": 0.3333,
    "offers_received": 4,
    "offers_accepted": 1,
}
EXPECTED_C_MARCH = {
    "currency": "USD",
    "open_nights": 31,
    "booked_nights": 4,
    "occupancy": 0.129,
    "stay_revenue": "340.00",
    "cancellation_revenue": "0.00",
    "revenue": "340.00",
    "average_daily_rate": "85.00",
    "negotiated_discount": "0.00",
    "bookings": 1,
    "cancellations": 0,
    "negotiations": 0,
    "negotiations_booked": 0,
    "negotiation_conversion": None,
    "offers_received": 0,
    "offers_accepted": 0,
}


def list_quote(nights: int, nightly: str, cleaning: str, currency: str) -> dict:
    stay = Decimal(nightly) * nights
    fee = (stay + Decimal(cleaning)) / 10
    return {
        "currency": currency,
        "nights": nights,
        "nights_total": str(stay),
        "discount": "0.00",
        "meals": "0.00",
        "stay_subtotal": str(stay),
        "cleaning_fee": cleaning,
        "service_fee": str(fee.quantize(Decimal("0.01"))),
        "total": str((stay + Decimal(cleaning) + fee).quantize(Decimal("0.01"))),
        "line_items": [
            {"code": "nights", "label": f"{nights} nights", "amount": str(stay)},
            {"code": "cleaning_fee", "label": "Cleaning fee", "amount": cleaning},
            {"code": "service_fee", "label": "Service fee", "amount": str(fee)},
        ],
    }


def stay(prop, check_in, check_out, status, price, **fields) -> Booking:
    return Booking.objects.create(
        property=prop,
        guest=fields.pop("guest", None) or verified_guest(),
        check_in=check_in,
        check_out=check_out,
        guests=1,
        stay_type="standard",
        price=price,
        total=Decimal(price["total"]),
        currency=price["currency"],
        status=status,
        cancellation_policy="strict",
        **fields,
    )


def negotiation(prop, booking=None, status=NegotiationStatus.DECLINED, offers=(), accepted=None):
    guest = booking.guest if booking else verified_guest()
    quote = list_quote(3, "100", "30.00", "EUR")
    n = Negotiation.objects.create(
        property=prop,
        guest=guest,
        host=prop.host,
        check_in=booking.check_in if booking else date(2030, 3, 26),
        check_out=booking.check_out if booking else date(2030, 3, 29),
        guests=1,
        stay_type="standard",
        list_price=quote,
        list_total=Decimal(quote["total"]),
        currency="EUR",
        cancellation_policy="strict",
        status=status,
        turn="host",
        expires_at=NOW + timedelta(days=1),
        booking=booking,
    )
    for i, (side, amount) in enumerate(offers):
        Offer.objects.create(
            negotiation=n,
            side=side,
            amount=Decimal(amount),
            created_at=NOW + timedelta(minutes=i),
            expires_at=NOW + timedelta(days=1),
        )
    if accepted:
        Event.objects.create(
            negotiation=n, seq=1, type="offer.accepted", data={"side": accepted, "amount": "1"}
        )
    return n


@pytest.fixture
def table():
    a = bookable_property(currency="EUR", title="A")
    c = bookable_property(host=a.host, currency="USD", title="C")
    block = AvailabilityBlock.objects.create
    block(property=a, start=date(2030, 3, 1), end=date(2030, 3, 4))
    block(property=a, start=date(2030, 3, 2), end=date(2030, 3, 6))
    for _ in range(3):
        block(property=a, start=date(2030, 3, 10), end=date(2030, 3, 12))
    block(property=a, start=date(2030, 3, 22), end=date(2030, 3, 24), note="Imported")

    eur = list_quote(3, "100", "30.00", "EUR")
    assert eur["total"] == "363.00"
    stay(a, date(2030, 3, 20), date(2030, 3, 23), BookingStatus.CONFIRMED, eur)  # B1
    agreed = agreed_price(eur, Decimal("330.00"))
    assert (agreed["stay_subtotal"], agreed["cleaning_fee"], agreed["service_fee"]) == (
        "272.73",
        "27.27",
        "30.00",
    )
    b2 = stay(a, date(2030, 3, 12), date(2030, 3, 15), BookingStatus.COMPLETED, agreed)
    four = list_quote(4, "100", "30.00", "EUR")
    assert four["total"] == "473.00"
    refund = {"amount": "251.50", "stay": "200.00", "cleaning_fee": "30.00",
              "service_fee": "21.50", "rule": "strict_half"}  # fmt: skip
    b3 = stay(
        a, date(2030, 3, 25), date(2030, 3, 29), BookingStatus.CANCELLED,
        {**four, "refund": refund},
    )  # fmt: skip
    for kind, amount in (("capture", "473.00"), ("refund", "251.50")):
        Payment.objects.create(
            booking=b3, kind=kind, amount=Decimal(amount), currency="EUR",
            status="succeeded", gateway="fake", gateway_reference=f"{kind}-b3",
            idempotency_key=f"{kind}-b3",
        )  # fmt: skip
    stay(a, date(2030, 3, 30), date(2030, 4, 2), BookingStatus.CONFIRMED, eur)  # B4
    b5_price = {**list_quote(2, "100", "30.00", "EUR"), "refund": {"amount": "0.00",
                "stay": "0.00", "cleaning_fee": "0.00", "service_fee": "0.00"}}  # fmt: skip
    stay(a, date(2030, 3, 15), date(2030, 3, 17), BookingStatus.CANCELLED, b5_price)  # B5
    b6 = stay(
        a, date(2030, 3, 6), date(2030, 3, 8), BookingStatus.EXPIRED,
        agreed_price(list_quote(2, "100", "30.00", "EUR"), Decimal("200.00")),
    )  # fmt: skip

    negotiation(
        a, b2, NegotiationStatus.ACCEPTED, [("guest", "330.00")], accepted="guest"
    )  # N1: the host accepted the guest's offer
    negotiation(
        a, b6, NegotiationStatus.ACCEPTED, [("guest", "180.00"), ("host", "200.00")],
        accepted="host",
    )  # fmt: skip  # N2: the guest accepted the host's counter
    negotiation(a, None, NegotiationStatus.DECLINED, [("guest", "250.00"), ("guest", "260.00")])

    usd = list_quote(4, "80", "20.00", "USD")
    assert usd["total"] == "374.00"
    stay(c, date(2030, 3, 5), date(2030, 3, 9), BookingStatus.CONFIRMED, usd)  # C1
    return a, c


def report(host, params) -> dict:
    response = client_for(host).get("/api/v1/host/analytics/", params)
    assert response.status_code == 200, response.json()
    return response.json()


def pick(row: dict, expected: dict) -> dict:
    return {key: row[key] for key in expected}


def test_every_figure_matches_the_hand_computed_table(table):
    a, c = table
    body = report(a.host, MARCH)
    rows = {row["property"]: row for row in body["properties"]}
    assert pick(rows[a.pk], EXPECTED_A_MARCH) == EXPECTED_A_MARCH
    assert pick(rows[c.pk], EXPECTED_C_MARCH) == EXPECTED_C_MARCH


def test_overall_is_one_row_per_currency_never_a_sum_across_currencies(table):
    a, _ = table
    overall = report(a.host, MARCH)["overall"]
    assert [row["currency"] for row in overall] == ["EUR", "USD"]
    assert pick(overall[0], EXPECTED_A_MARCH) == EXPECTED_A_MARCH
    assert pick(overall[1], EXPECTED_C_MARCH) == EXPECTED_C_MARCH


def test_a_stay_across_two_months_counts_its_nights_in_each(table):
    a, _ = table
    april = {row["property"]: row for row in report(a.host, APRIL)["properties"]}[a.pk]
    assert (april["booked_nights"], april["open_nights"]) == (1, 30)
    assert (april["stay_revenue"], april["revenue"]) == ("110.00", "110.00")
    both = {"start": "2030-03-01", "end": "2030-05-01"}
    row = {r["property"]: r for r in report(a.host, both)["properties"]}[a.pk]
    assert (row["booked_nights"], row["stay_revenue"]) == (9, "960.00")  # 850 + 110


def test_identical_blocks_never_make_open_nights_negative_or_occupancy_leave_0_1():
    prop = bookable_property()
    for _ in range(3):
        AvailabilityBlock.objects.create(
            property=prop, start=date(2030, 3, 1), end=date(2030, 3, 6)
        )
    row = report(prop.host, {"start": "2030-03-01", "end": "2030-03-04"})["properties"][0]
    assert (row["open_nights"], row["booked_nights"], row["occupancy"]) == (0, 0, 0.0)


def test_amounts_use_the_currency_minor_unit():
    prop = bookable_property(currency="JPY")
    stay(prop, date(2030, 3, 1), date(2030, 3, 4), BookingStatus.CONFIRMED,
         list_quote(3, "10000", "3000", "JPY") | {"service_fee": "3300", "total": "36300"})  # fmt: skip
    row = report(prop.host, MARCH)["properties"][0]
    assert (row["revenue"], row["average_daily_rate"]) == ("33000", "11000")

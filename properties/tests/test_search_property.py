"""Property-based: search and quote agree (issue 19, DESIGN.md section 4).

Random listings (time zones, notice, nights, stay types, prices, discounts, seasonal
rates, blocks, bookings), a random instant and a random search with dates: every result
quotes and books for those dates (the booking service, no 400), its card's total is the
quote's, and every listing that quotes for them (availability included) is found, across
pages of two. Bounded to run in well under a minute."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from bookings.models import Booking
from bookings.services import booking_create
from core.money import quantize
from properties.errors import DatesUnavailable, QuoteError
from properties.models import AvailabilityBlock, SeasonalRate, StayType
from properties.quotes import quote_for_stay
from properties.tests.factories import GuestFactory, HostFactory, PropertyFactory

ZONES = [
    "UTC", "Europe/Lisbon", "Pacific/Kiritimati", "America/Adak", "Pacific/Pago_Pago",
    "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham",
]  # fmt: skip
KINDS = ["standard", "with_meals", "paying_guest"]

listing = st.fixed_dictionaries(
    {
        "zone": st.sampled_from(ZONES),
        "notice": st.sampled_from([0, 0, 1, 2, 5]),
        "min_nights": st.integers(1, 4),
        "extra_nights": st.sampled_from([0, 3, 30, 300]),
        "max_guests": st.integers(1, 4),
        "kinds": st.sets(st.sampled_from(KINDS), min_size=1),
        "nightly": st.integers(40, 400),
        "meals_nightly": st.integers(40, 400),
        "monthly": st.integers(900, 6000),
        "weekly": st.sampled_from([0, 0, 10, 15]),
        "monthly_discount": st.sampled_from([0, 20]),
        "cleaning": st.sampled_from([0, 25]),
        "currency": st.sampled_from(["EUR", "EUR", "JPY"]),
        "rate": st.none()
        | st.tuples(st.integers(-3, 12), st.integers(1, 15), st.integers(30, 500)),
        "block": st.none() | st.tuples(st.integers(-2, 12), st.integers(1, 6)),
        "booking": st.none() | st.tuples(st.integers(-2, 12), st.integers(1, 6)),
    }
)
search = st.fixed_dictionaries(
    {
        "hour": st.integers(0, 23),
        "check_in": st.integers(-1, 10),
        "nights": st.sampled_from([1, 2, 3, 6, 7, 8, 28, 30]),
        "guests": st.none() | st.integers(1, 4),
        "stay_type": st.none() | st.sampled_from(KINDS),
        "max_price": st.none() | st.integers(50, 400),
        "ordering": st.none() | st.sampled_from(["price", "-price", "-created"]),
    }
)


def _create(spec: dict, host, guest, today):
    def day(n):
        return today + timedelta(days=n)

    prop = PropertyFactory(
        host=host, timezone=spec["zone"], advance_notice_days=spec["notice"],
        min_nights=spec["min_nights"], max_nights=spec["min_nights"] + spec["extra_nights"],
        max_guests=spec["max_guests"], currency=spec["currency"],
        weekly_discount_percent=Decimal(spec["weekly"]),
        monthly_discount_percent=Decimal(spec["monthly_discount"]),
        cleaning_fee=Decimal(spec["cleaning"]), base_nightly_price=Decimal(spec["nightly"]),
    )  # fmt: skip
    for kind in spec["kinds"]:
        if kind == "paying_guest":
            StayType.objects.create(property=prop, kind=kind, monthly_price=spec["monthly"])
        elif kind == "with_meals":
            StayType.objects.create(
                property=prop, kind=kind, nightly_price=spec["meals_nightly"], dinner_price=12
            )
        else:
            StayType.objects.create(property=prop, kind=kind, nightly_price=spec["nightly"])
    if spec["rate"]:
        start, length, price = spec["rate"]
        SeasonalRate.objects.create(
            property=prop, start=day(start), end=day(start + length), nightly_price=price
        )
    if spec["block"]:
        start, length = spec["block"]
        AvailabilityBlock.objects.create(property=prop, start=day(start), end=day(start + length))
    if spec["booking"]:
        start, length = spec["booking"]
        Booking.objects.create(
            property=prop, guest=guest, check_in=day(start), check_out=day(start + length),
            status="confirmed", guests=1, stay_type="standard", total=Decimal(100),
            currency=prop.currency, cancellation_policy="moderate",
        )  # fmt: skip
    return prop


def _expected(prop, params, check_in, check_out):
    """The stay type and total the quote gives (the cheapest that quotes), or None."""
    kinds = [params["stay_type"]] if params.get("stay_type") else KINDS
    best = None
    for kind in kinds:
        try:
            quote = quote_for_stay(
                property=prop, check_in=check_in, check_out=check_out,
                guests=params.get("guests") or 1, stay_type=kind, check_availability=True,
            )  # fmt: skip
        except (QuoteError, DatesUnavailable):
            continue
        if best is None or quote.total < best[1]:
            best = (kind, quote.total)
    if best and params.get("max_price") is not None:
        nights = (check_out - check_in).days
        if quantize(best[1] / nights, prop.currency) > Decimal(params["max_price"]):
            return None
    return best


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(listings=st.lists(listing, min_size=1, max_size=4), query=search)
def test_every_result_quotes_and_books_and_every_quoting_listing_is_found(listings, query):
    now = datetime(2027, 12, 30, query["hour"], 30, tzinfo=UTC)  # across a year end
    today = now.date()
    with time_machine.travel(now, tick=False), transaction.atomic():
        host, guest = HostFactory(), GuestFactory()
        props = [_create(spec, host, guest, today) for spec in listings]
        check_in = today + timedelta(days=query["check_in"])
        check_out = check_in + timedelta(days=query["nights"])
        params = {"check_in": check_in.isoformat(), "check_out": check_out.isoformat()}
        params.update({k: query[k] for k in ("guests", "stay_type", "max_price", "ordering")})
        params = {k: v for k, v in params.items() if v is not None}
        client, cards, url, request = APIClient(), {}, "/api/v1/properties/", params
        while url:
            response = client.get(url, {**request, "page_size": 2} if request else None)
            assert response.status_code == 200, response.json()
            for card in response.json()["results"]:
                assert card["id"] not in cards  # no page repeats another
                cards[card["id"]] = card
            url, request = response.json()["next"], None
        expected = {}
        for prop in props:
            found = _expected(prop, params, check_in, check_out)
            if found:
                expected[prop.pk] = found
        assert set(cards) == set(expected), (params, cards, expected)
        event(f"found {min(len(expected), 2)}+ of {len(props)}")
        for pk, (kind, total) in expected.items():
            assert cards[pk]["stay_type"] == kind, (cards[pk], kind, total, params, listings)
            assert Decimal(cards[pk]["stay_total"]) == total
            with transaction.atomic():
                booking, _ = booking_create(
                    guest=guest, property_id=pk, check_in=check_in, check_out=check_out,
                    guests=params.get("guests") or 1, stay_type=kind, payment_token="tok_ok",
                    expected_total=total, expected_currency=cards[pk]["currency"],
                )  # fmt: skip
                assert booking.total == total
        if params.get("ordering") in ("price", "-price"):
            totals = [Decimal(card["stay_total"]) for card in cards.values()]
            ordered = sorted(totals, reverse=params["ordering"] == "-price")
            assert totals == ordered
        transaction.set_rollback(True)

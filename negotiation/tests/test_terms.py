"""Terms fixed at opening, and floor / auto-accept totals priced as the quote (issue 17).

A negotiation records its currency, cancellation policy, guests, stay type and meals when
it opens and shows them; acceptance books those terms at the agreed amount whatever the
listing says by then. A currency change is refused while deals in the old one run.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Booking
from bookings.tests.factories import bookable_property, client_for, verified_guest
from negotiation import services
from negotiation.models import Event, NegotiationStatus
from properties.quotes import property_today
from properties.services import property_update

pytestmark = pytest.mark.django_db
D = Decimal


def _open(prop, guest, amount=None, *, nights=3, days=20, message=""):
    check_in = property_today(prop) + timedelta(days=days)
    return services.negotiation_open(
        guest=guest,
        property_id=prop.pk,
        check_in=check_in,
        check_out=check_in + timedelta(days=nights),
        guests=2,
        stay_type="standard",
        amount=None if amount is None else D(amount),
        message=message,
    ).negotiation


def test_acceptance_books_the_terms_the_negotiation_opened_under():
    prop = bookable_property(nightly="120.00", cancellation_policy="flexible", photos=3)
    guest = verified_guest()
    negotiation = _open(prop, guest, "380.00")
    body = client_for(guest).get(f"/api/v1/negotiations/{negotiation.pk}/").json()
    assert (body["cancellation_policy"], body["currency"], body["guests"]) == ("flexible", "EUR", 2)
    assert (body["stay_type"], body["meals"], body["list_total"]) == ("standard", {}, "429.00")

    # the host changes the listing under the negotiation, then counters
    property_update(
        prop=prop,
        cancellation_policy="strict",
        max_guests=1,
        stay_types=[{"kind": "standard", "nightly_price": D("500.00")}],
    )
    services.negotiation_offer(negotiation_id=negotiation.pk, user=prop.host, amount=D("400.00"))
    services.negotiation_accept(negotiation_id=negotiation.pk, user=guest)

    booking = Booking.objects.get(negotiation=negotiation)
    assert (booking.cancellation_policy, booking.guests, booking.currency) == ("flexible", 2, "EUR")
    assert booking.total == D("400.00") == D(booking.price["total"])
    assert booking.price["list_total"] == "429.00"
    body = client_for(guest).get(f"/api/v1/negotiations/{negotiation.pk}/").json()
    assert body["cancellation_policy"] == "flexible"  # still what it opened under


def test_the_opened_event_carries_the_policy():
    prop = bookable_property(nightly="120.00", cancellation_policy="strict")
    negotiation = _open(prop, verified_guest(), "380.00")
    opened = Event.objects.get(negotiation=negotiation, type="negotiation.opened")
    assert (opened.data["cancellation_policy"], opened.data["currency"]) == ("strict", "EUR")


# --- the currency is locked while deals in it run --------------------------------------------


def _patch_currency(prop):
    return client_for(prop.host).patch(
        f"/api/v1/properties/{prop.pk}/", {"currency": "USD"}, format="json"
    )


def test_currency_change_refused_while_a_negotiation_is_open_naming_how_many():
    prop = bookable_property(nightly="120.00", photos=3)
    negotiation = _open(prop, verified_guest(), "380.00")
    services.negotiation_offer(negotiation_id=negotiation.pk, user=prop.host, amount=D("390.00"))
    response = _patch_currency(prop)
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert (error["code"], error["open_negotiations"], error["holding_bookings"]) == (
        "currency_locked",
        1,
        0,
    )
    prop.refresh_from_db()
    assert prop.currency == "EUR"
    # the guest accepts the counter: booked and paid in the currency it was agreed in
    services.negotiation_accept(negotiation_id=negotiation.pk, user=negotiation.guest)
    booking = Booking.objects.get(negotiation=negotiation)
    assert (booking.total, booking.currency, booking.price["currency"]) == (
        D("390.00"),
        "EUR",
        "EUR",
    )


def test_currency_change_refused_while_a_booking_is_ahead():
    prop = bookable_property(nightly="120.00", photos=3, instant_book=True)
    guest = verified_guest()
    check_in = property_today(prop) + timedelta(days=10)
    booking_services.booking_create(
        guest=guest,
        property_id=prop.pk,
        check_in=check_in,
        check_out=check_in + timedelta(days=3),
        guests=2,
        stay_type="standard",
        payment_token="tok_ok",
    )
    response = _patch_currency(prop)
    assert response.status_code == 409
    assert response.json()["errors"][0]["holding_bookings"] == 1


def test_currency_change_allowed_once_nothing_runs_in_it():
    prop = bookable_property(nightly="120.00", photos=3)
    _open(prop, verified_guest(), "380.00")
    with time_machine.travel(timezone.now() + timedelta(days=2)):  # the offer lapsed
        response = _patch_currency(prop)
    assert response.status_code == 200 and response.json()["currency"] == "USD"


def test_a_negotiation_opened_after_a_currency_change_is_in_the_new_currency():
    prop = bookable_property(nightly="120.00", photos=3)
    assert _patch_currency(prop).status_code == 200
    negotiation = _open(prop, verified_guest(), "380.00")
    assert negotiation.currency == "USD" and negotiation.list_price["currency"] == "USD"


# --- floor and auto-accept totals priced exactly as the quote ----------------------------------

# 7 nights at 120 with a 10 % weekly discount, cleaning 30, fee 10 %:
#   list: 840 - 84 = 756 + 30 = 786, fee 78.60 -> 864.60
#   floor 80: 560 - 56 = 504 + 30 = 534, fee 53.40 -> 587.40
#   auto-accept 110: 770 - 77 = 693 + 30 = 723, fee 72.30 -> 795.30
# (the old arithmetic kept the list's discount and fee: floor 668.60, auto-accept 878.60,
# above the list total, so auto-accept could never fire)


@pytest.fixture
def weekly_prop():
    return bookable_property(
        nightly="120.00",
        weekly_discount_percent=D("10"),
        floor_nightly_price=D("80.00"),
        auto_accept_nightly_price=D("110.00"),
    )


def _auto_declined(negotiation) -> bool:
    return Event.objects.filter(negotiation=negotiation, data__reason="automatic").exists()


@pytest.mark.parametrize(
    ("amount", "outcome"),
    [
        ("587.39", "auto_declined"),
        ("587.40", "open"),
        ("668.59", "open"),
        ("795.29", "open"),
        ("795.30", "accepted"),
        ("864.59", "accepted"),
    ],
)
def test_floor_and_auto_accept_totals_include_the_weekly_discount(weekly_prop, amount, outcome):
    negotiation = _open(weekly_prop, verified_guest(), amount, nights=7)
    assert negotiation.list_total == D("864.60")
    negotiation.refresh_from_db()
    if outcome == "auto_declined":
        assert _auto_declined(negotiation) and negotiation.booking_id is None
    elif outcome == "open":
        assert not _auto_declined(negotiation)
        assert (negotiation.status, negotiation.turn) == (NegotiationStatus.OPEN, "host")
    else:
        assert negotiation.status == NegotiationStatus.ACCEPTED
        assert negotiation.booking.total == D(amount)


def test_a_paying_guest_floor_counts_the_floor_per_night():
    prop = bookable_property(
        kinds=("paying_guest",), max_nights=90, floor_nightly_price=D("50.00")
    )  # 2400 a month = 80 a night
    guest = verified_guest()
    check_in = property_today(prop) + timedelta(days=20)
    negotiation = services.negotiation_open(
        guest=guest,
        property_id=prop.pk,
        check_in=check_in,
        check_out=check_in + timedelta(days=30),
        guests=1,
        stay_type="paying_guest",
        amount=D("1682.99"),  # floor: 30 x 50 = 1500 + 30 cleaning, fee 153 -> 1683.00
    ).negotiation
    assert _auto_declined(negotiation)

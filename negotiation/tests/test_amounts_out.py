"""Negotiation amounts are written with the currency's minor unit (issue 19): JPY without
decimals, EUR with two, in the list and detail answers and their offers."""

from datetime import timedelta
from decimal import Decimal

import pytest

from bookings.tests.factories import bookable_property, client_for, verified_guest
from negotiation import services
from properties.quotes import property_today

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("currency", "nightly", "offer", "shown_offer"),
    [("JPY", "12000", "30000", "30000"), ("EUR", "100.00", "250", "250.00")],
)
def test_list_total_and_offers_in_the_currency_minor_unit(currency, nightly, offer, shown_offer):
    prop = bookable_property(nightly=nightly, currency=currency, cleaning_fee=Decimal("0"))
    guest = verified_guest()
    check_in = property_today(prop) + timedelta(days=20)
    negotiation = services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=check_in,
        check_out=check_in + timedelta(days=3), guests=1, stay_type="standard",
        amount=Decimal(offer),
    ).negotiation  # fmt: skip
    for url in ("/api/v1/negotiations/", f"/api/v1/negotiations/{negotiation.pk}/"):
        body = client_for(guest).get(url).json()
        item = body["results"][0] if "results" in body else body
        decimals = 0 if currency == "JPY" else 2
        _, _, fraction = item["list_total"].partition(".")
        assert len(fraction) == decimals, item["list_total"]
        assert Decimal(item["list_total"]) == negotiation.list_total
        assert item["offers"][0]["amount"] == shown_offer

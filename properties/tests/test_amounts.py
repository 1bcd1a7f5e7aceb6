"""Issue 19: amounts in the currency's minor unit, prices finer than it refused, and a
seasonal rate that keeps the stay types' difference (docs/api.md)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.tests.factories import bookable_property, client_for
from properties.models import SeasonalRate, StayType

pytestmark = pytest.mark.django_db


def quote(prop, days=30, nights=2, **params):
    start = timezone.now().date() + timedelta(days=days)
    return client_for(prop.host).get(
        f"/api/v1/properties/{prop.pk}/quote/",
        {"check_in": start, "check_out": start + timedelta(days=nights), **params},
    )


def test_a_quote_without_meals_writes_meals_as_0_00():
    body = quote(bookable_property(currency="EUR")).json()
    assert body["meals"] == "0.00" and body["discount"] == "0.00"
    assert all("." in body[k] and len(body[k].split(".")[1]) == 2 for k in ("total", "meals"))


def test_a_jpy_quote_has_no_decimals():
    prop = bookable_property(currency="JPY", cleaning_fee=Decimal(0))
    StayType.objects.filter(property=prop).update(nightly_price=Decimal(1000))
    body = quote(prop).json()
    assert (body["nights_total"], body["meals"], body["total"]) == ("2000", "0", "2200")


def test_a_jpy_nightly_price_with_decimals_is_400_not_rounded():
    host = client_for(bookable_property().host)

    def create(nightly):
        return host.post(
            "/api/v1/properties/",
            {"currency": "JPY", "stay_types": [{"kind": "standard", "nightly_price": nightly}]},
            format="json",
        )

    response = create("999.50")
    assert response.status_code == 400, response.json()
    assert "JPY" in response.json()["errors"][0]["detail"]
    assert response.json()["errors"][0]["attr"] == "stay_types.standard.nightly_price"
    ok = create("999")
    assert ok.status_code == 201, ok.json()


def test_a_jpy_seasonal_rate_with_decimals_is_400():
    prop = bookable_property(currency="JPY")
    start = timezone.now().date() + timedelta(days=10)
    response = client_for(prop.host).post(
        f"/api/v1/properties/{prop.pk}/rates/",
        {"start": start, "end": start + timedelta(days=3), "nightly_price": "999.50"},
    )
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["attr"] == "nightly_price"
    assert not SeasonalRate.objects.filter(property=prop).exists()


def test_a_seasonal_rate_keeps_the_difference_between_stay_types():
    prop = bookable_property(currency="EUR", cleaning_fee=Decimal(0))
    StayType.objects.filter(property=prop).delete()
    StayType.objects.create(property=prop, kind="standard", nightly_price=Decimal(120))
    StayType.objects.create(
        property=prop, kind="with_meals", nightly_price=Decimal(150), breakfast_price=Decimal(10)
    )
    start = timezone.now().date() + timedelta(days=30)
    SeasonalRate.objects.create(
        property=prop, start=start, end=start + timedelta(days=2), nightly_price=Decimal(200)
    )
    standard = quote(prop, stay_type="standard").json()
    with_meals = quote(prop, stay_type="with_meals").json()
    assert standard["nights_total"] == "400.00"  # 2 x 200
    assert with_meals["nights_total"] == "460.00"  # 2 x (200 + 30)

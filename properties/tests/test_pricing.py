"""The pricing function of DESIGN.md section 3, as a table of stays and their totals."""

from datetime import date
from decimal import Decimal

import pytest

from properties.pricing import PriceInput, Rate, quote

D = Decimal
JUNE = date(2027, 6, 1)


def stay(nights, **overrides):
    base = {
        "kind": "standard",
        "check_in": JUNE,
        "check_out": date(2027, 6, 1 + nights) if nights < 30 else date(2027, 7, nights - 29),
        "guests": 2,
        "currency": "EUR",
        "nightly_price": D("100.00"),
    }
    return PriceInput(**{**base, **overrides})


SUMMER = (Rate(date(2027, 6, 3), date(2027, 6, 5), D("150.00")),)
MEAL_PRICES = {"breakfast": D("8.00"), "lunch": D("12.50"), "dinner": D("15.00")}

# case, input, expected (nights_total, discount, meals, cleaning, service, total)
TABLE = [
    ("one night", stay(1), ("100.00", "0.00", "0", "0.00", "0.00", "100.00")),
    ("three nights", stay(3), ("300.00", "0.00", "0", "0.00", "0.00", "300.00")),
    ("cleaning fee", stay(2, cleaning_fee=D("40")), ("200.00", "0.00", "0", "40.00", "0.00", "240.00")),
    ("service fee 10%", stay(2, service_fee_percent=D("10")), ("200.00", "0.00", "0", "0.00", "20.00", "220.00")),
    ("fee on cleaning too", stay(2, cleaning_fee=D("50"), service_fee_percent=D("10")), ("200.00", "0.00", "0", "50.00", "25.00", "275.00")),
    ("seasonal rate on two nights", stay(5, rates=SUMMER), ("600.00", "0.00", "0", "0.00", "0.00", "600.00")),
    ("seasonal rate partly outside", stay(3, rates=SUMMER), ("350.00", "0.00", "0", "0.00", "0.00", "350.00")),
    ("six nights: no weekly discount", stay(6, weekly_discount_percent=D("10")), ("600.00", "0.00", "0", "0.00", "0.00", "600.00")),
    ("seven nights: weekly discount", stay(7, weekly_discount_percent=D("10")), ("700.00", "70.00", "0", "0.00", "0.00", "630.00")),
    ("27 nights: still weekly", stay(27, weekly_discount_percent=D("10"), monthly_discount_percent=D("25")), ("2700.00", "270.00", "0", "0.00", "0.00", "2430.00")),
    ("28 nights: monthly wins", stay(28, weekly_discount_percent=D("10"), monthly_discount_percent=D("25")), ("2800.00", "700.00", "0", "0.00", "0.00", "2100.00")),
    ("28 nights, only weekly set", stay(28, weekly_discount_percent=D("10")), ("2800.00", "280.00", "0", "0.00", "0.00", "2520.00")),
    ("breakfast for two, 3 nights", stay(3, kind="with_meals", meal_prices=MEAL_PRICES, meals=("breakfast",)), ("300.00", "0.00", "48.00", "0.00", "0.00", "348.00")),
    ("all meals", stay(2, kind="with_meals", meal_prices=MEAL_PRICES, meals=("breakfast", "lunch", "dinner")), ("200.00", "0.00", "142.00", "0.00", "0.00", "342.00")),
    ("meals not discounted", stay(7, kind="with_meals", meal_prices=MEAL_PRICES, meals=("dinner",), weekly_discount_percent=D("10")), ("700.00", "70.00", "210.00", "0.00", "0.00", "840.00")),
    ("paying guest, 30 nights", stay(30, kind="paying_guest", nightly_price=None, monthly_price=D("2400")), ("2400.00", "0", "0", "0.00", "0.00", "2400.00")),
    ("paying guest, 45 nights pro rata", stay(45, kind="paying_guest", nightly_price=None, monthly_price=D("2400"), monthly_discount_percent=D("20")), ("3600.00", "0", "0", "0.00", "0.00", "3600.00")),
    ("rounding half up", stay(3, nightly_price=D("33.335")), ("100.01", "0.00", "0", "0.00", "0.00", "100.01")),
    ("yen has no minor unit", stay(2, currency="JPY", nightly_price=D("12000"), service_fee_percent=D("12.5")), ("24000", "0", "0", "0", "3000", "27000")),
    ("fee rounds to cents", stay(1, nightly_price=D("99.99"), service_fee_percent=D("14.2")), ("99.99", "0.00", "0", "0.00", "14.20", "114.19")),
]  # fmt: skip


@pytest.mark.parametrize(("case", "data", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_quote_table(case, data, expected):
    result = quote(data)
    got = (
        result.nights_total,
        result.discount,
        result.meals,
        result.cleaning_fee,
        result.service_fee,
        result.total,
    )
    assert got == tuple(D(x) for x in expected)
    assert sum((item.amount for item in result.line_items), D(0)) == result.total


def test_quote_snapshot_is_json_safe_strings():
    snapshot = quote(stay(7, weekly_discount_percent=D("10"), cleaning_fee=D("20"))).as_dict()
    assert snapshot["total"] == "650.00"
    assert [item["code"] for item in snapshot["line_items"]] == [
        "nights",
        "discount",
        "cleaning_fee",
    ]
    assert snapshot["line_items"][1]["amount"] == "-70.00"


def test_zero_nights_is_refused():
    with pytest.raises(ValueError):
        quote(stay(0))

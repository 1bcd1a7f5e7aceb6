"""Money on the listing's serializers: the bounds of prices a host may set, and amounts
read from the listing in its currency's minor unit."""

from decimal import Decimal

from core.api.fields import AmountField

# Upper bounds keep every total of a stay (at most 730 nights, 50 guests, three meals a
# day) inside the 12 digits of a booking total; anything above is an input error.
MAX_NIGHTLY = Decimal("5000000")
MAX_MONTHLY = Decimal("100000000")
MAX_MEAL = Decimal("20000")
MAX_FEE = Decimal("1000000")
MONEY = {"max_digits": 10, "decimal_places": 2, "min_value": 0, "max_value": MAX_FEE}
MEAL = {"max_digits": 8, "decimal_places": 2, "min_value": 0, "max_value": MAX_MEAL}
PRICE = {"max_digits": 10, "decimal_places": 2, "min_value": 1, "max_value": MAX_NIGHTLY}


def listing_amount(**kwargs) -> AmountField:
    """An amount read from the listing (or from a row of it): the listing's currency's
    minor unit ("1000" in JPY, "120.00" in EUR)."""
    return AmountField(read_only=True, allow_null=True, **kwargs)

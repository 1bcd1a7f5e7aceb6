"""The price of a stay: a pure function of plain data (DESIGN.md section 3).

No ORM here. Nightly stays: each night at the seasonal rate covering it or the
base price; a weekly (>= 7 nights) or monthly (>= 28 nights) discount on the
nights; meals per person per night for each chosen meal; cleaning fee; the
service fee percent on all of that. Paying guests pay the monthly price pro
rata per night (a month counts 30 nights), with no further discount.
Every amount is a ``Decimal`` quantized to the currency's minor unit.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from core.money import quantize

MEALS = ("breakfast", "lunch", "dinner")
DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class Rate:
    start: date
    end: date  # exclusive
    nightly_price: Decimal


@dataclass(frozen=True)
class PriceInput:
    kind: str  # standard | with_meals | paying_guest
    check_in: date
    check_out: date
    guests: int
    currency: str
    nightly_price: Decimal | None = None
    monthly_price: Decimal | None = None
    rates: tuple[Rate, ...] = ()
    meal_prices: dict = field(default_factory=dict)  # meal -> price per person
    meals: tuple[str, ...] = ()
    weekly_discount_percent: Decimal = Decimal(0)
    monthly_discount_percent: Decimal = Decimal(0)
    cleaning_fee: Decimal = Decimal(0)
    service_fee_percent: Decimal = Decimal(0)


@dataclass(frozen=True)
class LineItem:
    code: str
    label: str
    amount: Decimal


@dataclass(frozen=True)
class Quote:
    currency: str
    nights: int
    nights_total: Decimal
    discount: Decimal
    meals: Decimal
    stay_subtotal: Decimal
    cleaning_fee: Decimal
    service_fee: Decimal
    total: Decimal
    line_items: tuple[LineItem, ...]
    nightly: tuple[tuple[date, Decimal], ...] = ()

    @property
    def average_nightly(self) -> Decimal:
        return quantize(self.nights_total / self.nights, self.currency)

    def as_dict(self) -> dict:
        """JSON-safe snapshot stored on bookings and negotiations."""
        return {
            "currency": self.currency,
            "nights": self.nights,
            "nights_total": str(self.nights_total),
            "discount": str(self.discount),
            "meals": str(self.meals),
            "stay_subtotal": str(self.stay_subtotal),
            "cleaning_fee": str(self.cleaning_fee),
            "service_fee": str(self.service_fee),
            "total": str(self.total),
            "line_items": [
                {"code": item.code, "label": item.label, "amount": str(item.amount)}
                for item in self.line_items
            ],
        }


def _nights(check_in: date, check_out: date):
    day = check_in
    while day < check_out:
        yield day
        day += timedelta(days=1)


def _nightly_price(day: date, data: PriceInput) -> Decimal:
    for rate in data.rates:
        if rate.start <= day < rate.end:
            return rate.nightly_price
    return data.nightly_price


def quote(data: PriceInput) -> Quote:
    nights = (data.check_out - data.check_in).days
    if nights < 1:
        raise ValueError("check_out must be after check_in")
    q = lambda amount: quantize(amount, data.currency)  # noqa: E731
    items: list[LineItem] = []
    nightly: tuple[tuple[date, Decimal], ...] = ()

    if data.kind == "paying_guest":
        nights_total = q(data.monthly_price * nights / DAYS_PER_MONTH)
        items.append(LineItem("stay", f"{nights} nights at the monthly price", nights_total))
        discount = Decimal(0)
    else:
        nightly = tuple(
            (day, _nightly_price(day, data)) for day in _nights(data.check_in, data.check_out)
        )
        nights_total = q(sum((price for _, price in nightly), Decimal(0)))
        items.append(LineItem("nights", f"{nights} night{'s' if nights > 1 else ''}", nights_total))
        percent = Decimal(0)
        if nights >= 28 and data.monthly_discount_percent:
            percent, label = data.monthly_discount_percent, "Monthly discount"
        elif nights >= 7 and data.weekly_discount_percent:
            percent, label = data.weekly_discount_percent, "Weekly discount"
        discount = q(nights_total * percent / 100)
        if discount:
            items.append(LineItem("discount", label, -discount))

    meals_total = q(Decimal(0))  # "0.00", as every amount: the currency's minor unit
    for meal in MEALS:
        if meal in data.meals:
            amount = q(data.meal_prices[meal] * data.guests * nights)
            meals_total += amount
            items.append(LineItem(meal, f"{meal.capitalize()} x {data.guests} x {nights}", amount))

    stay_subtotal = nights_total - discount + meals_total
    cleaning = q(data.cleaning_fee)
    if cleaning:
        items.append(LineItem("cleaning_fee", "Cleaning fee", cleaning))
    service = q((stay_subtotal + cleaning) * data.service_fee_percent / 100)
    if service:
        items.append(LineItem("service_fee", "Service fee", service))
    return Quote(
        currency=data.currency,
        nights=nights,
        nights_total=nights_total,
        discount=discount,
        meals=meals_total,
        stay_subtotal=stay_subtotal,
        cleaning_fee=cleaning,
        service_fee=service,
        total=stay_subtotal + cleaning + service,
        line_items=tuple(items),
        nightly=nightly,
    )


# --- an agreed total (a negotiation) as line items --------------------------------------------

# The item that takes the rounding remainder: the nights (or a paying guest's stay).
_REMAINDER_ITEMS = ("nights", "stay")
_STAY_ITEMS = ("nights", "stay", "discount", *MEALS)


def agreed_price(list_price: dict, agreed_total: Decimal) -> dict:
    """The list quote snapshot ``list_price`` (``Quote.as_dict()``) scaled to ``agreed_total``.

    Every line item is multiplied by agreed / list and rounded to the currency's minor
    unit; what rounding leaves over (a few minor units, either sign) goes on the nights,
    so the items add up to the agreed total exactly. The subtotals (stay, cleaning, service
    fee) are sums of the scaled items, which is what refunds apply the policy to. The list
    figures stay in the snapshot under ``list`` (and ``list_total``). Worked example in
    docs/money.md.
    """
    currency = list_price["currency"]
    list_total = Decimal(list_price["total"])
    agreed_total = quantize(agreed_total, currency)
    if list_total <= 0 or agreed_total <= 0:
        raise ValueError("list and agreed totals must be positive")
    items = [
        {**item, "amount": quantize(Decimal(item["amount"]) * agreed_total / list_total, currency)}
        for item in list_price["line_items"]
    ]
    _put_remainder(items, agreed_total - sum((item["amount"] for item in items), Decimal(0)))

    def total_of(*codes: str) -> Decimal:
        return sum((item["amount"] for item in items if item["code"] in codes), Decimal(0))

    nights_total = total_of(*_REMAINDER_ITEMS)
    discount = -total_of("discount")
    meals = total_of(*MEALS)
    snapshot = {
        "currency": currency,
        "nights": list_price["nights"],
        "nights_total": nights_total,
        "discount": discount,
        "meals": meals,
        "stay_subtotal": nights_total - discount + meals,
        "cleaning_fee": total_of("cleaning_fee"),
        "service_fee": total_of("service_fee"),
        "total": agreed_total,
        "line_items": [{**item, "amount": str(item["amount"])} for item in items],
    }
    if sum((item["amount"] for item in items), Decimal(0)) != agreed_total:  # pragma: no cover
        raise AssertionError("agreed line items do not add up to the agreed total")
    return {
        **{key: _json(value) for key, value in snapshot.items()},
        "agreed": True,
        "list_total": str(list_total),
        "agreed_total": str(agreed_total),
        "list": {key: value for key, value in list_price.items() if key != "list"},
    }


def _json(value):
    return str(value) if isinstance(value, Decimal) else value


def _put_remainder(items: list[dict], remainder: Decimal) -> None:
    """Add ``remainder`` to the nights; if that would take them below zero (a tiny agreed
    total with a large fee), the rest comes off the largest other positive item."""
    if not remainder:
        return
    stay = next((item for item in items if item["code"] in _REMAINDER_ITEMS), None)
    if stay is None:  # no nights at all: the largest item
        stay = max(items, key=lambda item: item["amount"])
    stay["amount"] += remainder
    deficit = -stay["amount"]
    if deficit <= 0:
        return
    stay["amount"] = Decimal(0)
    for other in sorted(items, key=lambda item: item["amount"], reverse=True):
        taken = min(deficit, max(other["amount"], Decimal(0)))
        other["amount"] -= taken
        deficit -= taken
        if not deficit:
            return

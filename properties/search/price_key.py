"""With dates, the SQL estimate of each listing's stay price that price filters and price
orderings use (``price_key``)."""

from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least, NullIf
from django.db.models.lookups import Exact

from properties.models import SeasonalRate, StayKind
from properties.prepared import Terms


class DaysBetween(Func):
    """``later - earlier`` in days, for two dates."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        later, later_params = compiler.compile(self.source_expressions[0])
        earlier, earlier_params = compiler.compile(self.source_expressions[1])
        return f"({later} - {earlier})", [*later_params, *earlier_params]

    def as_sqlite(self, compiler, connection, **extra):
        later, later_params = compiler.compile(self.source_expressions[0])
        earlier, earlier_params = compiler.compile(self.source_expressions[1])
        sql = f"CAST(ROUND(julianday({later}) - julianday({earlier})) AS INTEGER)"
        return sql, [*later_params, *earlier_params]


_MONEY = DecimalField(max_digits=20, decimal_places=6)


class Within(Func):
    """``low <= expression <= high``, the expression evaluated once (it is a long one).
    PostgreSQL turns ``BETWEEN`` into two comparisons, each computing the expression:
    there ``|2 expression - (low + high)| <= high - low``, the same test in exact
    ``numeric`` arithmetic. SQLite's ``BETWEEN`` computes it once."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        (value, value_params), (low, low_params), (high, high_params) = (
            compiler.compile(expression) for expression in self.source_expressions
        )
        sql = f"ABS(2 * {value} - ({low} + {high})) <= ({high} - {low})"
        return sql, [*value_params, *low_params, *high_params, *high_params, *low_params]

    def as_sqlite(self, compiler, connection, **extra):
        (value, value_params), (low, low_params), (high, high_params) = (
            compiler.compile(expression) for expression in self.source_expressions
        )
        return f"{value} BETWEEN {low} AND {high}", [*value_params, *low_params, *high_params]


def with_price_key(qs: QuerySet, terms: Terms) -> QuerySet:
    """An SQL estimate of the stay's price before the service fee, for the cheapest
    stay type that may take it (or ``stay_type``'s): its nights (each at the seasonal
    rate covering it or the stay type's nightly price; a paying guest's month over 30
    nights), less the weekly or monthly discount, plus the cleaning fee, without the
    quote's rounding. A seasonal rate is the cheapest nightly stay type's price and
    the others keep their difference (``quotes.stay_type_rates``). The total is this
    times the service fee factor, within a few minor units (``PRICE_MARGIN``); ordering
    on it is ordering on the total.

    The stay types' prices come from the listing's :class:`~properties.models.PriceSummary`
    (one join); the seasonal rates covering the stay are summed (two correlated
    subqueries) only for a listing whose rates span reaches into the stay."""
    check_in, check_out, nights = terms("check_in"), terms("check_out"), terms("nights")
    rates = SeasonalRate.objects.filter(
        property=OuterRef("pk"), start__lt=check_out, end__gt=check_in
    ).order_by()
    overlap = DaysBetween(
        Least(F("end"), check_out, output_field=DateField()),
        Greatest(F("start"), check_in, output_field=DateField()),
    )
    per_property = rates.values("property")
    rate_nights = Subquery(per_property.annotate(n=Sum(overlap)).values("n")[:1])
    rate_sum = Subquery(
        per_property.annotate(
            s=Sum(ExpressionWrapper(F("nightly_price") * overlap, output_field=_MONEY))
        ).values("s")[:1]
    )
    percent = Case(
        When(
            Q(Exact(terms("long_stay"), True), monthly_discount_percent__gt=0),
            then=F("monthly_discount_percent"),
        ),
        When(Exact(terms("weekly"), True), then=F("weekly_discount_percent")),
        default=Value(Decimal(0)),
        output_field=_MONEY,
    )
    # each night at the stay type's price, or at the rate plus the stay type's gap to the
    # cheapest nightly stay type: price * nights + rates - cheapest * rate nights; the rates
    # are read only for a listing whose rates span reaches into the stay
    rates_reach_the_stay = Q(
        price_summary__rates_start__lt=check_out, price_summary__rates_end__gt=check_in
    )
    seasonal = Case(
        When(
            rates_reach_the_stay,
            then=Coalesce(F("sk_rate_sum"), Value(Decimal(0)), output_field=_MONEY)
            - F("price_summary__lowest_nightly") * Coalesce(F("sk_rate_nights"), Value(0)),
        ),
        default=Value(Decimal(0)),
        output_field=_MONEY,
    )
    # (no ExpressionWrapper: each one is a CAST more on SQLite, whose parser takes
    # expressions only about 45 parentheses deep, and this one comes near)
    nightly = (F("sk_nightly") * nights + seasonal) * (Value(100) - F("sk_percent")) / Value(100)
    monthly = Case(
        When(Exact(terms("long_stay"), True), then=F("sk_monthly") * nights / Value(30)),
        default=Value(None),
        output_field=_MONEY,
    )
    none = Value(Decimal("1e12"))  # no such stay type: more than any price
    stay = Least(
        Coalesce(nightly, none, output_field=_MONEY),
        Coalesce(monthly, none, output_field=_MONEY),
        output_field=_MONEY,
    )
    key = NullIf(stay, none) + F("cleaning_fee")
    qs = qs.alias(
        sk_rate_nights=rate_nights,
        sk_rate_sum=rate_sum,
        sk_nightly=_nightly_price(terms),
        sk_monthly=_monthly_price(terms),
        sk_percent=percent,
    )
    return qs.alias(price_key=key)


#: The summary's nightly price of each nightly stay type.
_NIGHTLY = {
    StayKind.STANDARD.value: "price_summary__standard_nightly",
    StayKind.WITH_MEALS.value: "price_summary__with_meals_nightly",
}
_MONTHLY = "price_summary__paying_guest_monthly"


def _nightly_price(terms: Terms):
    """The nightly price of ``stay_type`` if it is a nightly stay type of the listing (else
    ``NULL``), or without ``stay_type`` the lowest of the listing's nightly stay types."""
    if "stay_type" in terms:
        kinds = [
            When(Exact(terms("stay_type"), Value(kind)), then=F(f)) for kind, f in _NIGHTLY.items()
        ]
        return Case(*kinds, default=Value(None), output_field=_MONEY)
    standard, with_meals = (F(column) for column in _NIGHTLY.values())
    # the lower of the two, or the one there is (LEAST is NULL with a NULL on SQLite)
    return Coalesce(Least(standard, with_meals), standard, with_meals, output_field=_MONEY)


def _monthly_price(terms: Terms):
    """The paying guest's monthly price, where ``stay_type`` (if given) is that."""
    if "stay_type" in terms:
        paying_guest = Exact(terms("stay_type"), Value(StayKind.PAYING_GUEST.value))
        return Case(When(paying_guest, then=F(_MONTHLY)), default=Value(None), output_field=_MONEY)
    return F(_MONTHLY)

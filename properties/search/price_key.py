"""With dates, the SQL estimate of each listing's stay price that price filters and price
orderings use (``price_key``)."""

from decimal import Decimal

from django.db.models import (
    Case,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.db.models.lookups import Exact

from properties.models import SeasonalRate, StayKind, StayType
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


def with_price_key(qs: QuerySet, terms: Terms) -> QuerySet:
    """An SQL estimate of the stay's price before the service fee, for the cheapest
    stay type that may take it (or ``stay_type``'s): its nights (each at the seasonal
    rate covering it or the stay type's nightly price; a paying guest's month over 30
    nights), less the weekly or monthly discount, plus the cleaning fee, without the
    quote's rounding. A seasonal rate is the cheapest nightly stay type's price and
    the others keep their difference (``quotes.stay_type_rates``). The total is this
    times the service fee factor, within a few minor units (``PRICE_MARGIN``); ordering
    on it is ordering on the total."""
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

    def lowest(column: str, kinds: QuerySet) -> Subquery:
        kinds = kinds.filter(**{f"{column}__isnull": False}).order_by().values("property")
        return Subquery(kinds.annotate(m=Min(column)).values("m")[:1], output_field=_MONEY)

    stay_types = StayType.objects.filter(property=OuterRef("pk"))
    nightly_kinds = stay_types.exclude(kind=StayKind.PAYING_GUEST)
    monthly_kinds = stay_types.filter(kind=StayKind.PAYING_GUEST)
    if "stay_type" in terms:
        nightly_kinds = nightly_kinds.filter(kind=terms("stay_type"))
        monthly_kinds = monthly_kinds.filter(kind=terms("stay_type"))
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
    # cheapest nightly stay type: price * nights + rates - cheapest * rate nights
    nightly = ExpressionWrapper(
        (
            F("sk_nightly") * nights
            + Coalesce(F("sk_rate_sum"), Value(Decimal(0)), output_field=_MONEY)
            - F("sk_cheapest") * Coalesce(F("sk_rate_nights"), Value(0))
        )
        * (Value(100) - F("sk_percent"))
        / Value(100),
        output_field=_MONEY,
    )
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
    key = Case(
        When(Q(Exact(stay, none)), then=Value(None)),
        default=ExpressionWrapper(stay + F("cleaning_fee"), output_field=_MONEY),
        output_field=_MONEY,
    )
    qs = qs.alias(
        sk_rate_nights=rate_nights,
        sk_rate_sum=rate_sum,
        sk_nightly=lowest("nightly_price", nightly_kinds),
        sk_cheapest=lowest("nightly_price", stay_types),
        sk_monthly=lowest("monthly_price", monthly_kinds),
        sk_percent=percent,
    )
    return qs.alias(price_key=key)

"""Each listing's price summary (``PriceSummary``, kept by the database's triggers) stays
right after every kind of write of its stay types and seasonal rates: through the services
and through the ORM (the admin, fixtures), created, updated and deleted, a currency change,
a stay type moved to another listing, the listing deleted. Values worked out by hand."""

import importlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from properties import services
from properties.models import PriceSummary, Property, SeasonalRate, StayType
from properties.tests.factories import HostFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _day(n: int) -> date:
    return timezone.now().date() + timedelta(days=n)


def _summary(prop: Property) -> tuple:
    """(standard, with meals, paying guest monthly, lowest nightly, rates start, rates end)"""
    row = PriceSummary.objects.filter(property=prop).first()
    if row is None:
        return None
    return (
        row.standard_nightly,
        row.with_meals_nightly,
        row.paying_guest_monthly,
        row.lowest_nightly,
        row.rates_start,
        row.rates_end,
    )


def test_the_summary_follows_every_write_of_stay_types_and_rates():
    prop = services.property_create(host=HostFactory(), title="Flat")
    assert _summary(prop) is None  # nothing to summarise yet

    services.property_update(
        prop=prop,
        stay_types=[
            {"kind": "standard", "nightly_price": D("120")},
            {"kind": "with_meals", "nightly_price": D("150"), "breakfast_price": D("8")},
        ],
    )
    assert _summary(prop) == (D("120"), D("150"), None, D("120"), None, None)

    services.property_update(  # the stay types replaced: one deleted, one changed, one new
        prop=prop,
        stay_types=[
            {"kind": "standard", "nightly_price": D("100")},
            {"kind": "paying_guest", "monthly_price": D("2400")},
        ],
    )
    assert _summary(prop) == (D("100"), None, D("2400"), D("100"), None, None)

    StayType.objects.filter(property=prop, kind="standard").update(nightly_price=D("90.50"))
    assert _summary(prop) == (D("90.50"), None, D("2400"), D("90.50"), None, None)

    paying_guest = StayType.objects.get(property=prop, kind="paying_guest")
    paying_guest.nightly_price = D("80")  # a paying guest's nightly price is what a rate stands for
    paying_guest.save()
    assert _summary(prop) == (D("90.50"), None, D("2400"), D("80"), None, None)

    StayType.objects.filter(property=prop, kind="standard").update(breakfast_price=D("5"))
    assert _summary(prop) == (D("90.50"), None, D("2400"), D("80"), None, None)

    StayType.objects.get(property=prop, kind="standard").delete()
    assert _summary(prop) == (None, None, D("2400"), D("80"), None, None)

    summer = services.rate_create(prop=prop, start=_day(5), end=_day(9), nightly_price=D("50"))
    assert _summary(prop)[4:] == (_day(5), _day(9))
    autumn = services.rate_create(prop=prop, start=_day(12), end=_day(15), nightly_price=D("60"))
    assert _summary(prop)[4:] == (_day(5), _day(15))

    summer.start = _day(3)
    summer.save()
    assert _summary(prop)[4:] == (_day(3), _day(15))
    SeasonalRate.objects.filter(pk=autumn.pk).update(end=_day(20))
    assert _summary(prop)[4:] == (_day(3), _day(20))
    SeasonalRate.objects.filter(pk=autumn.pk).update(nightly_price=D("70"))
    assert _summary(prop)[4:] == (_day(3), _day(20))

    services.rate_delete(rate=summer)
    assert _summary(prop) == (None, None, D("2400"), D("80"), _day(12), _day(20))

    services.property_update(  # a currency change, with the prices in the new currency
        prop=prop, currency="JPY", stay_types=[{"kind": "standard", "nightly_price": D("12000")}]
    )
    assert _summary(prop) == (D("12000"), None, None, D("12000"), _day(12), _day(20))

    services.rate_delete(rate=SeasonalRate.objects.get(pk=autumn.pk))
    assert _summary(prop) == (D("12000"), None, None, D("12000"), None, None)

    services.property_update(prop=prop, stay_types=[])
    assert _summary(prop) == (None, None, None, None, None, None)


def test_a_stay_type_moved_to_another_listing_changes_both_summaries():
    host = HostFactory()
    first = services.property_create(
        host=host,
        stay_types=[
            {"kind": "standard", "nightly_price": D("70")},
            {"kind": "paying_guest", "monthly_price": D("1800")},
        ],
    )
    second = services.property_create(
        host=host, stay_types=[{"kind": "standard", "nightly_price": D("95")}]
    )
    StayType.objects.filter(property=first, kind="paying_guest").update(property=second)
    assert _summary(first) == (D("70"), None, None, D("70"), None, None)
    assert _summary(second) == (D("95"), None, D("1800"), D("95"), None, None)


def test_a_listing_deleted_takes_its_summary_along():
    prop = services.property_create(
        host=HostFactory(), stay_types=[{"kind": "standard", "nightly_price": D("70")}]
    )
    services.rate_create(prop=prop, start=_day(5), end=_day(9), nightly_price=D("50"))
    prop.delete()
    assert not PriceSummary.objects.exists()
    connection.check_constraints()  # no summary left pointing at the deleted listing


def test_saving_a_listing_read_before_its_stay_types_changed_leaves_the_summary():
    prop = services.property_create(
        host=HostFactory(), stay_types=[{"kind": "standard", "nightly_price": D("70")}]
    )
    stale = Property.objects.get(pk=prop.pk)
    StayType.objects.filter(property=prop).update(nightly_price=D("75"))
    stale.title = "Renamed"
    stale.save()
    assert _summary(prop) == (D("75"), None, None, D("75"), None, None)


class _SchemaEditor:
    """What a migration's RunPython function uses of its schema editor."""

    connection = connection

    def execute(self, sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_the_migration_fills_the_summary_of_listings_that_had_stay_types_or_rates():
    migration = importlib.import_module("properties.migrations.0012_price_summary")
    host = HostFactory()
    both = services.property_create(
        host=host,
        stay_types=[
            {"kind": "standard", "nightly_price": D("110")},
            {"kind": "with_meals", "nightly_price": D("99.90"), "dinner_price": D("12")},
        ],
    )
    services.rate_create(prop=both, start=_day(4), end=_day(6), nightly_price=D("130"))
    rates_only = services.property_create(host=host)
    services.rate_create(prop=rates_only, start=_day(8), end=_day(10), nightly_price=D("40"))
    bare = services.property_create(host=host)
    PriceSummary.objects.all().delete()  # as before the migration

    migration.fill(None, _SchemaEditor())

    assert _summary(both) == (D("110"), D("99.90"), None, D("99.90"), _day(4), _day(6))
    assert _summary(rates_only) == (None, None, None, None, _day(8), _day(10))
    assert _summary(bare) is None

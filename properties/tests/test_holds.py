"""The port through which properties asks who holds a property's dates (properties.holds)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef
from django.utils import timezone
from icalendar import Calendar
from rest_framework.test import APIClient

from bookings.availability import BookingDates
from bookings.tests.factories import client_for, verified_guest
from negotiation.holds import OpenNegotiations
from properties import calendar, holds, selectors
from properties.holds import HeldRange, RunningDeals
from properties.ical.export import calendar_export
from properties.models import Property
from properties.quotes import property_today
from properties.tests.factories import published_property

pytestmark = pytest.mark.django_db


class OneRangeHolder:
    """A second date holder (as negotiation's live holds will be): one range of one
    property."""

    def __init__(self, prop, start, end):
        self.prop, self.start, self.end = prop, start, end

    def _meets(self, property_id, start, end) -> bool:
        starts_before_end = end is None or self.start < end
        return property_id == self.prop.pk and self.end > start and starts_before_end

    def free_condition(self, *, start, end, now):
        held = Property.objects.filter(pk=OuterRef("pk")).filter(pk=self.prop.pk)
        if not self._meets(self.prop.pk, start, end):
            held = held.none()
        return ~Exists(held)

    def is_held(self, *, property_id, start, end, now):
        return self._meets(property_id, start, end)

    def held_ranges(self, *, property_id, start, end, now):
        if not self._meets(property_id, start, end):
            return []
        return [HeldRange("live-hold-1", self.start, self.end, "held", timezone.now())]

    def has_stay(self, *, user, property_id):
        return False


def _day(prop, n):
    return property_today(prop) + timedelta(days=n)


def test_bookings_and_negotiation_register_at_start_up():
    assert isinstance(holds._date_holders["bookings"], BookingDates)
    assert isinstance(holds._deal_sources["bookings"], BookingDates)
    assert isinstance(holds._deal_sources["negotiation"], OpenNegotiations)


def test_search_keeps_one_not_exists_per_holder_plus_blocks():
    start = timezone.now().date()
    conditions = selectors.free_for_dates(start, start + timedelta(days=2))
    assert len(conditions) == 2  # bookings and blocks: the two NOT EXISTS of search
    sql = str(Property.objects.filter(*conditions).query)
    assert sql.count("NOT EXISTS") == 2 and "NOT IN" not in sql


def test_without_a_date_holder_dates_are_never_taken_as_free(monkeypatch):
    prop = published_property()
    monkeypatch.setattr(holds, "_date_holders", {})
    start, end = _day(prop, 5), _day(prop, 7)
    with pytest.raises(ImproperlyConfigured):
        selectors.dates_taken(property_id=prop.pk, start=start, end=end)
    with pytest.raises(ImproperlyConfigured):
        selectors.free_for_dates(start, end)
    with pytest.raises(ImproperlyConfigured):
        calendar.availability(prop=prop, start=start, end=end)
    with pytest.raises(ImproperlyConfigured):
        calendar_export(prop=prop)


def test_without_a_deal_source_the_currency_cannot_be_changed(monkeypatch):
    prop = published_property(photos=3)
    monkeypatch.setattr(holds, "_deal_sources", {})
    with pytest.raises(ImproperlyConfigured):
        client_for(prop.host).patch(
            f"/api/v1/properties/{prop.pk}/", {"currency": "USD"}, format="json"
        )
    prop.refresh_from_db()
    assert prop.currency == "EUR"


def test_a_second_holder_takes_its_dates_everywhere(monkeypatch):
    prop = published_property()
    start, end = _day(prop, 10), _day(prop, 12)
    monkeypatch.setitem(holds._date_holders, "live", OneRangeHolder(prop, start, end))

    assert selectors.dates_taken(property_id=prop.pk, start=_day(prop, 11), end=_day(prop, 14))
    assert not selectors.dates_taken(property_id=prop.pk, start=end, end=_day(prop, 14))
    conditions = selectors.free_for_dates(_day(prop, 11), _day(prop, 14))
    assert len(conditions) == 3
    assert not Property.objects.filter(pk=prop.pk).filter(*conditions).exists()

    days = calendar.availability(prop=prop, start=_day(prop, 9), end=_day(prop, 13))
    assert [d["status"] for d in days] == ["available", "booked", "booked", "available"]

    quote = APIClient().get(
        f"/api/v1/properties/{prop.pk}/quote/?check_in={_day(prop, 11)}&check_out={_day(prop, 13)}"
    )
    assert quote.status_code == 409 and quote.json()["errors"][0]["code"] == "dates_unavailable"

    events = Calendar.from_ical(calendar_export(prop=prop)).walk("VEVENT")
    assert [(str(e["UID"]), str(e["SUMMARY"]), e["DTSTART"].dt) for e in events] == [
        ("live-hold-1", "Reserved", start)
    ]


def test_the_currency_lock_names_every_kind_of_deal(monkeypatch):
    prop = published_property(photos=3)

    class TwoOffers:
        def running_deals(self, *, prop, now):
            return RunningDeals(key="standing_offers", count=2, phrase="2 offer(s) stand")

    monkeypatch.setitem(holds._deal_sources, "offers", TwoOffers())
    response = client_for(prop.host).patch(
        f"/api/v1/properties/{prop.pk}/", {"currency": "USD"}, format="json"
    )
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert (
        error["code"],
        error["open_negotiations"],
        error["holding_bookings"],
        error["standing_offers"],
    ) == ("currency_locked", 0, 0, 2)
    assert "2 offer(s) stand" in error["detail"]


def test_a_guest_with_a_stay_reads_an_unlisted_listing_others_do_not():
    prop = published_property(instant_book=True)
    guest = verified_guest()
    booked = client_for(guest).post(
        "/api/v1/bookings/",
        {
            "property": prop.pk,
            "check_in": _day(prop, 10),
            "check_out": _day(prop, 12),
            "guests": 1,
            "stay_type": "standard",
            "payment_token": "tok_ok",
        },
    )
    assert booked.status_code == 201
    prop.status = Property.Status.UNLISTED
    prop.save(update_fields=["status"])
    assert client_for(guest).get(f"/api/v1/properties/{prop.pk}/").status_code == 200
    assert client_for(verified_guest()).get(f"/api/v1/properties/{prop.pk}/").status_code == 404
    assert APIClient().get(f"/api/v1/properties/{prop.pk}/").status_code == 404

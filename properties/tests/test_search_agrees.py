"""Search agrees with quote and booking (issue 19): the property's own today, advance
notice and nights per stay type; prices of the searched stay; text and city ignoring case
and accents; pages stable while listings are published; availability's bookable window."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from rest_framework.test import APIClient

from properties.models import Property, SeasonalRate, StayType
from properties.tests.factories import published_property

pytestmark = pytest.mark.django_db
URL = "/api/v1/properties/"
NOW = datetime(2027, 3, 10, 11, 0, tzinfo=UTC)  # Kiritimati: the 11th already
TODAY = NOW.date()


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def _search(params) -> list[dict]:
    response = APIClient().get(URL, params)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def _ids(params) -> set[int]:
    return {row["id"] for row in _search(params)}


def _quote(prop, check_in, check_out, guests=1, stay_type="standard"):
    return APIClient().get(
        f"{URL}{prop.pk}/quote/",
        {"check_in": check_in, "check_out": check_out, "guests": guests, "stay_type": stay_type},
    )


@pytest.mark.parametrize(
    "zone,notice,check_in,code",
    [
        ("Pacific/Kiritimati", 0, 0, "past_dates"),  # UTC+14: its today is the 11th
        ("Pacific/Kiritimati", 1, 1, "advance_notice"),
        ("Europe/Lisbon", 1, 0, "advance_notice"),
        ("Europe/Lisbon", 0, -1, "past_dates"),  # Porto, yesterday
        ("America/Adak", 0, -1, "past_dates"),  # UTC-10
    ],
)
def test_search_leaves_out_what_the_quote_refuses_for_the_property_today(
    frozen, zone, notice, check_in, code
):
    prop = published_property(city="Porto", timezone=zone, advance_notice_days=notice)
    refused = _quote(prop, _day(check_in), _day(check_in + 2))
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == code
    assert prop.pk not in _ids({"check_in": _day(check_in), "check_out": _day(check_in + 2)})
    # the first day the quote takes is found
    first = check_in + 1
    assert _quote(prop, _day(first), _day(first + 2)).status_code == 200
    assert prop.pk in _ids({"check_in": _day(first), "check_out": _day(first + 2)})


def test_paying_guest_search_honours_its_28_night_minimum(frozen):
    prop = published_property(kinds=("standard", "paying_guest"))
    week = {"check_in": _day(5), "check_out": _day(12), "stay_type": "paying_guest"}
    assert (
        _quote(prop, week["check_in"], week["check_out"], stay_type="paying_guest").json()[
            "errors"
        ][0]["code"]
        == "min_nights"
    )
    assert prop.pk not in _ids(week)
    assert prop.pk in _ids({**week, "stay_type": "standard"})
    month = {**week, "check_out": _day(5 + 28)}
    assert prop.pk in _ids(month)


def test_prices_with_dates_are_the_stay_total_and_its_nightly_average(frozen, settings):
    settings.SERVICE_FEE_PERCENT = Decimal(0)
    prop = published_property(nightly="120.00", cleaning_fee=Decimal(0))
    SeasonalRate.objects.create(
        property=prop, start=TODAY + timedelta(days=4), end=TODAY + timedelta(days=20),
        nightly_price=Decimal("300.00"),
    )  # fmt: skip
    dates = {"check_in": _day(5), "check_out": _day(7)}
    quote = _quote(prop, dates["check_in"], dates["check_out"]).json()
    assert quote["total"] == "600.00"
    (card,) = _search(dates)
    assert card["stay_total"] == "600.00" and card["nightly_average"] == "300.00"
    assert card["stay_type"] == "standard" and card["nightly_price"] == "120.00"
    assert prop.pk not in _ids({**dates, "max_price": "150"})
    assert prop.pk in _ids({**dates, "min_price": "300", "max_price": "300"})
    assert prop.pk not in _ids({**dates, "min_price": "300.01"})
    # without dates the filters stay on the listing's nightly price
    assert prop.pk in _ids({"max_price": "150"})
    assert _search({})[0]["stay_total"] is None


def test_price_filter_and_cards_use_the_searched_stay_type(frozen, settings):
    settings.SERVICE_FEE_PERCENT = Decimal(0)
    prop = published_property(nightly="120.00", kinds=("standard",), cleaning_fee=Decimal(0))
    StayType.objects.create(
        property=prop, kind="with_meals", nightly_price=Decimal("200.00"),
        breakfast_price=Decimal("8.00"),
    )  # fmt: skip
    dates = {"check_in": _day(5), "check_out": _day(7)}
    assert prop.pk not in _ids({**dates, "stay_type": "with_meals", "max_price": "150"})
    (card,) = _search({**dates, "stay_type": "with_meals"})
    assert (card["stay_type"], card["stay_total"]) == ("with_meals", "400.00")
    (card,) = _search({**dates, "max_price": "150"})  # the cheapest stay type that quotes
    assert (card["stay_type"], card["stay_total"]) == ("standard", "240.00")


def test_price_ordering_with_dates_sorts_on_the_stay_total(frozen):
    cheap_base = published_property(nightly="100.00", title="cheap base")
    SeasonalRate.objects.create(
        property=cheap_base, start=TODAY, end=TODAY + timedelta(days=30),
        nightly_price=Decimal("300.00"),
    )  # fmt: skip
    middle = published_property(nightly="200.00", title="middle")
    weekly = published_property(nightly="210.00", title="weekly")
    weekly.weekly_discount_percent = Decimal(20)  # 168 a night for a week
    weekly.save()
    week = {"check_in": _day(3), "check_out": _day(10)}
    rows = _search({**week, "ordering": "price"})
    assert [r["id"] for r in rows] == [weekly.pk, middle.pk, cheap_base.pk]
    totals = [Decimal(r["stay_total"]) for r in rows]
    assert totals == sorted(totals)
    for row, prop in zip(rows, [weekly, middle, cheap_base], strict=True):
        assert (
            row["stay_total"] == _quote(prop, week["check_in"], week["check_out"]).json()["total"]
        )
    assert [r["id"] for r in _search({**week, "ordering": "-price"})] == [
        cheap_base.pk, middle.pk, weekly.pk,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "params",
    [
        {"city": "Sao Paulo"},
        {"city": "SÃO PAULO"},
        {"city": "são paulo"},
        {"q": "sao bento"},
        {"q": "SÃO BENTO"},
        {"q": "ótima"},
        {"q": "Ótima localização"},
    ],
)
def test_city_and_text_match_ignoring_case_and_accents(params):
    prop = published_property(
        city="São Paulo", country="BR", title="Flat near Mosteiro de São Bento",
        description="ÓTIMA LOCALIZAÇÃO, perto do metrô.",
    )  # fmt: skip
    published_property(city="Santos", country="BR", title="Beach flat")
    assert _ids(params) == {prop.pk}


def test_folded_columns_follow_saves_and_the_migration_fills_them():
    prop = published_property(city="Lisbon")
    prop.city = "Évora"
    prop.save(update_fields=["city"])
    assert Property.objects.get(pk=prop.pk).city_folded == "evora"
    Property.objects.update(city_folded="", title_folded="", description_folded="")
    import importlib

    migration = importlib.import_module("properties.migrations.0011_search_folded_text")
    migration.fill_folded(apps, None)
    assert _ids({"city": "EVORA"}) == {prop.pk}


@pytest.mark.parametrize("ordering", ["price", "-created", "-price", "-rating"])
@pytest.mark.parametrize("dated", [False, True])
def test_pages_do_not_move_while_listings_are_published(ordering, dated):
    listings = [published_property(nightly=f"{100 + n}.00") for n in range(5)]
    params = {"ordering": ordering, "page_size": 2}
    if dated:
        today = date.today()
        params.update(check_in=today + timedelta(days=3), check_out=today + timedelta(days=5))
    client = APIClient()
    first = client.get(URL, params).json()
    published_property(nightly="50.00")  # newest and cheapest: lands on page 1 of a new search
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    pages = [[r["id"] for r in page["results"]] for page in (first, second, third)]
    assert third["next"] is None
    seen = [pk for page in pages for pk in page]
    assert sorted(seen) == sorted(p.pk for p in listings)  # none twice, none missed
    back = client.get(third["previous"]).json()
    assert [r["id"] for r in back["results"]] == pages[1]


def test_a_page_number_without_a_cursor_still_works():
    for n in range(5):
        published_property(nightly=f"{100 + n}.00")
    by_cursor = APIClient().get(URL, {"page_size": 2}).json()
    by_cursor = APIClient().get(by_cursor["next"]).json()
    by_page = APIClient().get(URL, {"page_size": 2, "page": 2}).json()
    assert by_page["results"] == by_cursor["results"]


def test_a_forged_cursor_is_a_400():
    response = APIClient().get(URL, {"cursor": "bm90IGEgY3Vyc29y"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "cursor"


def test_availability_shows_days_outside_the_bookable_window_as_unavailable(frozen):
    prop = published_property(timezone="Pacific/Kiritimati", advance_notice_days=1)
    local_today = TODAY + timedelta(days=1)

    def states(start, end):
        response = APIClient().get(
            f"{URL}{prop.pk}/availability/", {"start": start.isoformat(), "end": end.isoformat()}
        )
        assert response.status_code == 200, response.json()
        return {date.fromisoformat(d["date"]): d["status"] for d in response.json()}

    days = states(TODAY - timedelta(days=400), TODAY - timedelta(days=400) + timedelta(days=5))
    assert set(days.values()) == {"unavailable"}
    days = states(TODAY - timedelta(days=2), TODAY + timedelta(days=5))
    first = local_today + timedelta(days=1)  # its today plus one day of notice
    assert all(s == "unavailable" for d, s in days.items() if d < first)
    assert all(s == "available" for d, s in days.items() if d >= first)
    horizon = local_today + timedelta(days=730)  # the last check-out day
    days = states(horizon - timedelta(days=3), horizon + timedelta(days=3))
    assert all(s == "available" for d, s in days.items() if d < horizon)
    assert all(s == "unavailable" for d, s in days.items() if d >= horizon)
    last_night = (horizon - timedelta(days=1)).isoformat()
    assert _quote(prop, last_night, horizon.isoformat()).status_code == 200
    beyond = _quote(prop, horizon.isoformat(), (horizon + timedelta(days=1)).isoformat())
    assert beyond.json()["errors"][0]["code"] == "too_far_ahead"

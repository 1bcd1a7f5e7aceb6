"""Listing use-cases called directly: the rules a REST view, a task or a consumer all get."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bookings.models import Booking
from core.errors import InvalidFields
from negotiation import lifecycle
from properties import services
from properties.errors import CalendarDateError, DatesUnavailable, PropertyArchived, QuoteError
from properties.models import AvailabilityBlock, Photo, Property, SeasonalRate, StayType
from properties.tests.factories import GuestFactory, HostFactory, png_upload, published_property

pytestmark = pytest.mark.django_db
D = Decimal


def _day(n: int) -> date:
    return timezone.now().date() + timedelta(days=n)


def _booking(prop, start, end, *, status="confirmed", hold_expires_at=None) -> Booking:
    return Booking.objects.create(
        property=prop,
        guest=GuestFactory(),
        check_in=start,
        check_out=end,
        guests=1,
        stay_type="standard",
        total=D("100"),
        currency="EUR",
        status=status,
        hold_expires_at=hold_expires_at,
        cancellation_policy="moderate",
    )


def _quote(prop, **overrides):
    stay = {
        "property": prop,
        "check_in": _day(10),
        "check_out": _day(13),
        "guests": 2,
        "stay_type": "standard",
        "meals": {},
    }
    return services.quote_for_stay(**{**stay, **overrides})


# --- quote_for_stay ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"check_out": _day(10)}, "invalid_dates"),
        ({"check_in": _day(-1), "check_out": _day(2)}, "past_dates"),
        ({"check_in": _day(728), "check_out": _day(731)}, "too_far_ahead"),
        ({"check_in": _day(2), "check_out": _day(5)}, "advance_notice"),
        ({"guests": 0}, "invalid_guests"),
        ({"guests": 5}, "too_many_guests"),
        ({"stay_type": "castle"}, "stay_type_not_offered"),
        ({"stay_type": "paying_guest"}, "stay_type_not_offered"),
        ({"check_out": _day(11)}, "min_nights"),
        ({"check_out": _day(40)}, "max_nights"),
        ({"meals": {"breakfast": True}}, "meals_not_offered"),
        ({"stay_type": "with_meals", "meals": {"brunch": True}}, "meals_not_offered"),
    ],
)
def test_quote_refuses_stays_that_break_the_rules(overrides, code):
    prop = published_property(
        kinds=("standard", "with_meals"),
        min_nights=2,
        max_nights=20,
        max_guests=4,
        advance_notice_days=3,
    )
    with pytest.raises(QuoteError) as refused:
        _quote(prop, **overrides)
    assert refused.value.code == code
    assert refused.value.status_code == 400


def test_quote_prices_seasonal_nights_meals_and_fees_server_side(settings):
    settings.SERVICE_FEE_PERCENT = D("10")
    prop = published_property(kinds=("with_meals",), nightly="100.00", cleaning_fee=D("30"))
    SeasonalRate.objects.create(property=prop, start=_day(11), end=_day(12), nightly_price=D("160"))
    quote = _quote(prop, stay_type="with_meals", meals={"dinner": True, "lunch": False})
    # 100 + 160 + 100 nights, dinner 15 x 2 guests x 3 nights, cleaning 30, fee 10 %
    assert quote.nights_total == D("360.00") and quote.meals == D("90.00")
    assert quote.total == D("528.00")
    snapshot = quote.as_dict()
    assert snapshot["total"] == "528.00" and snapshot["service_fee"] == "48.00"
    assert [item["code"] for item in snapshot["line_items"]] == [
        "nights",
        "dinner",
        "cleaning_fee",
        "service_fee",
    ]


def test_paying_guests_need_28_nights_and_pay_monthly():
    prop = published_property(kinds=("paying_guest",), max_nights=365)
    with pytest.raises(QuoteError) as refused:
        _quote(prop, stay_type="paying_guest", check_out=_day(37))
    assert refused.value.code == "min_nights"
    quote = _quote(prop, stay_type="paying_guest", check_out=_day(70), guests=1)
    assert quote.nights_total == D("4800.00")  # 60 nights of a 2400 month


def test_quote_dates_are_local_to_the_property():
    """At 23:30 UTC on 1 June it is already 2 June in Kiritimati (UTC+14)."""
    now = datetime(2027, 6, 1, 23, 30, tzinfo=UTC)
    east = published_property(timezone="Pacific/Kiritimati")
    west = published_property(timezone="America/Los_Angeles")
    june_1 = {"check_in": date(2027, 6, 1), "check_out": date(2027, 6, 3), "now": now}
    with pytest.raises(QuoteError):
        _quote(east, **june_1)
    assert _quote(west, **june_1).nights == 2


def test_quote_can_check_availability_and_ignores_lapsed_holds():
    prop = published_property()
    _booking(
        prop,
        _day(10),
        _day(12),
        status="awaiting_payment",
        hold_expires_at=timezone.now() - timedelta(minutes=1),
    )
    assert _quote(prop, check_availability=True).nights == 3
    _booking(prop, _day(12), _day(14), status="pending_host")
    with pytest.raises(DatesUnavailable):
        _quote(prop, check_availability=True)
    assert _quote(prop).nights == 3  # availability is the booking writer's job by default


# --- listing workflow ---------------------------------------------------------------------------


def test_create_keeps_a_draft_and_denormalises_the_search_price():
    host = HostFactory()
    prop = services.property_create(
        host=host,
        title="Flat",
        stay_types=[
            {"kind": "standard", "nightly_price": D("90")},
            {"kind": "paying_guest", "monthly_price": D("1500")},
        ],
    )
    assert prop.status == Property.Status.DRAFT
    assert prop.base_nightly_price == D("90.00")
    assert sorted(prop.stay_types.values_list("kind", flat=True)) == ["paying_guest", "standard"]


def test_paying_guest_needs_room_for_28_nights():
    prop = published_property(photos=3)
    with pytest.raises(InvalidFields) as refused:
        services.property_update(
            prop=prop, max_nights=20, stay_types=[{"kind": "paying_guest", "monthly_price": D(900)}]
        )
    assert "max_nights" in refused.value.errors
    assert list(prop.stay_types.values_list("kind", flat=True)) == ["standard"]


def test_a_published_listing_stays_complete_and_nothing_is_half_written():
    prop = published_property(photos=3)
    with pytest.raises(InvalidFields) as refused:
        services.property_update(prop=prop, title=" ", city="Porto", stay_types=[])
    assert set(refused.value.errors) == {"title", "stay_types"}
    assert [code for _, code in refused.value.errors["title"]] == ["missing"]
    prop.refresh_from_db()
    assert prop.title.startswith("Sunny flat") and prop.city == "Lisbon"
    assert prop.stay_types.count() == 1


def test_archived_listings_are_read_only():
    prop = published_property(photos=1)
    lifecycle.property_archive(prop=prop)
    writes = [
        lambda: services.property_update(prop=prop, title="Back"),
        lambda: services.photo_add(prop=prop, image=png_upload()),
        lambda: services.block_create(prop=prop, start=_day(3), end=_day(5)),
        lambda: services.rate_create(prop=prop, start=_day(3), end=_day(5), nightly_price=D(9)),
    ]
    for write in writes:
        with pytest.raises(PropertyArchived):
            write()
    prop.refresh_from_db()
    assert prop.status == "archived" and prop.title.startswith("Sunny flat")
    assert prop.photos.count() == 1 and not prop.blocks.exists() and not prop.rates.exists()


# --- photos ----------------------------------------------------------------------------------------


def test_first_photo_is_the_cover_and_the_cover_moves_on_delete():
    prop = published_property()
    first = services.photo_add(prop=prop, image=png_upload("a.png"))
    second = services.photo_add(prop=prop, image=png_upload("b.png"))
    assert (first.is_cover, second.is_cover) == (True, False)
    assert first.image.name.endswith(".png")
    services.photo_delete(photo=first)
    assert Photo.objects.get(pk=second.pk).is_cover is True


# --- calendar ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [(-10, -3, "past_dates"), (-3, 0, "past_dates"), (720, 735, "too_far_ahead")],
)
def test_calendar_ranges_must_be_current(start, end, code):
    prop = published_property()
    for write in (
        lambda: services.block_create(prop=prop, start=_day(start), end=_day(end)),
        lambda: services.rate_create(
            prop=prop, start=_day(start), end=_day(end), nightly_price=D(90)
        ),
    ):
        with pytest.raises(CalendarDateError) as refused:
            write()
        assert refused.value.code == code


def test_block_over_a_holding_booking_is_refused_but_not_over_a_lapsed_one():
    prop = published_property()
    _booking(prop, _day(5), _day(8))
    with pytest.raises(DatesUnavailable):
        services.block_create(prop=prop, start=_day(7), end=_day(9))
    services.block_create(prop=prop, start=_day(8), end=_day(9))  # half-open: touching is fine
    _booking(
        prop,
        _day(20),
        _day(22),
        status="pending_host",
        hold_expires_at=timezone.now() - timedelta(seconds=1),
    )
    services.block_create(prop=prop, start=_day(20), end=_day(22))
    assert AvailabilityBlock.objects.filter(property=prop).count() == 2


# --- the database holds what it can ---------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda p: StayType.objects.create(property=p, kind="with_meals", nightly_price=D(50)),
        lambda p: StayType.objects.create(property=p, kind="paying_guest"),
        lambda p: SeasonalRate.objects.create(
            property=p, start=_day(5), end=_day(5), nightly_price=D(50)
        ),
        lambda p: AvailabilityBlock.objects.create(property=p, start=_day(5), end=_day(4)),
        lambda p: Property.objects.filter(pk=p.pk).update(currency="eur"),
        lambda p: Property.objects.filter(pk=p.pk).update(min_nights=10, max_nights=5),
        lambda p: Property.objects.filter(pk=p.pk).update(latitude=D("91")),
        lambda p: Property.objects.filter(pk=p.pk).update(weekly_discount_percent=D("100")),
        lambda p: Property.objects.filter(pk=p.pk).update(
            floor_nightly_price=D(90), auto_accept_nightly_price=D(80)
        ),
        lambda p: Property.objects.filter(pk=p.pk).update(property_type="castle"),
    ],
)
def test_database_constraints_refuse_broken_rows(make):
    prop = published_property()
    with pytest.raises(IntegrityError), transaction.atomic():
        make(prop)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraint: PostgreSQL")
def test_postgres_refuses_overlapping_rates_even_without_the_service():
    prop = published_property()
    SeasonalRate.objects.create(property=prop, start=_day(5), end=_day(9), nightly_price=D(50))
    SeasonalRate.objects.create(property=prop, start=_day(9), end=_day(12), nightly_price=D(60))
    with pytest.raises(IntegrityError), transaction.atomic():
        SeasonalRate.objects.create(property=prop, start=_day(8), end=_day(10), nightly_price=D(1))

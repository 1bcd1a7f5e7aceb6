"""Listings over HTTP: workflow, ownership, photos, calendar, quotes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.tests.factories import client_for, verified_guest
from properties.models import AvailabilityBlock, Photo, Property, SeasonalRate
from properties.tests.factories import HostFactory, png_upload, published_property

pytestmark = pytest.mark.django_db

FULL_LISTING = {
    "title": "Loft by the river",
    "description": "A quiet loft with river views, two bikes and a big kitchen.",
    "property_type": "apartment",
    "address": "3 Quai des Arts",
    "city": "Lyon",
    "country": "fr",
    "latitude": "45.764043",
    "longitude": "4.835659",
    "timezone": "Europe/Paris",
    "max_guests": 3,
    "currency": "eur",
    "cleaning_fee": "25.00",
    "amenities": ["wifi", "kitchen", "pool"],
    "floor_nightly_price": "70.00",
    "auto_accept_nightly_price": "90.00",
    "stay_types": [{"kind": "standard", "nightly_price": "100.00"}],
}


def _codes(response):
    return [(e["code"], e["attr"]) for e in response.json()["errors"]]


def _day(n):
    return (timezone.now().date() + timedelta(days=n)).isoformat()


@pytest.fixture
def host():
    return HostFactory()


@pytest.fixture
def host_client(host):
    return client_for(host)


def test_draft_then_patch_in_any_order_then_publish(host_client):
    created = host_client.post("/api/v1/properties/", {"title": "Loft"})
    assert created.status_code == 201
    pk = created.json()["id"]
    assert created.json()["status"] == "draft"

    refused = host_client.post(f"/api/v1/properties/{pk}/publish/")
    assert refused.status_code == 400
    missing = {attr for _, attr in _codes(refused)}
    assert {"description", "address", "location", "stay_types", "photos"} <= missing

    patched = host_client.patch(f"/api/v1/properties/{pk}/", FULL_LISTING)
    assert patched.status_code == 200, patched.json()
    body = patched.json()
    assert body["country"] == "FR" and body["currency"] == "EUR"
    assert {a["code"] for a in body["amenities"]} == {"wifi", "kitchen", "pool"}
    assert body["nightly_price"] == "100.00"

    for _ in range(3):
        upload = host_client.post(
            f"/api/v1/properties/{pk}/photos/", {"image": png_upload()}, format="multipart"
        )
        assert upload.status_code == 201, upload.json()
    published = host_client.post(f"/api/v1/properties/{pk}/publish/")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert published.json()["photos"][0]["is_cover"] is True


def test_only_hosts_create_and_only_owners_write():
    guest = client_for(verified_guest())
    refused = guest.post("/api/v1/properties/", {"title": "Mine"})
    assert refused.status_code == 403 and _codes(refused) == [("not_a_host", None)]
    assert APIClient().post("/api/v1/properties/", {"title": "x"}).status_code == 401

    prop = published_property()
    other_host = client_for(HostFactory())
    assert (
        other_host.patch(f"/api/v1/properties/{prop.pk}/", {"title": "Hijacked"}).status_code == 404
    )
    assert other_host.delete(f"/api/v1/properties/{prop.pk}/").status_code == 404
    assert (
        other_host.post(
            f"/api/v1/properties/{prop.pk}/photos/", {"image": png_upload()}, format="multipart"
        ).status_code
        == 404
    )
    prop.refresh_from_db()
    assert prop.title != "Hijacked" and prop.status == "published"


def test_drafts_are_invisible_to_others_and_floor_is_private(host, host_client):
    draft = published_property(host=host, status=Property.Status.DRAFT)
    assert APIClient().get(f"/api/v1/properties/{draft.pk}/").status_code == 404
    assert host_client.get(f"/api/v1/properties/{draft.pk}/").status_code == 200
    listed = published_property(
        host=host, floor_nightly_price=Decimal("60"), auto_accept_nightly_price=Decimal("80")
    )
    public = APIClient().get(f"/api/v1/properties/{listed.pk}/").json()
    assert "floor_nightly_price" not in public and "auto_accept_nightly_price" not in public
    assert "ical_token" not in public
    own = host_client.get(f"/api/v1/properties/{listed.pk}/").json()
    assert own["floor_nightly_price"] == "60.00"
    mine = host_client.get("/api/v1/properties/mine/").json()["results"]
    assert {row["id"] for row in mine} == {draft.pk, listed.pk}


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        (
            {"floor_nightly_price": "95.00", "auto_accept_nightly_price": "90.00"},
            "floor_nightly_price",
        ),
        ({"auto_accept_nightly_price": "120.00"}, "auto_accept_nightly_price"),
        ({"min_nights": 10, "max_nights": 5}, "min_nights"),
        ({"latitude": "91"}, "latitude"),
        ({"longitude": "east"}, "longitude"),
        ({"cleaning_fee": "-5"}, "cleaning_fee"),
        ({"weekly_discount_percent": "150"}, "weekly_discount_percent"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"amenities": ["teleporter"]}, "amenities"),
        ({"stay_types": [{"kind": "standard"}]}, "stay_types.0.nightly_price"),
        (
            {"stay_types": [{"kind": "paying_guest", "nightly_price": "10"}]},
            "stay_types.0.monthly_price",
        ),
        (
            {"stay_types": [{"kind": "standard", "nightly_price": "1e9"}]},
            "stay_types.0.nightly_price",
        ),
        ({"cancellation_policy": "lenient"}, "cancellation_policy"),
    ],
)
def test_invalid_listing_fields_are_400_and_nothing_changes(host, host_client, change, attr):
    prop = published_property(host=host)
    before = Property.objects.filter(pk=prop.pk).values().get()
    response = host_client.patch(f"/api/v1/properties/{prop.pk}/", change)
    assert response.status_code == 400, response.json()
    assert attr in {a for _, a in _codes(response)}
    assert Property.objects.filter(pk=prop.pk).values().get() == before
    assert prop.stay_types.count() == 1


def test_delete_archives_and_keeps_the_row(host, host_client):
    prop = published_property(host=host)
    assert host_client.delete(f"/api/v1/properties/{prop.pk}/").status_code == 204
    prop.refresh_from_db()
    assert prop.status == "archived"
    assert APIClient().get(f"/api/v1/properties/{prop.pk}/").status_code == 404


def test_photo_validation_cover_reorder_and_delete(host, host_client, settings):
    prop = published_property(host=host)
    url = f"/api/v1/properties/{prop.pk}/photos/"
    fake = SimpleUploadedFile("cat.jpg", b"not really a jpeg", content_type="image/jpeg")
    assert _codes(host_client.post(url, {"image": fake}, format="multipart")) == [
        ("invalid_image", "image")
    ]
    gif = SimpleUploadedFile(
        "a.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", content_type="image/gif"
    )
    assert host_client.post(url, {"image": gif}, format="multipart").status_code == 400
    ids = [
        host_client.post(url, {"image": png_upload()}, format="multipart").json()["id"]
        for _ in range(3)
    ]
    assert host_client.post(f"{url}{ids[2]}/cover/").json()["is_cover"] is True
    assert Photo.objects.get(pk=ids[0]).is_cover is False
    order = host_client.post(f"{url}order/", {"order": list(reversed(ids))})
    assert [p["id"] for p in order.json()] == list(reversed(ids))
    assert host_client.post(f"{url}order/", {"order": ids[:2]}).status_code == 400
    assert host_client.delete(f"{url}{ids[2]}/").status_code == 204
    assert Photo.objects.filter(property=prop, is_cover=True).count() == 1
    settings.PHOTO_MAX_PER_PROPERTY = 2
    too_many = host_client.post(url, {"image": png_upload()}, format="multipart")
    assert too_many.status_code == 400 and _codes(too_many) == [("too_many_photos", None)]


def test_blocks_rates_and_availability(host, host_client):
    prop = published_property(host=host, instant_book=True)
    guest = client_for(verified_guest())
    booking = guest.post(
        "/api/v1/bookings/",
        {
            "property": prop.pk,
            "check_in": _day(10),
            "check_out": _day(12),
            "guests": 1,
            "stay_type": "standard",
            "payment_token": "tok_ok",
        },
    )
    assert booking.status_code == 201
    over_booking = host_client.post(
        f"/api/v1/properties/{prop.pk}/blocks/", {"start": _day(11), "end": _day(14)}
    )
    assert over_booking.status_code == 409 and _codes(over_booking) == [("dates_unavailable", None)]
    block = host_client.post(
        f"/api/v1/properties/{prop.pk}/blocks/",
        {"start": _day(12), "end": _day(14), "note": "painting"},
    )
    assert block.status_code == 201
    rate = host_client.post(
        f"/api/v1/properties/{prop.pk}/rates/",
        {"start": _day(14), "end": _day(16), "nightly_price": "180.00"},
    )
    assert rate.status_code == 201
    overlap = host_client.post(
        f"/api/v1/properties/{prop.pk}/rates/",
        {"start": _day(15), "end": _day(17), "nightly_price": "90.00"},
    )
    assert overlap.status_code == 409 and SeasonalRate.objects.count() == 1

    days = (
        APIClient()
        .get(f"/api/v1/properties/{prop.pk}/availability/?start={_day(9)}&end={_day(16)}")
        .json()
    )
    assert [d["status"] for d in days] == [
        "available",
        "booked",
        "booked",
        "blocked",
        "blocked",
        "available",
        "available",
    ]
    assert days[-1]["nightly_price"] == "180.00" and days[0]["nightly_price"] == "100.00"
    too_long = APIClient().get(
        f"/api/v1/properties/{prop.pk}/availability/?start={_day(1)}&end={_day(400)}"
    )
    assert too_long.status_code == 400
    reversed_range = APIClient().get(
        f"/api/v1/properties/{prop.pk}/availability/?start={_day(5)}&end={_day(5)}"
    )
    assert reversed_range.status_code == 400

    block_id = block.json()["id"]
    assert (
        client_for(HostFactory())
        .delete(f"/api/v1/properties/{prop.pk}/blocks/{block_id}/")
        .status_code
        == 404
    )
    assert host_client.delete(f"/api/v1/properties/{prop.pk}/blocks/{block_id}/").status_code == 204
    assert not AvailabilityBlock.objects.exists()


def test_quote_endpoint_prices_and_explains_refusals():
    prop = published_property(
        kinds=("standard", "with_meals"), min_nights=2, max_nights=10, max_guests=2
    )
    url = f"/api/v1/properties/{prop.pk}/quote/"
    ok = APIClient().get(
        url,
        {
            "check_in": _day(5),
            "check_out": _day(8),
            "guests": 2,
            "stay_type": "with_meals",
            "meals": "breakfast",
        },
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["total"] == "415.80"  # (300 + 48 meals + 30 cleaning) + 10% fee
    cases = [
        ({"check_out": _day(6)}, "min_nights"),
        ({"check_out": _day(20)}, "max_nights"),
        ({"guests": 3}, "too_many_guests"),
        ({"stay_type": "paying_guest"}, "stay_type_not_offered"),
        ({"stay_type": "standard", "meals": "lunch"}, "meals_not_offered"),
        ({"meals": "brunch"}, "invalid"),
        ({"check_in": _day(-3), "check_out": _day(1)}, "past_dates"),
        ({"check_in": _day(800), "check_out": _day(803)}, "too_far_ahead"),
        ({"check_out": _day(5)}, "invalid_dates"),
        ({"guests": "many"}, "invalid"),
    ]
    base = {"check_in": _day(5), "check_out": _day(8), "guests": 2, "stay_type": "with_meals"}
    for change, code in cases:
        response = APIClient().get(url, {**base, **change})
        assert response.status_code == 400, (change, response.json())
        assert code in [c for c, _ in _codes(response)], (change, response.json())
    AvailabilityBlock.objects.create(
        property=prop,
        start=timezone.now().date() + timedelta(days=6),
        end=timezone.now().date() + timedelta(days=7),
    )
    taken = APIClient().get(url, base)
    assert taken.status_code == 409 and _codes(taken) == [("dates_unavailable", None)]


def test_amenity_catalogue_is_seeded():
    amenities = APIClient().get("/api/v1/amenities/").json()
    codes = {a["code"]: a["standout"] for a in amenities}
    assert codes["wifi"] is False and codes["pool"] is True and len(codes) >= 20


def test_unlisted_is_hidden_from_others_until_published_again(host, host_client):
    prop = published_property(host=host, photos=3)
    url = f"/api/v1/properties/{prop.pk}/"
    assert host_client.post(f"{url}unlist/").json()["status"] == "unlisted"
    for path in ("", "quote/?check_in=2030-01-01&check_out=2030-01-03", "photos/", "rates/"):
        assert APIClient().get(url + path).status_code == 404, path
    assert host_client.get(url).status_code == 200
    assert host_client.post(f"{url}publish/").json()["status"] == "published"
    assert APIClient().get(url).status_code == 200


def test_archived_listing_refuses_writes_with_409(host, host_client):
    prop = published_property(host=host)
    url = f"/api/v1/properties/{prop.pk}/"
    assert host_client.delete(url).status_code == 204
    patched = host_client.patch(url, {"title": "Revived"})
    assert patched.status_code == 409 and _codes(patched) == [("property_archived", None)]
    blocked = host_client.post(f"{url}blocks/", {"start": _day(3), "end": _day(5)})
    assert blocked.status_code == 409
    assert host_client.post(f"{url}publish/").status_code == 409
    prop.refresh_from_db()
    assert prop.title != "Revived" and not prop.blocks.exists()


def test_published_listing_cannot_be_emptied(host, host_client):
    prop = published_property(host=host, photos=3)
    response = host_client.patch(
        f"/api/v1/properties/{prop.pk}/", {"description": "", "stay_types": []}
    )
    assert response.status_code == 400
    assert set(_codes(response)) == {("missing", "description"), ("missing", "stay_types")}
    prop.refresh_from_db()
    assert prop.description and prop.stay_types.count() == 1


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"stay_types": [{"kind": "standard", "nightly_price": "5000001"}]}, "nightly_price"),
        (
            {
                "stay_types": [
                    {"kind": "with_meals", "nightly_price": "90", "dinner_price": "25000"}
                ]
            },
            "dinner_price",
        ),
        ({"stay_types": [{"kind": "paying_guest", "monthly_price": "-1"}]}, "monthly_price"),
        ({"cleaning_fee": "2000000"}, "cleaning_fee"),
        ({"floor_nightly_price": "0"}, "floor_nightly_price"),
        ({"max_guests": 500}, "max_guests"),
        ({"currency": "euro"}, "currency"),
        ({"country": "Portugal"}, "country"),
        ({"title": "x" * 121}, "title"),
        ({"stay_types": [{"kind": "standard", "nightly_price": "90"}] * 2}, "stay_types"),
    ],
)
def test_absurd_values_are_400(host_client, host, change, attr):
    prop = published_property(host=host)
    response = host_client.patch(f"/api/v1/properties/{prop.pk}/", change)
    assert response.status_code == 400, response.json()
    assert any(a and a.split(".")[-1] == attr for _, a in _codes(response)), response.json()


def test_coordinates_are_rounded_to_six_decimals(host_client):
    created = host_client.post(
        "/api/v1/properties/", {"latitude": 38.7222524999, "longitude": "-9.13933749"}
    )
    assert created.status_code == 201, created.json()
    assert (created.json()["latitude"], created.json()["longitude"]) == ("38.722252", "-9.139337")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"start": "2020-01-01", "end": "2020-01-05"}, "past_dates"),
        ({"start": "9999-12-01", "end": "9999-12-31"}, "too_far_ahead"),
        ({"start": "2030-01-05", "end": "2030-01-01"}, "invalid_dates"),
        ({"start": "soon", "end": "later"}, "invalid"),
    ],
)
def test_calendar_writes_refuse_bad_ranges(host, host_client, body, code):
    prop = published_property(host=host)
    for path in ("blocks/", "rates/"):
        response = host_client.post(
            f"/api/v1/properties/{prop.pk}/{path}", {**body, "nightly_price": "90.00"}
        )
        assert response.status_code == 400, response.json()
        assert code in [c for c, _ in _codes(response)]
    assert not AvailabilityBlock.objects.exists() and not SeasonalRate.objects.exists()


def test_availability_refuses_dates_beyond_two_years():
    prop = published_property()
    url = f"/api/v1/properties/{prop.pk}/availability/"
    response = APIClient().get(url, {"start": "9999-12-01", "end": "9999-12-31"})
    assert response.status_code == 400 and _codes(response) == [("too_far_ahead", "start")]


def test_photo_is_stored_under_our_name_with_the_detected_format(host, host_client):
    prop = published_property(host=host)
    disguised = SimpleUploadedFile("holiday.JPG", png_upload().read(), content_type="image/jpeg")
    response = host_client.post(
        f"/api/v1/properties/{prop.pk}/photos/", {"image": disguised}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    name = Photo.objects.get(pk=response.json()["id"]).image.name
    assert name.startswith(f"properties/{prop.pk}/") and name.endswith(".png")
    urls = response.json()["urls"]
    assert urls["thumb"] == urls["card"] == urls["url"]  # local storage: one size


def test_storage_with_variants_gives_thumb_and_card_urls():
    from properties.api.fields import image_urls

    class SizedStorage:
        def url(self, name, variant=None):
            return f"https://cdn.example/{variant or 'orig'}/{name}"

    class Field:
        name = "properties/1/abc"
        storage = SizedStorage()

    assert image_urls(Field()) == {
        "url": "https://cdn.example/orig/properties/1/abc",
        "thumb": "https://cdn.example/thumb/properties/1/abc",
        "card": "https://cdn.example/card/properties/1/abc",
    }


def test_a_decompression_bomb_photo_is_image_too_large(host, host_client):
    import struct
    import zlib

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    prop = published_property(host=host)
    upload = SimpleUploadedFile("bomb.png", bomb, content_type="image/png")
    response = host_client.post(
        f"/api/v1/properties/{prop.pk}/photos/", {"image": upload}, format="multipart"
    )
    assert response.status_code == 400 and _codes(response) == [("image_too_large", "image")]
    assert not Photo.objects.filter(property=prop).exists()


@pytest.mark.parametrize(
    "base_url", ["/media/", "https://cdn.example/media/", "http://localhost:8000/m/"]
)
def test_local_file_urls_are_those_of_the_storage(base_url, tmp_path):
    from django.core.files.storage import FileSystemStorage

    from properties.api.fields import file_url

    storage = FileSystemStorage(location=tmp_path, base_url=base_url)
    names = [
        "properties/12/3f2a9c.jpg",
        "/properties/12/leading-slash.png",
        "properties/12/with space & ümlaut.webp",
        "properties/12/a:b.jpg",
        "properties/12/q?x=1#frag.jpg",
        "properties/../escape.jpg",
        "properties/./here.jpg",
        "properties//double.jpg",
        "~user/file.jpg",
        "100%.jpg",
    ]
    for name in names:
        assert file_url(storage, name) == storage.url(name), name

"""Host analytics and the review endpoints over HTTP."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.models import Booking, BookingStatus
from bookings.tests.factories import bookable_property, client_for, verified_guest
from properties.models import AvailabilityBlock

pytestmark = pytest.mark.django_db
TODAY = timezone.now().date()


def _booking(prop, *, start, nights, status, total):
    return Booking.objects.create(
        property=prop,
        guest=verified_guest(),
        check_in=TODAY + timedelta(days=start),
        check_out=TODAY + timedelta(days=start + nights),
        guests=1,
        stay_type="standard",
        total=Decimal(total),
        currency="EUR",
        status=status,
        cancellation_policy="moderate",
    )


def test_host_analytics_counts_nights_inside_the_range():
    prop = bookable_property()
    other = bookable_property(host=prop.host)
    _booking(
        prop, start=8, nights=4, status=BookingStatus.CONFIRMED, total="400.00"
    )  # 2 nights inside
    _booking(prop, start=12, nights=2, status=BookingStatus.COMPLETED, total="300.00")
    _booking(prop, start=15, nights=2, status=BookingStatus.CANCELLED, total="200.00")
    _booking(other, start=11, nights=1, status=BookingStatus.PENDING_HOST, total="90.00")
    AvailabilityBlock.objects.create(
        property=other, start=TODAY + timedelta(days=10), end=TODAY + timedelta(days=15)
    )
    start, end = TODAY + timedelta(days=10), TODAY + timedelta(days=20)
    response = client_for(prop.host).get("/api/v1/host/analytics/", {"start": start, "end": end})
    assert response.status_code == 200, response.json()
    body = response.json()
    rows = {row["property"]: row for row in body["properties"]}
    mine = rows[prop.pk]
    assert (mine["booked_nights"], mine["bookings"], mine["cancellations"]) == (4, 2, 1)
    assert Decimal(mine["revenue"]) == Decimal("500.00")
    assert Decimal(mine["average_daily_rate"]) == Decimal("125.00")
    assert mine["occupancy"] == 0.4
    assert rows[other.pk]["open_nights"] == 5 and rows[other.pk]["booked_nights"] == 0
    [overall] = body["overall"]  # one currency: one row
    assert (overall["currency"], overall["booked_nights"], overall["open_nights"]) == ("EUR", 4, 15)


def test_host_analytics_is_for_hosts_only_and_validates_the_range():
    guest = client_for(verified_guest())
    assert (
        guest.get(
            "/api/v1/host/analytics/", {"start": TODAY, "end": TODAY + timedelta(days=3)}
        ).status_code
        == 403
    )
    host = client_for(bookable_property().host)
    assert host.get("/api/v1/host/analytics/", {"start": TODAY, "end": TODAY}).status_code == 400
    assert host.get("/api/v1/host/analytics/", {"start": "x"}).status_code == 400
    assert APIClient().get("/api/v1/host/analytics/").status_code == 401


def test_review_endpoints_and_public_listing():
    prop = bookable_property(instant_book=True)
    guest = verified_guest()
    booking = Booking.objects.create(
        property=prop,
        guest=guest,
        check_in=TODAY - timedelta(days=5),
        check_out=TODAY - timedelta(days=2),
        guests=1,
        stay_type="standard",
        total=Decimal("300"),
        currency="EUR",
        status=BookingStatus.COMPLETED,
        completed_at=timezone.now(),
        cancellation_policy="moderate",
    )
    url = f"/api/v1/bookings/{booking.pk}/review/"
    assert client_for(verified_guest()).post(url, {"overall": 5}).status_code == 404
    bad = client_for(guest).post(url, {"overall": 6})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "overall"
    written = client_for(guest).post(url, {"overall": 5, "value": 4, "text": "Great"})
    assert written.status_code == 201 and written.json()["published"] is False
    assert client_for(guest).post(url, {"overall": 4}).status_code == 409
    assert APIClient().get(f"/api/v1/properties/{prop.pk}/reviews/").json()["results"] == []
    assert client_for(prop.host).post(url, {"overall": 4}).status_code == 201
    public = APIClient().get(f"/api/v1/properties/{prop.pk}/reviews/").json()["results"]
    assert [r["text"] for r in public] == ["Great"]
    detail = APIClient().get(f"/api/v1/properties/{prop.pk}/").json()
    assert detail["rating"] == "5.00" and detail["rating_breakdown"]["value"] == "4.00"
    reply = client_for(prop.host).post(
        f"/api/v1/reviews/{public[0]['id']}/reply/", {"text": "Thanks!"}
    )
    assert reply.status_code == 200 and reply.json()["host_reply"] == "Thanks!"
    assert (
        client_for(guest)
        .post(f"/api/v1/reviews/{public[0]['id']}/reply/", {"text": "x"})
        .status_code
        == 404  # only the listing's host may reply (tests/test_access_matrix.py)
    )

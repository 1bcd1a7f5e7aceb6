"""A listing's end (issue 17, DESIGN.md section 3): archiving is refused while confirmed
stays are ahead; otherwise it ends the listing's open negotiations (``unavailable``,
reason ``listing_archived``) and releases its payment holds, telling each guest; nothing
can be agreed, booked or paid there afterwards; guests keep reading what they booked."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Booking, BookingStatus, Payment
from bookings.tests.factories import bookable_property, client_for, verified_guest
from negotiation import services as negotiation_services
from negotiation.models import Event, Negotiation
from notifications.models import Notification
from properties.models import Property

pytestmark = pytest.mark.django_db
TODAY = timezone.now().date()


def _dates(days, nights=3):
    return TODAY + timedelta(days=days), TODAY + timedelta(days=days + nights)


def _codes(response):
    return [e["code"] for e in response.json()["errors"]]


def _book(prop, guest, days, **kwargs):
    check_in, check_out = _dates(days)
    booking, _ = booking_services.booking_create(
        guest=guest, property_id=prop.pk, check_in=check_in, check_out=check_out, guests=2,
        stay_type="standard", **kwargs,
    )  # fmt: skip
    return booking


def _negotiate(prop, guest, days, amount):
    check_in, check_out = _dates(days)
    return negotiation_services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=check_in, check_out=check_out, guests=2,
        stay_type="standard", amount=Decimal(amount),
    ).negotiation  # fmt: skip


@pytest.fixture
def listing():
    """A listing with every kind of deal running: an open negotiation (host's counter on
    the table), a booking awaiting payment (auto-accepted), a request waiting for the host
    (card authorized), a confirmed stay ahead and a completed past stay."""
    prop = bookable_property(
        nightly="100.00", floor_nightly_price=Decimal("80"), auto_accept_nightly_price=Decimal("95")
    )
    host = prop.host
    guests = {name: verified_guest() for name in ("negotiating", "paying", "requesting", "staying")}
    guests["past"] = verified_guest()
    negotiation = _negotiate(prop, guests["negotiating"], 20, "320.00")
    negotiation_services.negotiation_offer(
        negotiation_id=negotiation.pk, user=host, amount=Decimal("340.00")
    )
    held = _negotiate(prop, guests["paying"], 30, "350.00").booking  # >= auto-accept 348
    assert held.status == BookingStatus.AWAITING_PAYMENT
    request = _book(prop, guests["requesting"], 40, payment_token="tok_ok")
    assert request.status == BookingStatus.PENDING_HOST
    confirmed = _book(prop, guests["staying"], 50, payment_token="tok_ok")
    booking_services.booking_approve(booking_id=confirmed.pk, host=host)
    past = Booking.objects.create(
        property=prop, guest=guests["past"], check_in=TODAY - timedelta(days=10),
        check_out=TODAY - timedelta(days=7), guests=2, stay_type="standard",
        price={"total": "363.00"}, total=Decimal("363.00"), currency="EUR",
        status=BookingStatus.COMPLETED, cancellation_policy="moderate",
    )  # fmt: skip
    return {
        "prop": prop, "host": host, "guests": guests, "negotiation": negotiation,
        "held": held, "request": request, "confirmed": confirmed, "past": past,
    }  # fmt: skip


def test_archiving_is_refused_while_confirmed_stays_are_ahead_naming_them(listing):
    prop, host = listing["prop"], listing["host"]
    response = client_for(host).delete(f"/api/v1/properties/{prop.pk}/")
    assert response.status_code == 409 and _codes(response) == ["has_upcoming_stays"]
    error = response.json()["errors"][0]
    assert error["bookings"] == [listing["confirmed"].pk]
    assert f"#{listing['confirmed'].pk}" in error["detail"]
    # nothing changed
    prop.refresh_from_db()
    assert prop.status == Property.Status.PUBLISHED
    assert Negotiation.objects.get(pk=listing["negotiation"].pk).status == "open"
    assert Booking.objects.get(pk=listing["held"].pk).status == BookingStatus.AWAITING_PAYMENT


def test_archiving_ends_negotiations_releases_holds_and_tells_each_guest(
    listing, django_capture_on_commit_callbacks
):
    prop, host, guests = listing["prop"], listing["host"], listing["guests"]
    h = client_for(host)
    # the host cancels the stay ahead first: a full refund, the guest told
    cancelled = h.post(f"/api/v1/bookings/{listing['confirmed'].pk}/cancel/", {}, format="json")
    assert cancelled.status_code == 200
    assert Decimal(cancelled.json()["refund"]["amount"]) == listing["confirmed"].total
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = h.delete(f"/api/v1/properties/{prop.pk}/")
    assert response.status_code == 204
    prop.refresh_from_db()
    assert prop.status == Property.Status.ARCHIVED

    # the open negotiation: unavailable, reason listing_archived, in its log
    negotiation = Negotiation.objects.get(pk=listing["negotiation"].pk)
    assert negotiation.status == "unavailable"
    last = Event.objects.filter(negotiation=negotiation).order_by("-seq").first()
    assert last.type == "negotiation.unavailable" and last.data["reason"] == "listing_archived"
    # the holds: released, with the reason in their history; the authorization voided
    held = Booking.objects.get(pk=listing["held"].pk)
    assert held.status == BookingStatus.CANCELLED
    assert held.history.last().reason == "listing_archived"
    request = Booking.objects.get(pk=listing["request"].pk)
    assert request.status == BookingStatus.DECLINED
    assert request.history.last().reason == "listing_archived"
    assert request.payments.filter(kind=Payment.Kind.VOID, status="succeeded").exists()
    assert not request.payments.filter(kind=Payment.Kind.CAPTURE).exists()

    # each guest told in-app and by email, in words
    told = {
        "negotiating": "negotiation.listing_archived",
        "paying": "booking.cancelled",
        "requesting": "booking.declined",
    }
    for name, kind in told.items():
        guest = guests[name]
        assert Notification.objects.filter(user=guest, kind=kind).exists(), name
        emails = [m for m in mail.outbox if guest.email in m.to]
        assert len(emails) == 1, name
        assert "archived" in emails[0].body, (name, emails[0].body)
    assert prop.title in next(m for m in mail.outbox if guests["negotiating"].email in m.to).body
    # the host archived: no notification of their own act
    assert not Notification.objects.filter(user=host, kind="negotiation.listing_archived")


def test_after_archiving_nothing_can_be_agreed_booked_or_paid(listing):
    prop, host, guests = listing["prop"], listing["host"], listing["guests"]
    booking_services.booking_cancel(booking_id=listing["confirmed"].pk, user=host)
    assert client_for(host).delete(f"/api/v1/properties/{prop.pk}/").status_code == 204
    nid = listing["negotiation"].pk
    counter = client_for(host).post(f"/api/v1/negotiations/{nid}/offers/", {"amount": "335.00"})
    assert counter.status_code == 409
    # the guest's raised offer would have been auto-accepted (>= 348): no booking now
    g = client_for(guests["negotiating"])
    raised = g.post(f"/api/v1/negotiations/{nid}/offers/", {"amount": "339.00"})
    accept = g.post(f"/api/v1/negotiations/{nid}/accept/")
    assert raised.status_code == 409 and accept.status_code == 409
    assert not Booking.objects.filter(guest=guests["negotiating"]).exists()
    paid = client_for(guests["paying"]).post(
        f"/api/v1/bookings/{listing['held'].pk}/pay/", {"payment_token": "tok_ok"}, format="json"
    )
    assert paid.status_code == 409
    assert not Payment.objects.filter(booking=listing["held"], kind=Payment.Kind.CAPTURE)
    # nor a new negotiation or booking
    check_in, check_out = _dates(70)
    body = {"property": prop.pk, "check_in": check_in.isoformat(),
            "check_out": check_out.isoformat(), "guests": 2, "stay_type": "standard"}  # fmt: skip
    assert g.post("/api/v1/negotiations/", {**body, "amount": "350.00"}).status_code == 404
    assert g.post("/api/v1/bookings/", {**body, "payment_token": "tok_ok"}).status_code == 404


def test_guests_keep_reading_what_they_booked_after_the_listing_is_archived(listing):
    prop, host, guests = listing["prop"], listing["host"], listing["guests"]
    booking_services.booking_cancel(booking_id=listing["confirmed"].pk, user=host)
    assert client_for(host).delete(f"/api/v1/properties/{prop.pk}/").status_code == 204
    for name, key in [("paying", "held"), ("requesting", "request"), ("staying", "confirmed"),
                      ("past", "past")]:  # fmt: skip
        g = client_for(guests[name])
        booking = g.get(f"/api/v1/bookings/{listing[key].pk}/")
        assert booking.status_code == 200 and booking.json()["property_title"] == prop.title
        listed = g.get("/api/v1/bookings/").json()
        rows = listed["results"] if isinstance(listed, dict) else listed
        assert [row["property_title"] for row in rows] == [prop.title]
        detail = g.get(f"/api/v1/properties/{prop.pk}/")
        assert detail.status_code == 200, name
        assert detail.json()["title"] == prop.title and prop.address not in str(detail.json())
        # the exact address only with a confirmed (here completed) stay
        location = booking.json()["location"]
        if key == "past":
            assert location["address"] == prop.address
        else:
            assert location is None
    # a guest who only negotiated, and a stranger, do not see the archived listing
    for user in (guests["negotiating"], verified_guest()):
        assert client_for(user).get(f"/api/v1/properties/{prop.pk}/").status_code == 404

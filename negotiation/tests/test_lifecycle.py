"""The end of an account (issue 17, "Accounts"): closing it (first what would happen, then
everything it had running ended and the person erased), and a deactivated user's
negotiations ending, through the API, the admin and negotiation.lifecycle."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.admin.sites import site as admin_site
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.models import IdentityDocument, User
from accounts.tests.factories import PASSWORD, IdentityDocumentFactory, UserFactory
from accounts.tests.utils import assert_error
from accounts.tokens import issue_ws_ticket, redeem_ws_ticket
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus, Payment
from bookings.tests.factories import bookable_property, client_for
from negotiation import lifecycle
from negotiation import services as negotiation_services
from negotiation.models import Event, Negotiation, NegotiationStatus
from notifications.models import Notification
from properties.models import Property

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
CLOSE = "/api/v1/auth/me/close/"
TODAY = timezone.now().date()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs what the block registered on commit (emails, files)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _dates(days, nights=3):
    return TODAY + timedelta(days=days), TODAY + timedelta(days=days + nights)


def _negotiate(prop, guest, days, amount="250.00"):
    check_in, check_out = _dates(days)
    return negotiation_services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=check_in, check_out=check_out, guests=2,
        stay_type="standard", amount=Decimal(amount),
    ).negotiation  # fmt: skip


def _book(prop, guest, days, **kwargs):
    check_in, check_out = _dates(days)
    booking, _ = booking_services.booking_create(
        guest=guest, property_id=prop.pk, check_in=check_in, check_out=check_out, guests=2,
        stay_type="standard", **kwargs,
    )  # fmt: skip
    return booking


# --- closing an account -----------------------------------------------------------------------


@pytest.fixture
def guest_with_deals():
    """A guest with an open negotiation, a booking awaiting payment, a confirmed stay 30
    days out (flexible: full refund) and a stay in the past; a document and a phone."""
    guest = UserFactory(phone="+351 912 345 678", bio="I like boats.")
    IdentityDocumentFactory(user=guest)
    negotiating = bookable_property(nightly="100.00", cancellation_policy="flexible")
    held_at = bookable_property(nightly="100.00", instant_book=True)
    staying_at = bookable_property(
        nightly="100.00", instant_book=True, cancellation_policy="flexible"
    )
    negotiation = _negotiate(negotiating, guest, 20)
    held = _book(held_at, guest, 25)
    stay = _book(staying_at, guest, 30, payment_token="tok_ok")
    past = Booking.objects.create(
        property=staying_at, guest=guest, check_in=TODAY - timedelta(days=10),
        check_out=TODAY - timedelta(days=7), guests=2, stay_type="standard",
        price={"total": "363.00"}, total=Decimal("363.00"), currency="EUR",
        status=BookingStatus.COMPLETED, cancellation_policy="moderate",
    )  # fmt: skip
    assert held.status == BookingStatus.AWAITING_PAYMENT
    assert stay.status == BookingStatus.CONFIRMED
    return SimpleNamespace(
        guest=guest, negotiation=negotiation, held=held, stay=stay, past=past,
        host=negotiating.host,
    )  # fmt: skip


def test_closing_first_shows_what_will_happen_with_the_refunds_and_changes_nothing(
    guest_with_deals,
):
    deals = guest_with_deals
    client = client_for(deals.guest)

    response = client.post(CLOSE, {"password": PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["closed"] is False
    assert [(n["id"], n["becomes"]) for n in body["negotiations"]] == [
        (deals.negotiation.pk, "withdrawn")
    ]
    assert [(b["id"], b["becomes"]) for b in body["held_bookings"]] == [
        (deals.held.pk, "cancelled")
    ]
    [stay] = body["upcoming_stays"]
    assert stay["id"] == deals.stay.pk
    assert stay["cancellation_policy"] == "flexible"
    assert stay["refund"]["amount"] == str(deals.stay.total)  # flexible, 30 days out: all
    assert stay["refund"]["rule"] == "flexible_full"
    assert body["listings"] == []
    deals.guest.refresh_from_db()
    assert deals.guest.is_active
    assert Negotiation.objects.get(pk=deals.negotiation.pk).status == NegotiationStatus.OPEN
    assert Booking.objects.get(pk=deals.stay.pk).status == BookingStatus.CONFIRMED


def test_closing_with_confirm_ends_every_deal_erases_the_person_and_ends_sessions(
    guest_with_deals, committed
):
    deals = guest_with_deals
    guest = deals.guest
    old_email = guest.email
    refresh = RefreshToken.for_user(guest)
    document = IdentityDocument.objects.get(user=guest)
    document_storage, document_name = document.image.storage, document.image.name
    ticket = issue_ws_ticket(user_id=guest.pk)
    client = client_for(guest)
    preview = client.post(CLOSE, {"password": PASSWORD}, format="json").json()

    with committed():
        response = client.post(CLOSE, {"password": PASSWORD, "confirm": True}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["closed"] is True
    assert body["upcoming_stays"][0]["refund"] == preview["upcoming_stays"][0]["refund"]
    # deals: withdrawn (the host told), released, cancelled with the refund shown
    negotiation = Negotiation.objects.get(pk=deals.negotiation.pk)
    assert negotiation.status == NegotiationStatus.WITHDRAWN
    event = Event.objects.filter(negotiation=negotiation).latest("seq")
    assert (event.type, event.data["reason"]) == ("negotiation.withdrawn", "account_closed")
    assert Notification.objects.filter(user=deals.host, kind="negotiation.withdrawn").exists()
    assert Booking.objects.get(pk=deals.held.pk).status == BookingStatus.CANCELLED
    stay = Booking.objects.get(pk=deals.stay.pk)
    assert stay.status == BookingStatus.CANCELLED
    refunds = Payment.objects.filter(booking=stay, kind="refund")
    assert [str(p.amount) for p in refunds] == [preview["upcoming_stays"][0]["refund"]["amount"]]
    # the person is gone, the rows others keep stay
    guest.refresh_from_db()
    assert not guest.is_active
    assert guest.email != old_email and guest.email.endswith("@closed.invalid")
    assert (guest.first_name, guest.last_name, guest.phone, guest.bio) == (
        "Closed account", "", "", ""
    )  # fmt: skip
    assert not guest.has_usable_password()
    assert not IdentityDocument.objects.filter(user=guest).exists()
    assert not document_storage.exists(document_name)
    past = Booking.objects.select_related("guest").get(pk=deals.past.pk)
    assert past.status == BookingStatus.COMPLETED and past.guest.full_name == "Closed account"
    # sessions: refresh tokens blacklisted, tickets revoked, no login, no API
    outstanding = OutstandingToken.objects.filter(user=guest)
    assert outstanding.exists()
    assert BlacklistedToken.objects.filter(token__in=outstanding).count() == outstanding.count()
    assert redeem_ws_ticket(ticket) is None
    refreshed = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": str(refresh)}, format="json"
    )
    assert refreshed.status_code == 401
    login = APIClient().post(
        "/api/v1/auth/token/", {"email": old_email, "password": PASSWORD}, format="json"
    )
    assert login.status_code == 401
    assert client.get(ME).status_code == 401
    # the address is free again
    assert services.user_register(email=old_email, password="plum-orchard-41-lantern")


def test_closing_with_a_wrong_password_changes_nothing(guest_with_deals):
    client = client_for(guest_with_deals.guest)

    response = client.post(CLOSE, {"password": "wrong", "confirm": True}, format="json")

    assert_error(response, 400, "invalid_password", "password")
    guest_with_deals.guest.refresh_from_db()
    assert guest_with_deals.guest.is_active


def test_a_host_with_confirmed_stays_ahead_cannot_close_until_they_cancel_them():
    prop = bookable_property(nightly="100.00", instant_book=True)
    stay = _book(prop, UserFactory(), 30, payment_token="tok_ok")
    client = client_for(prop.host)

    for body in ({"password": "correct-horse-battery"}, {"password": "correct-horse-battery",
                                                         "confirm": True}):  # fmt: skip
        response = client.post(CLOSE, body, format="json")
        assert response.status_code == 409, response.content
        [error] = response.json()["errors"]
        assert (error["code"], error["bookings"]) == ("has_upcoming_stays", [stay.pk])
    prop.host.refresh_from_db()
    assert prop.host.is_active

    booking_services.booking_cancel(booking_id=stay.pk, user=prop.host)
    response = client.post(CLOSE, {"password": "correct-horse-battery", "confirm": True})
    assert response.status_code == 200, response.content


def test_a_host_closing_archives_their_listings_which_ends_their_deals():
    prop = bookable_property(nightly="100.00")
    guest = UserFactory()
    negotiation = _negotiate(prop, guest, 20)
    request = _book(prop, UserFactory(), 40, payment_token="tok_ok")
    client = client_for(prop.host)

    preview = client.post(CLOSE, {"password": "correct-horse-battery"}, format="json").json()
    assert [n["becomes"] for n in preview["negotiations"]] == ["unavailable"]
    assert [(b["id"], b["becomes"]) for b in preview["held_bookings"]] == [(request.pk, "declined")]
    assert [p["id"] for p in preview["listings"]] == [prop.pk]

    response = client.post(
        CLOSE, {"password": "correct-horse-battery", "confirm": True}, format="json"
    )

    assert response.status_code == 200, response.content
    assert Property.objects.get(pk=prop.pk).status == Property.Status.ARCHIVED
    negotiation.refresh_from_db()
    assert negotiation.status == NegotiationStatus.UNAVAILABLE
    assert Booking.objects.get(pk=request.pk).status == BookingStatus.DECLINED
    assert Notification.objects.filter(user=guest, kind="negotiation.listing_archived").exists()


# --- deactivated users ------------------------------------------------------------------------


def _admin_save_inactive(user):
    request = RequestFactory().post("/")
    request.user = User.objects.create_superuser(f"boss{user.pk}@example.com", PASSWORD)
    model_admin = admin_site._registry[User]
    user.is_active = False
    model_admin.save_model(request, user, SimpleNamespace(changed_data=["is_active"]), True)


def test_an_admin_deactivating_a_guest_withdraws_their_negotiations_and_tells_the_host():
    prop = bookable_property(nightly="100.00")
    guest = UserFactory()
    negotiation = _negotiate(prop, guest, 20)

    _admin_save_inactive(guest)

    guest.refresh_from_db()
    assert not guest.is_active
    negotiation.refresh_from_db()
    assert negotiation.status == NegotiationStatus.WITHDRAWN
    event = Event.objects.filter(negotiation=negotiation).latest("seq")
    assert event.data["reason"] == "account_deactivated"
    assert Notification.objects.filter(user=prop.host, kind="negotiation.withdrawn").exists()
    with pytest.raises(negotiation_services.NegotiationClosed):
        negotiation_services.negotiation_offer(
            negotiation_id=negotiation.pk, user=prop.host, amount=Decimal("280.00")
        )


def test_deactivating_a_host_ends_their_negotiations_as_unavailable_and_tells_the_guest():
    prop = bookable_property(nightly="100.00")
    guest = UserFactory()
    negotiation = _negotiate(prop, guest, 20)
    ticket = issue_ws_ticket(user_id=prop.host.pk)

    lifecycle.user_deactivate(user=prop.host)

    negotiation.refresh_from_db()
    assert negotiation.status == NegotiationStatus.UNAVAILABLE
    assert Notification.objects.filter(user=guest, kind="negotiation.unavailable").exists()
    assert redeem_ws_ticket(ticket) is None


def test_the_admin_action_deactivates_through_the_service():
    prop = bookable_property(nightly="100.00")
    guest = UserFactory()
    negotiation = _negotiate(prop, guest, 20)
    request = RequestFactory().post("/")
    request.user = User.objects.create_superuser("boss@example.com", PASSWORD)
    request._messages = SimpleNamespace(add=lambda *args, **kwargs: None)
    model_admin = admin_site._registry[User]

    model_admin.deactivate(request, User.objects.filter(pk=guest.pk))

    guest.refresh_from_db()
    negotiation.refresh_from_db()
    assert not guest.is_active
    assert negotiation.status == NegotiationStatus.WITHDRAWN

"""The account's own life (issue 17, "Accounts"): changing the email address through a
link sent to the new one, closing the account, socket tickets revoked by a password reset
or a logout, and a deactivated user's negotiations ending."""

import re
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core import mail
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import closing, services
from accounts.models import IdentityDocument, User
from accounts.tests.factories import PASSWORD, IdentityDocumentFactory, UserFactory
from accounts.tests.utils import assert_error
from accounts.tokens import issue_ws_ticket, password_reset_link_parts, redeem_ws_ticket
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus, Payment
from bookings.tests.factories import bookable_property, client_for
from negotiation import services as negotiation_services
from negotiation.models import Event, Negotiation, NegotiationStatus
from notifications.models import Notification
from properties.models import Property

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
CLOSE = "/api/v1/auth/me/close/"
VERIFY = "/api/v1/auth/verify-email/"
TODAY = timezone.now().date()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs what the block registered on commit (emails, files)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _dates(days, nights=3):
    return TODAY + timedelta(days=days), TODAY + timedelta(days=days + nights)


def _token_in(message) -> str:
    return re.search(r"token=([^\s\"&]+)", message.body).group(1)


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


# --- changing the email address --------------------------------------------------------------


def test_changing_email_sends_a_link_to_the_new_address_and_switches_only_once_confirmed(
    committed,
):
    user = UserFactory(email="old@example.com")
    client = client_for(user)

    with committed():
        response = client.patch(
            ME, {"email": "New@Example.com", "password": PASSWORD}, format="json"
        )

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "old@example.com"
    assert response.json()["pending_email"] == "new@example.com"
    user.refresh_from_db()
    assert user.email == "old@example.com"
    to_new = [m for m in mail.outbox if m.to == ["new@example.com"]]
    to_old = [m for m in mail.outbox if m.to == ["old@example.com"]]
    assert len(to_new) == 1 and len(to_old) == 1
    assert "new@example.com" in to_old[0].body  # the current address is told
    token = _token_in(to_new[0])

    confirmed = APIClient().post(VERIFY, {"token": token}, format="json")

    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["email"] == "new@example.com"
    assert confirmed.json()["pending_email"] == ""
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("new@example.com", "")
    assert user.is_email_verified
    # single use: the link changes from the old address, which the account no longer has
    assert_error(APIClient().post(VERIFY, {"token": token}, format="json"), 400, "invalid_token")


def test_changing_email_to_an_address_another_account_uses_is_refused_normalised(committed):
    UserFactory(email="taken@example.com")
    user = UserFactory()

    with committed():
        response = client_for(user).patch(
            ME, {"email": "TAKEN@Example.COM", "password": PASSWORD}, format="json"
        )

    assert_error(response, 409, "email_taken", "email")
    user.refresh_from_db()
    assert user.pending_email == ""
    assert mail.outbox == []


def test_an_address_taken_before_the_link_is_confirmed_is_refused_then(committed):
    user = UserFactory(email="first@example.com")
    with committed():
        client_for(user).patch(
            ME, {"email": "later@example.com", "password": PASSWORD}, format="json"
        )
    token = _token_in(next(m for m in mail.outbox if m.to == ["later@example.com"]))
    services.user_register(email="Later@example.com", password="plum-orchard-41-lantern")

    assert_error(APIClient().post(VERIFY, {"token": token}, format="json"), 409, "email_taken")
    user.refresh_from_db()
    assert user.email == "first@example.com"


def test_a_newer_change_request_voids_the_earlier_link(committed):
    user = UserFactory()
    client = client_for(user)
    with committed():
        client.patch(ME, {"email": "one@example.com", "password": PASSWORD}, format="json")
    first = _token_in(next(m for m in mail.outbox if m.to == ["one@example.com"]))
    client.patch(ME, {"email": "two@example.com", "password": PASSWORD}, format="json")

    assert_error(APIClient().post(VERIFY, {"token": first}, format="json"), 400, "invalid_token")
    user.refresh_from_db()
    assert user.pending_email == "two@example.com"


def test_changing_email_needs_the_current_password():
    user = UserFactory()
    client = client_for(user)

    assert_error(
        client.patch(ME, {"email": "new@example.com"}, format="json"), 400, "required", "password"
    )
    assert_error(
        client.patch(ME, {"email": "new@example.com", "password": "wrong"}, format="json"),
        400,
        "invalid_password",
        "password",
    )
    user.refresh_from_db()
    assert user.pending_email == ""


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


# --- socket tickets ---------------------------------------------------------------------------


def test_a_password_reset_revokes_socket_tickets_issued_before_it():
    user = UserFactory()
    before = issue_ws_ticket(user_id=user.pk)
    uid, token = password_reset_link_parts(user)

    services.password_reset_confirm(uid=uid, token=token, new_password="plum-orchard-41-lantern")

    assert redeem_ws_ticket(before) is None
    after = issue_ws_ticket(user_id=user.pk)
    assert redeem_ws_ticket(after) == user.pk


@pytest.mark.parametrize("credential", ["refresh", "access"])
def test_a_logout_revokes_the_users_socket_tickets(credential):
    user = UserFactory()
    other = UserFactory()
    ticket = issue_ws_ticket(user_id=user.pk)
    others_ticket = issue_ws_ticket(user_id=other.pk)
    refresh = RefreshToken.for_user(user)
    client = APIClient()
    if credential == "refresh":
        body = {"refresh": str(refresh)}
    else:
        body = {}
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")

    assert client.post("/api/v1/auth/logout/", body, format="json").status_code == 204

    assert redeem_ws_ticket(ticket) is None
    assert redeem_ws_ticket(others_ticket) == other.pk


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

    closing.user_deactivate(user=prop.host)

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

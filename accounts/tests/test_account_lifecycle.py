"""The account's own life (issue 17, "Accounts"): changing the email address through a
link sent to the new one, and socket tickets revoked by a password reset or a logout.
Closing an account and deactivating a user: negotiation/tests/test_lifecycle.py."""

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.utils import assert_error
from accounts.tokens import issue_ws_ticket, password_reset_link_parts, redeem_ws_ticket
from bookings.tests.factories import client_for

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
VERIFY = "/api/v1/auth/verify-email/"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs what the block registered on commit (emails, files)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _token_in(message) -> str:
    return re.search(r"token=([^\s\"&]+)", message.body).group(1)


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

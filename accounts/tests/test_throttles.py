"""Abuse limits on login (per email and per IP), registration and password reset (per IP)."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.utils import assert_error

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REGISTER = "/api/v1/auth/register/"
RESET = "/api/v1/auth/password-reset/"


def test_login_beyond_the_per_email_limit_is_429_with_retry_after(rates):
    rates(login_email="3/min", login_ip="100/min")
    user = UserFactory()
    client = APIClient()
    for _ in range(3):
        assert (
            client.post(TOKEN, {"email": user.email, "password": "wrong-guess"}).status_code == 401
        )

    # even the right password is refused now, and the email's case does not help
    response = client.post(TOKEN, {"email": user.email.upper(), "password": PASSWORD})

    assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    assert "parley_access" not in response.cookies


def test_per_email_login_limit_holds_across_client_ips(rates):
    rates(login_email="2/min", login_ip="100/min")
    user = UserFactory()
    for address in ("10.0.0.1", "10.0.0.2"):
        APIClient(REMOTE_ADDR=address).post(TOKEN, {"email": user.email, "password": "x"})

    response = APIClient(REMOTE_ADDR="10.0.0.3").post(
        TOKEN, {"email": user.email, "password": PASSWORD}
    )

    assert_error(response, 429, "throttled")


def test_per_email_login_limit_does_not_lock_out_other_accounts(rates):
    rates(login_email="2/min", login_ip="100/min")
    victim, other = UserFactory(), UserFactory()
    client = APIClient()
    for _ in range(3):
        client.post(TOKEN, {"email": victim.email, "password": "x"})

    assert client.post(TOKEN, {"email": other.email, "password": PASSWORD}).status_code == 200


def test_login_beyond_the_per_ip_limit_is_429(rates):
    rates(login_email="100/min", login_ip="3/min")
    client = APIClient(REMOTE_ADDR="10.1.1.1")
    for n in range(3):
        client.post(TOKEN, {"email": f"guess{n}@example.com", "password": "x"})
    user = UserFactory()

    assert_error(client.post(TOKEN, {"email": user.email, "password": PASSWORD}), 429, "throttled")
    other_ip = APIClient(REMOTE_ADDR="10.1.1.2")
    assert other_ip.post(TOKEN, {"email": user.email, "password": PASSWORD}).status_code == 200


def test_default_login_limit_is_five_attempts_per_email():
    user = UserFactory()
    client = APIClient()
    statuses = [
        client.post(TOKEN, {"email": user.email, "password": "x"}).status_code for _ in range(6)
    ]

    assert statuses == [401] * 5 + [429]


def test_registration_beyond_the_per_ip_limit_is_429(rates):
    rates(register_ip="2/hour")
    client = APIClient(REMOTE_ADDR="10.2.2.2")
    for n in range(2):
        body = {"email": f"new{n}@example.com", "password": "plum-orchard-41-lantern"}
        assert client.post(REGISTER, body).status_code == 201

    response = client.post(
        REGISTER, {"email": "new9@example.com", "password": "plum-orchard-41-lantern"}
    )

    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 60
    assert not User.objects.filter(email="new9@example.com").exists()
    other_ip = APIClient(REMOTE_ADDR="10.2.2.3")
    body = {"email": "new9@example.com", "password": "plum-orchard-41-lantern"}
    assert other_ip.post(REGISTER, body).status_code == 201


def test_password_reset_beyond_the_per_email_limit_is_429(rates):
    rates(password_reset_email="2/hour", password_reset_ip="100/hour")
    client = APIClient()
    for _ in range(2):
        assert client.post(RESET, {"email": "someone@example.com"}).status_code == 202

    assert_error(client.post(RESET, {"email": "Someone@example.com"}), 429, "throttled")
    assert client.post(RESET, {"email": "else@example.com"}).status_code == 202

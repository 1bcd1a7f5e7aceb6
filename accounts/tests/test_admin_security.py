"""The admin (issue 18): at ``ADMIN_URL``, its login throttled like the API login (by
address and by account, sharing the counters) and every attempt written to the audit log."""

import importlib
import logging

import pytest
from django.test import Client
from django.urls import clear_url_caches
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture
def superuser():
    return User.objects.create_superuser("boss@example.com", PASSWORD)


def _admin_login(client, email, password):
    return client.post(LOGIN, {"username": email, "password": password, "next": "/admin/"})


def test_admin_login_beyond_the_per_address_limit_is_429(rates, superuser):
    rates(login_ip="3/min", login_email="100/min")
    client = Client(REMOTE_ADDR="10.9.9.9")
    for n in range(3):
        assert _admin_login(client, f"guess{n}@example.com", "wrong-guess").status_code == 200

    response = _admin_login(client, superuser.email, PASSWORD)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "_auth_user_id" not in client.session
    assert Client(REMOTE_ADDR="10.9.9.10").get("/admin/").status_code == 302


def test_admin_login_beyond_the_per_account_limit_is_429_from_any_address(rates, superuser):
    rates(login_ip="100/min", login_email="3/min")
    for n in range(3):
        _admin_login(Client(REMOTE_ADDR=f"10.8.0.{n}"), superuser.email, "wrong-guess")

    client = Client(REMOTE_ADDR="10.8.0.99")
    response = _admin_login(client, superuser.email.upper(), PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_api_and_admin_logins_share_the_counters(rates, superuser):
    rates(login_ip="100/min", login_email="3/min")
    api = APIClient()
    for _ in range(3):
        api.post("/api/v1/auth/token/", {"email": superuser.email, "password": "wrong-guess"})

    assert _admin_login(Client(), superuser.email, PASSWORD).status_code == 429


def test_admin_login_within_the_limits_works_and_is_audited(superuser, caplog):
    client = Client(REMOTE_ADDR="10.7.7.7")
    with caplog.at_level(logging.INFO, logger="accounts.admin_audit"):
        failed = _admin_login(client, superuser.email, "wrong-guess")
        ok = _admin_login(client, superuser.email, PASSWORD)

    assert failed.status_code == 200
    assert ok.status_code == 302 and client.session["_auth_user_id"] == str(superuser.pk)
    lines = [r.getMessage() for r in caplog.records if r.name == "accounts.admin_audit"]
    assert lines == [
        "admin login failed email='boss@example.com' ip=10.7.7.7",
        f"admin login succeeded email='boss@example.com' user={superuser.pk} ip=10.7.7.7",
    ]


def test_non_staff_admin_login_is_audited_as_failed(caplog):
    User.objects.create_user("plain@example.com", PASSWORD)
    with caplog.at_level(logging.INFO, logger="accounts.admin_audit"):
        _admin_login(Client(), "plain@example.com", PASSWORD)

    assert [r.getMessage() for r in caplog.records if r.name == "accounts.admin_audit"] == [
        "admin login failed email='plain@example.com' ip=127.0.0.1"
    ]


@pytest.fixture
def admin_url(settings):
    import config.urls

    def use(path):
        settings.ADMIN_URL = path
        clear_url_caches()
        importlib.reload(config.urls)

    yield use
    settings.ADMIN_URL = "admin/"
    clear_url_caches()
    importlib.reload(config.urls)


def test_admin_is_served_at_the_configured_path(admin_url, superuser):
    admin_url("back-office-7f3a/")

    assert Client().get("/back-office-7f3a/login/").status_code == 200
    assert Client().get("/admin/login/").status_code == 404

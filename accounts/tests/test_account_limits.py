"""Limits an attacker cannot turn on the owner, and what an unverified account may do
(issue 18): one normalised address per account for lookups and limits, a known browser
keeps its own login bucket, reset answers do the same work for known and unknown
addresses, a login ends older reset links, passwords without the site's name."""

from unittest import mock

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import User, normalise_email
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.utils import assert_error

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
RESET = "/api/v1/auth/password-reset/"
CONFIRM = "/api/v1/auth/password-reset/confirm/"
REGISTER = "/api/v1/auth/register/"

FULLWIDTH_ADMIN = "\uff41\uff44\uff4d\uff49\uff4e"  # "admin" in full-width letters
FULLWIDTH_EXAMPLE = "\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25"  # "EXAMPLE"
DOTLESS_ADMIN = "adm\u0131n"  # with a dotless i


def test_normalised_address_is_nfkc_and_case_folded():
    assert normalise_email(f" {FULLWIDTH_ADMIN.upper()}@Example.COM ") == "admin@example.com"
    assert normalise_email("STRASSE@example.com") == normalise_email("straße@example.com")


def test_other_spellings_of_an_address_share_one_login_limit(rates):
    rates(login_email="2/min", login_ip="100/min")
    UserFactory(email="admin@example.com")
    client = APIClient()
    client.post(TOKEN, {"email": "ADMIN@EXAMPLE.COM", "password": "wrong-guess"})
    client.post(TOKEN, {"email": f"{FULLWIDTH_ADMIN}@example.com", "password": "wrong-guess"})

    response = client.post(TOKEN, {"email": "admin@example.com", "password": PASSWORD})

    assert_error(response, 429, "throttled")


def test_an_address_finds_the_account_only_by_its_normalised_spelling():
    user = UserFactory(email="admin@example.com")

    assert User.objects.get_by_natural_key("ADMIN@example.com") == user
    assert User.objects.get_by_natural_key(f"{FULLWIDTH_ADMIN}@example.com") == user  # NFKC
    with pytest.raises(User.DoesNotExist):  # PostgreSQL's UPPER(dotless i) is 'I'
        User.objects.get_by_natural_key(f"{DOTLESS_ADMIN}@example.com")


def test_registration_stores_the_normalised_address():
    response = APIClient().post(
        REGISTER,
        {"email": f"New.Person@{FULLWIDTH_EXAMPLE}.com", "password": "plum-orchard-41-lantern"},
    )

    assert response.status_code == 201
    assert User.objects.get(pk=response.json()["id"]).email == "new.person@example.com"


def test_a_stranger_spending_the_account_limit_does_not_lock_the_owners_browser_out(rates):
    rates(login_email="3/min", login_ip="100/min")
    owner = UserFactory()
    owners_browser = APIClient()
    assert (
        owners_browser.post(TOKEN, {"email": owner.email, "password": PASSWORD}).status_code == 200
    )
    assert "parley_device" in owners_browser.cookies

    stranger = APIClient(REMOTE_ADDR="10.66.0.1")
    for _ in range(3):
        stranger.post(TOKEN, {"email": owner.email, "password": "wrong-guess"})

    # the owner's usual browser logs in; a new browser waits for the window
    assert (
        owners_browser.post(TOKEN, {"email": owner.email, "password": PASSWORD}).status_code == 200
    )
    new_browser = APIClient(REMOTE_ADDR="10.66.0.2")
    response = new_browser.post(TOKEN, {"email": owner.email, "password": PASSWORD})
    assert_error(response, 429, "throttled")
    # nor can the stranger carry on with the owner's device mark for another account
    stranger.cookies["parley_device"] = owners_browser.cookies["parley_device"].value
    other = UserFactory()
    for _ in range(3):
        stranger.post(TOKEN, {"email": other.email, "password": "wrong-guess"})
    assert_error(stranger.post(TOKEN, {"email": other.email, "password": "x"}), 429, "throttled")


def test_a_forged_device_mark_is_an_ordinary_new_browser(rates):
    rates(login_email="2/min", login_ip="100/min")
    owner = UserFactory()
    client = APIClient()
    client.cookies["parley_device"] = "0" * 40
    for _ in range(2):
        client.post(TOKEN, {"email": owner.email, "password": "wrong-guess"})

    assert_error(client.post(TOKEN, {"email": owner.email, "password": PASSWORD}), 429, "throttled")


def test_reset_request_does_the_same_work_for_known_and_unknown_addresses(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    UserFactory(email="known@example.com")
    client = APIClient()
    with mock.patch("accounts.tasks.send_password_reset_email_to_address.delay") as delay:
        with django_assert_num_queries(0), django_capture_on_commit_callbacks(execute=True):
            known = client.post(RESET, {"email": "Known@example.com"})
        with django_assert_num_queries(0), django_capture_on_commit_callbacks(execute=True):
            unknown = client.post(RESET, {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert delay.call_args_list == [mock.call("known@example.com"), mock.call("nobody@example.com")]


def test_reset_task_emails_the_known_address_only(django_capture_on_commit_callbacks):
    UserFactory(email="known@example.com")
    client = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(RESET, {"email": "KNOWN@example.com"})
        client.post(RESET, {"email": "nobody@example.com"})

    assert [message.to for message in mail.outbox] == [["known@example.com"]]


def test_login_updates_last_login_and_ends_older_reset_links():
    user = UserFactory()
    uid, token = tokens.password_reset_link_parts(user)
    assert user.last_login is None

    APIClient().post(TOKEN, {"email": user.email, "password": PASSWORD})

    user.refresh_from_db()
    assert user.last_login is not None
    body = {"uid": uid, "token": token, "new_password": "plum-orchard-41-lantern"}
    assert_error(APIClient().post(CONFIRM, body), 400, "invalid_token")


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("parley123456", "password_contains_site_name"),
        ("my-PARLEY-home-99", "password_contains_site_name"),
        ("Passw0rd!2024", "password_too_common"),
        ("Passw0rd!", "password_too_short"),
        ("parley123", "password_too_short"),
        ("tulip-9-x", "password_too_short"),  # 9 characters: the minimum is 10
    ],
)
def test_weak_passwords_are_refused(password, code):
    response = APIClient().post(REGISTER, {"email": "new@example.com", "password": password})

    assert_error(response, 400, code, "password")
    assert not User.objects.filter(email="new@example.com").exists()


def test_passwords_similar_to_the_name_are_refused():
    body = {"email": "q@example.com", "password": "Marguerite1", "first_name": "Marguerite"}

    assert_error(APIClient().post(REGISTER, body), 400, "password_too_similar", "password")


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_unverified_account_cannot_become_a_host():
    user = UserFactory(unverified=True)

    assert_error(_client_for(user).post("/api/v1/auth/become-host/"), 403, "email_unverified")
    user.refresh_from_db()
    assert not user.is_host


def test_an_unverified_account_cannot_upload_identity_documents():
    from properties.tests.factories import png_upload

    user = UserFactory(unverified=True)
    body = {"kind": "passport", "number": "X1234567", "image": png_upload()}

    response = _client_for(user).post("/api/v1/auth/me/documents/", body, format="multipart")

    assert_error(response, 403, "email_unverified")
    assert not user.documents.exists()


def test_an_unverified_host_cannot_publish():
    from properties.models import Property
    from properties.tests.factories import PropertyFactory

    prop = PropertyFactory(status=Property.Status.DRAFT, host__email_verified_at=None)

    response = _client_for(prop.host).post(f"/api/v1/properties/{prop.pk}/publish/")

    assert_error(response, 403, "email_unverified")
    prop.refresh_from_db()
    assert prop.status == Property.Status.DRAFT


@pytest.mark.django_db(transaction=True)
async def test_an_unverified_account_opens_no_socket():
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator
    from rest_framework_simplejwt.tokens import AccessToken

    from config.asgi import application

    user = await sync_to_async(UserFactory)(unverified=True)
    header = (b"authorization", f"Bearer {AccessToken.for_user(user)}".encode())
    communicator = WebsocketCommunicator(
        application, "/ws/notifications/", [(b"origin", b"http://localhost"), header]
    )

    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect(code=4401)


def test_reset_answers_take_at_least_the_floor_for_known_and_unknown_addresses(
    settings, django_capture_on_commit_callbacks
):
    """Where tasks run in the request (the embedded default), the known address's email
    is sent before the answer; both answers wait out PASSWORD_RESET_MIN_SECONDS."""
    import time

    settings.PASSWORD_RESET_MIN_SECONDS = 0.3
    UserFactory(email="known@example.com")
    client = APIClient()
    took = {}
    for email in ("known@example.com", "nobody@example.com"):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(RESET, {"email": email}).status_code == 202
        took[email] = time.monotonic() - started

    assert all(0.3 <= seconds < 2.0 for seconds in took.values()), took
    assert len(mail.outbox) == 1

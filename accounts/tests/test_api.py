"""Accounts endpoints: registration, email verification, profile, documents, password reset."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import IdentityDocument, User
from accounts.tests.factories import (
    PASSWORD,
    IdentityDocumentFactory,
    UserFactory,
    bomb_png_bytes,
    png_bytes,
    png_upload,
)
from accounts.tests.utils import assert_error, login
from accounts.tokens import make_email_verification_token

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
VERIFY = "/api/v1/auth/verify-email/"
RESEND = "/api/v1/auth/verify-email/resend/"
ME = "/api/v1/auth/me/"
BECOME_HOST = "/api/v1/auth/become-host/"
DOCUMENTS = "/api/v1/auth/me/documents/"
RESET = "/api/v1/auth/password-reset/"
RESET_CONFIRM = "/api/v1/auth/password-reset/confirm/"
WS_TICKET = "/api/v1/auth/ws-ticket/"
REFRESH = "/api/v1/auth/token/refresh/"

NEW_USER = {
    "email": "New.Guest@Example.com",
    "password": "plum-orchard-41-lantern",
    "first_name": "Nia",
    "last_name": "Okafor",
}


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the on-commit side effects (emails) of requests made inside the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _bearer(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def _token_from(message) -> str:
    return re.search(r"token=([\w:.-]+)", message.body).group(1)


# --- registration and email verification -------------------------------------------------


def test_register_creates_an_unverified_user_and_emails_a_verification_token(api_client, on_commit):
    with on_commit():
        response = api_client.post(REGISTER, NEW_USER)

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new.guest@example.com"
    assert body["email_verified"] is False
    assert "password" not in body
    user = User.objects.get(pk=body["id"])
    assert user.check_password(NEW_USER["password"])
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.guest@example.com"]
    assert _token_from(message)
    assert message.alternatives  # HTML part too


def test_plain_text_emails_are_not_html_escaped(api_client, on_commit):
    UserFactory(email="tom@example.com", first_name="Tom & Jerry O'Brien")

    with on_commit():
        api_client.post(RESET, {"email": "tom@example.com"})
        api_client.post(REGISTER, {**NEW_USER, "first_name": "Zoë <Z>"})

    reset, verify = mail.outbox
    assert "Hello Tom & Jerry O'Brien," in reset.body
    assert re.search(r"/reset-password\?uid=[\w-]+&token=[\w-]+\n", reset.body)
    assert "Hello Zoë <Z>," in verify.body
    assert "&amp;" not in reset.body + verify.body
    assert "&amp;" in reset.alternatives[0][0]  # the HTML part is still escaped


def test_register_with_an_existing_email_in_other_case_is_409(api_client, on_commit):
    UserFactory(email="taken@example.com")

    with on_commit():
        response = api_client.post(REGISTER, {**NEW_USER, "email": "TAKEN@example.COM"})

    assert_error(response, 409, "email_taken")
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("weak", "code"),
    [
        ("pl4Nt", "password_too_short"),
        ("password123", "password_too_common"),
        ("4815162342108", "password_entirely_numeric"),
        ("new.guest@example", "password_too_similar"),
    ],
)
def test_register_with_a_weak_password_is_400_on_password(api_client, weak, code):
    response = api_client.post(REGISTER, {**NEW_USER, "password": weak})

    assert_error(response, 400, code, "password")
    assert {error["attr"] for error in response.json()["errors"]} == {"password"}
    assert not User.objects.filter(email__iexact=NEW_USER["email"]).exists()


def test_register_with_an_invalid_email_is_400(api_client):
    assert_error(api_client.post(REGISTER, {**NEW_USER, "email": "nope"}), 400, "invalid", "email")


def test_verification_token_from_the_email_verifies_the_address(api_client, on_commit):
    with on_commit():
        api_client.post(REGISTER, NEW_USER)
    token = _token_from(mail.outbox[0])

    response = api_client.post(VERIFY, {"token": token})

    assert response.status_code == 200
    assert response.json()["email_verified"] is True
    assert User.objects.get(email="new.guest@example.com").email_verified_at is not None


def test_verifying_twice_is_harmless(api_client):
    user = UserFactory(unverified=True)
    token = make_email_verification_token(user_id=user.pk, email=user.email)

    assert api_client.post(VERIFY, {"token": token}).status_code == 200
    first = User.objects.get(pk=user.pk).email_verified_at
    assert api_client.post(VERIFY, {"token": token}).status_code == 200
    assert User.objects.get(pk=user.pk).email_verified_at == first


@pytest.mark.parametrize("token", ["garbage", "a:b:c", "eyJ1aWQiOjF9:forged:signature"])
def test_forged_or_garbled_verification_token_is_400_invalid_token(api_client, token):
    assert_error(api_client.post(VERIFY, {"token": token}), 400, "invalid_token")


def test_verification_token_signed_with_another_key_is_refused(api_client, settings):
    user = UserFactory(unverified=True)
    settings.SECRET_KEY = "another-secret-key-" + "y" * 40
    forged = make_email_verification_token(user_id=user.pk, email=user.email)
    settings.SECRET_KEY = "test-only-secret-key-" + "x" * 40

    assert_error(api_client.post(VERIFY, {"token": forged}), 400, "invalid_token")
    assert User.objects.get(pk=user.pk).email_verified_at is None


def test_verification_token_for_an_old_email_is_refused_after_the_email_changed(api_client):
    user = UserFactory(unverified=True, email="old@example.com")
    token = make_email_verification_token(user_id=user.pk, email=user.email)
    User.objects.filter(pk=user.pk).update(email="new@example.com")

    assert_error(api_client.post(VERIFY, {"token": token}), 400, "invalid_token")
    assert User.objects.get(pk=user.pk).email_verified_at is None


def test_verification_token_expires_after_three_days(api_client):
    user = UserFactory(unverified=True)
    token = make_email_verification_token(user_id=user.pk, email=user.email)

    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1), tick=False):
        assert_error(api_client.post(VERIFY, {"token": token}), 400, "invalid_token")


def test_verify_without_token_is_400_on_token(api_client):
    assert_error(api_client.post(VERIFY, {}), 400, "required", "token")


def test_resend_verification_emails_an_unverified_user(on_commit):
    user = UserFactory(unverified=True)

    with on_commit():
        response = _bearer(user).post(RESEND)

    assert response.status_code == 202
    assert [message.to for message in mail.outbox] == [[user.email]]
    assert APIClient().post(VERIFY, {"token": _token_from(mail.outbox[0])}).status_code == 200


def test_resend_verification_to_a_verified_user_sends_nothing(user, on_commit):
    with on_commit():
        response = _bearer(user).post(RESEND)

    assert response.status_code == 202
    assert mail.outbox == []


def test_resend_verification_needs_authentication(api_client):
    assert_error(api_client.post(RESEND), 401, "not_authenticated")


# --- profile ------------------------------------------------------------------------------


def test_me_returns_the_profile(bearer_client, user):
    response = bearer_client.get(ME)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user.pk
    assert body["email"] == user.email
    assert body["email_verified"] is True
    assert body["is_host"] is False
    assert body["avatar"] is None


def test_me_without_credentials_is_401(api_client):
    assert_error(api_client.get(ME), 401, "not_authenticated")


def test_me_with_a_garbled_bearer_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    body = assert_error(api_client.get(ME), 401, "token_not_valid")
    assert len(body["errors"]) == 1


def test_patch_me_updates_profile_fields(bearer_client, user):
    changes = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "phone": "+1 (555) 010-2030",
        "bio": "Compilers, mostly.",
        "languages": ["en", "es"],
    }

    response = bearer_client.patch(ME, changes)

    assert response.status_code == 200
    assert {key: response.json()[key] for key in changes} == changes
    user.refresh_from_db()
    assert (user.first_name, user.phone, user.languages) == (
        "Grace",
        changes["phone"],
        ["en", "es"],
    )


def test_patch_me_ignores_fields_that_are_not_profile_fields(bearer_client, user):
    # ``email`` is no longer ignored: it asks for a change, confirmed by a link sent to the
    # new address (test_account_lifecycle.py)
    response = bearer_client.patch(ME, {"is_host": True, "email_verified": False, "bio": "hi"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.is_email_verified
    assert user.is_host is False
    assert user.bio == "hi"


@pytest.mark.parametrize(
    ("changes", "attr"),
    [
        ({"languages": "en"}, "languages"),
        ({"phone": "call me"}, "phone"),
        ({"bio": {"nested": True}}, "bio"),
        ({"first_name": "x" * 151}, "first_name"),
    ],
)
def test_patch_me_with_wrong_types_is_400_naming_the_field(bearer_client, user, changes, attr):
    response = bearer_client.patch(ME, changes)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert [error["attr"] for error in response.json()["errors"]] == [attr]
    user.refresh_from_db()
    assert user.first_name == "Ada"


def test_avatar_upload_accepts_a_small_png(bearer_client, user):
    response = bearer_client.patch(ME, {"avatar": png_upload("me.png")}, format="multipart")

    assert response.status_code == 200
    assert response.json()["avatar"].startswith("/media/avatars/")
    user.refresh_from_db()
    with user.avatar.open("rb") as stored:
        assert stored.read() == png_bytes()


def test_replacing_the_avatar_deletes_the_old_file(bearer_client, user, on_commit):
    with on_commit():
        bearer_client.patch(ME, {"avatar": png_upload("one.png")}, format="multipart")
    user.refresh_from_db()
    old_name, storage = user.avatar.name, user.avatar.storage

    with on_commit():
        response = bearer_client.patch(ME, {"avatar": png_upload("two.png")}, format="multipart")

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.avatar.name != old_name
    assert storage.exists(user.avatar.name)
    assert not storage.exists(old_name)


def test_avatar_that_is_not_an_image_is_400_invalid_image(bearer_client, user):
    fake = SimpleUploadedFile(
        "me.png", b"#!/bin/sh\necho not a picture\n", content_type="image/png"
    )

    response = bearer_client.patch(ME, {"avatar": fake}, format="multipart")

    assert_error(response, 400, "invalid_image", "avatar")
    user.refresh_from_db()
    assert not user.avatar


def test_avatar_in_a_format_that_is_not_allowed_is_400(bearer_client):
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="GIF")
    gif = SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")

    response = bearer_client.patch(ME, {"avatar": gif}, format="multipart")

    assert_error(response, 400, "unsupported_image_type", "avatar")


def test_avatar_over_the_byte_limit_is_400_file_too_large(bearer_client, user, settings):
    settings.AVATAR_MAX_BYTES = 100
    upload = png_upload("big.png", size=(64, 64))
    assert upload.size > 100

    response = bearer_client.patch(ME, {"avatar": upload}, format="multipart")

    assert_error(response, 400, "file_too_large", "avatar")
    user.refresh_from_db()
    assert not user.avatar


def test_avatar_over_the_pixel_budget_is_400_image_too_large(bearer_client, settings):
    settings.IMAGE_MAX_PIXELS = 100

    response = bearer_client.patch(ME, {"avatar": png_upload(size=(20, 20))}, format="multipart")

    assert_error(response, 400, "image_too_large", "avatar")


@pytest.mark.parametrize("side", [7_000, 30_000], ids=["over-budget", "over-pillow-limit"])
def test_decompression_bomb_avatar_is_400_image_too_large(bearer_client, user, side):
    bomb = SimpleUploadedFile("bomb.png", bomb_png_bytes(side, side), content_type="image/png")
    assert bomb.size < 200

    response = bearer_client.patch(ME, {"avatar": bomb}, format="multipart")

    assert_error(response, 400, "image_too_large", "avatar")
    user.refresh_from_db()
    assert not user.avatar


def test_become_host_makes_the_user_a_host(bearer_client, user):
    response = bearer_client.post(BECOME_HOST)

    assert response.status_code == 200
    assert response.json()["is_host"] is True
    user.refresh_from_db()
    assert user.is_host is True
    assert user.became_host_at is not None


def test_become_host_twice_keeps_the_first_date(bearer_client, user):
    bearer_client.post(BECOME_HOST)
    first = User.objects.get(pk=user.pk).became_host_at

    assert bearer_client.post(BECOME_HOST).status_code == 200
    assert User.objects.get(pk=user.pk).became_host_at == first


# --- identity documents -------------------------------------------------------------------


def test_submit_identity_document_is_201_pending(bearer_client, user):
    response = bearer_client.post(
        DOCUMENTS,
        {"kind": "passport", "number": "X1234567", "image": png_upload("scan.png")},
        format="multipart",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert (body["kind"], body["number"]) == ("passport", "X1234567")
    assert "image" not in body
    document = IdentityDocument.objects.get(pk=body["id"])
    assert document.user == user
    assert bearer_client.get(ME).json()["identity_verified"] is False


@pytest.mark.parametrize(
    ("fields", "attr", "code"),
    [
        ({"kind": "driving_licence"}, "kind", "invalid_choice"),
        ({"number": "<script>"}, "number", "invalid"),
        ({"image": None}, "image", "required"),
    ],
)
def test_submit_identity_document_with_bad_fields_is_400(bearer_client, fields, attr, code):
    data = {"kind": "nid", "number": "AB-12 34", "image": png_upload("scan.png"), **fields}
    data = {key: value for key, value in data.items() if value is not None}

    response = bearer_client.post(DOCUMENTS, data, format="multipart")

    assert_error(response, 400, code, attr)
    assert not IdentityDocument.objects.exists()


def test_submit_identity_document_that_is_not_an_image_is_400(bearer_client):
    pdf = SimpleUploadedFile("scan.png", b"%PDF-1.4 not an image", content_type="image/png")

    response = bearer_client.post(
        DOCUMENTS, {"kind": "nid", "number": "123", "image": pdf}, format="multipart"
    )

    assert_error(response, 400, "invalid_image", "image")
    assert not IdentityDocument.objects.exists()


def test_document_list_shows_only_the_users_own_documents(bearer_client, user):
    mine = IdentityDocumentFactory(user=user)
    IdentityDocumentFactory()  # someone else's

    response = bearer_client.get(DOCUMENTS)

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [mine.pk]


def test_document_image_is_served_to_its_owner(bearer_client, user):
    document = IdentityDocumentFactory(user=user)

    response = bearer_client.get(f"{DOCUMENTS}{document.pk}/image/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == "attachment"


def test_document_image_of_another_user_is_404(bearer_client):
    other = IdentityDocumentFactory()

    assert_error(bearer_client.get(f"{DOCUMENTS}{other.pk}/image/"), 404, "not_found")


def test_documents_need_authentication(api_client):
    document = IdentityDocumentFactory()

    assert_error(api_client.get(DOCUMENTS), 401, "not_authenticated")
    assert_error(api_client.get(f"{DOCUMENTS}{document.pk}/image/"), 401, "not_authenticated")


# --- password reset -----------------------------------------------------------------------


def _reset_parts(message) -> dict:
    match = re.search(r"uid=([\w-]+)&token=([\w-]+)", message.body)
    return {"uid": match.group(1), "token": match.group(2)}


def test_password_reset_for_a_known_email_is_202_and_sends_a_link(api_client, user, on_commit):
    with on_commit():
        response = api_client.post(RESET, {"email": user.email.upper()})

    assert response.status_code == 202
    assert [message.to for message in mail.outbox] == [[user.email]]
    assert _reset_parts(mail.outbox[0])


def test_password_reset_for_an_unknown_email_is_202_and_sends_nothing(api_client, on_commit):
    with on_commit():
        response = api_client.post(RESET, {"email": "nobody@example.com"})

    assert response.status_code == 202
    assert mail.outbox == []


def test_password_reset_confirm_sets_the_password_and_ends_every_session(
    api_client, user, on_commit
):
    refresh_tokens = [login(APIClient(), user.email).json()["refresh"] for _ in range(2)]
    with on_commit():
        api_client.post(RESET, {"email": user.email})
    new_password = "saffron-kettle-88-harbour"

    response = api_client.post(
        RESET_CONFIRM, {**_reset_parts(mail.outbox[0]), "new_password": new_password}
    )

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password(new_password)
    assert not user.check_password(PASSWORD)
    for refresh in refresh_tokens:
        assert_error(APIClient().post(REFRESH, {"refresh": refresh}), 401, "token_not_valid")
    assert login(APIClient(), user.email, new_password).status_code == 200


def test_password_reset_link_works_only_once(api_client, user, on_commit):
    with on_commit():
        api_client.post(RESET, {"email": user.email})
    parts = _reset_parts(mail.outbox[0])
    first = api_client.post(RESET_CONFIRM, {**parts, "new_password": "saffron-kettle-88-harbour"})

    second = api_client.post(RESET_CONFIRM, {**parts, "new_password": "velvet-anchor-19-meadow"})

    assert first.status_code == 204
    assert_error(second, 400, "invalid_token")
    user.refresh_from_db()
    assert user.check_password("saffron-kettle-88-harbour")


@pytest.mark.parametrize(
    "parts",
    [
        {"uid": "MQ", "token": "bad-token"},
        {"uid": "!!!", "token": "bad-token"},
        {"uid": "OTk5OTk5", "token": "bad-token"},
    ],
    ids=["bad-token", "garbled-uid", "unknown-user"],
)
def test_password_reset_confirm_with_a_bad_token_is_400_invalid_token(api_client, user, parts):
    response = api_client.post(
        RESET_CONFIRM, {**parts, "new_password": "saffron-kettle-88-harbour"}
    )

    assert_error(response, 400, "invalid_token")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_reset_confirm_with_a_weak_password_names_new_password(
    api_client, user, on_commit
):
    with on_commit():
        api_client.post(RESET, {"email": user.email})

    response = api_client.post(
        RESET_CONFIRM, {**_reset_parts(mail.outbox[0]), "new_password": "123"}
    )

    assert_error(response, 400, "password_too_short", "new_password")
    assert {error["attr"] for error in response.json()["errors"]} == {"new_password"}
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# --- WebSocket ticket ---------------------------------------------------------------------


def test_ws_ticket_is_issued_to_an_authenticated_user(bearer_client):
    response = bearer_client.post(WS_TICKET)

    assert response.status_code == 201
    body = response.json()
    assert len(body["ticket"]) >= 32
    assert body["expires_in"] == 30


def test_ws_tickets_are_unique(bearer_client):
    tickets = {bearer_client.post(WS_TICKET).json()["ticket"] for _ in range(3)}

    assert len(tickets) == 3


def test_ws_ticket_needs_authentication(api_client):
    assert_error(api_client.post(WS_TICKET), 401, "not_authenticated")

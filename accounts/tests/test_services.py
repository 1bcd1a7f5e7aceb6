"""Accounts services called directly: the rules every transport shares."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from accounts.models import IdentityDocument, User
from accounts.tests.factories import IdentityDocumentFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_email_create_exactly_one_user():
    attempts = 8
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []

    def register(n: int) -> None:
        try:
            barrier.wait()
            spelling = ("race@example.com", "RACE@example.com", "Race@Example.COM")[n % 3]
            services.user_register(email=spelling, password="plum-orchard-41-lantern")
            outcomes.append("created")
        except services.EmailTaken:
            outcomes.append("email_taken")
        except Exception as exc:  # any other outcome is the failure under test
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["created"] + ["email_taken"] * (attempts - 1)
    assert User.objects.filter(email__iexact="race@example.com").count() == 1


@pytest.mark.django_db
def test_update_profile_refuses_fields_that_are_not_profile_fields():
    user = UserFactory()

    with pytest.raises(ValueError, match="is_staff"):
        services.user_update_profile(user=user, is_staff=True, first_name="Eve")

    user.refresh_from_db()
    assert (user.is_staff, user.first_name) == (False, "Ada")


@pytest.mark.django_db
def test_approved_document_makes_the_user_identity_verified():
    document = IdentityDocumentFactory()
    reviewer = UserFactory(is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(document.user)}")
    assert client.get("/api/v1/auth/me/").json()["identity_verified"] is False

    services.document_review(document=document, reviewer=reviewer, approve=True)

    assert client.get("/api/v1/auth/me/").json()["identity_verified"] is True
    listed = client.get("/api/v1/auth/me/documents/").json()["results"]
    assert [(item["status"], item["rejection_reason"]) for item in listed] == [("verified", "")]


@pytest.mark.django_db
def test_rejected_document_records_the_reason_and_does_not_verify():
    document = IdentityDocumentFactory()

    services.document_review(
        document=document, reviewer=UserFactory(is_staff=True), approve=False, reason="Blurred"
    )

    document.refresh_from_db()
    assert document.status == IdentityDocument.Status.REJECTED
    assert document.rejection_reason == "Blurred"
    assert document.reviewed_at is not None
    assert document.user.is_identity_verified is False

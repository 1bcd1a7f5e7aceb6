"""Identity documents are served to their owner (API) and to staff (admin) only, never
from a public URL."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.tests.factories import IdentityDocumentFactory, UserFactory, png_bytes

pytestmark = pytest.mark.django_db


def _admin_url(document) -> str:
    return f"/admin/accounts/identitydocument/{document.pk}/image/"


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_who_may_view_documents_get_the_scan_in_the_admin():
    document = IdentityDocumentFactory()
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_identitydocument"))

    response = _logged_in(staff).get(_admin_url(document))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert "no-store" in response["Cache-Control"]  # the admin adds never_cache's too
    assert response["Content-Disposition"] == "attachment"


def test_staff_without_the_view_permission_are_refused():
    document = IdentityDocumentFactory()

    response = _logged_in(UserFactory(is_staff=True)).get(_admin_url(document))

    assert response.status_code == 403


@pytest.mark.parametrize("who", ["anonymous", "the owner", "another user"])
def test_non_staff_never_reach_the_admin_scan(who):
    document = IdentityDocumentFactory()
    client = Client()
    if who != "anonymous":
        client.force_login(document.user if who == "the owner" else UserFactory())

    response = client.get(_admin_url(document))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_scans_are_not_under_a_public_media_url(settings):
    document = IdentityDocumentFactory()

    assert not document.image.path.startswith(str(settings.MEDIA_ROOT))
    assert Client().get(f"/media/{document.image.name}").status_code == 404

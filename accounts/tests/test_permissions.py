"""``accounts.permissions``: the gates other apps put on booking, negotiating and hosting."""

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from accounts.permissions import IsEmailVerified, IsHost
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class VerifiedOnlyView(APIView):
    permission_classes = [IsEmailVerified]

    def post(self, request):
        return Response({"ok": True})


class HostOnlyView(APIView):
    permission_classes = [IsHost]

    def post(self, request):
        return Response({"ok": True})


def _post(view, user=None):
    request = APIRequestFactory().post("/anything/", {}, format="json")
    if user is not None:
        force_authenticate(request, user=user)
    response = view.as_view()(request)
    response.render()
    return response


def _codes(response) -> list[str]:
    return [error["code"] for error in response.data["errors"]]


def test_unverified_user_gets_403_email_unverified():
    response = _post(VerifiedOnlyView, UserFactory(unverified=True))

    assert response.status_code == 403
    assert response.data["type"] == "client_error"
    assert _codes(response) == ["email_unverified"]


def test_verified_user_passes_is_email_verified():
    response = _post(VerifiedOnlyView, UserFactory())

    assert response.status_code == 200
    assert response.data == {"ok": True}


def test_anonymous_user_gets_401_from_is_email_verified():
    response = _post(VerifiedOnlyView)

    assert response.status_code == 401
    assert _codes(response) == ["not_authenticated"]


def test_guest_gets_403_not_a_host_and_a_host_passes():
    assert _codes(_post(HostOnlyView, UserFactory())) == ["not_a_host"]
    assert _post(HostOnlyView, UserFactory(host=True)).status_code == 200

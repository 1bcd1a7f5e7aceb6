import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def csrf_client() -> APIClient:
    """A browser-like client: Django's CSRF checks are enforced."""
    return APIClient(enforce_csrf_checks=True)


@pytest.fixture
def bearer_client(user) -> APIClient:
    """A client authenticated as ``user`` with a real Bearer access token."""
    from rest_framework_simplejwt.tokens import AccessToken

    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client

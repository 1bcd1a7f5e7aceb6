"""Helpers for booking tests: a bookable listing, a verified guest, an API client."""

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from properties.tests.factories import GuestFactory, published_property


def bookable_property(*, instant_book=False, cancellation_policy="moderate", **fields):
    return published_property(
        instant_book=instant_book, cancellation_policy=cancellation_policy, **fields
    )


def verified_guest(*, verified=True):
    return GuestFactory(email_verified_at=None) if not verified else GuestFactory()


def client_for(user) -> APIClient:
    """A Bearer-authenticated client, as a mobile app would call the API."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client

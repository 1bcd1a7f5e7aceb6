"""Helpers for booking tests: a bookable listing, a verified guest, an API client, a booking
made through the service."""

from datetime import timedelta

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from bookings import services
from bookings.models import Booking
from properties.quotes import property_today
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


def book(prop, guest, *, token="tok_ok", days=20, nights=3) -> Booking:
    """A standard stay for two, ``days`` after the property's today, booked through the
    service (instant book or a request, paid with ``token``; ``""``: not paid yet)."""
    check_in = property_today(prop) + timedelta(days=days)
    booking, _ = services.booking_create(
        guest=guest, property_id=prop.pk, check_in=check_in,
        check_out=check_in + timedelta(days=nights), guests=2, stay_type="standard",
        payment_token=token,
    )  # fmt: skip
    return booking

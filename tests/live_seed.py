"""Data for the live-concurrency tests, made the same way in both runtime modes: in the
test process (services mode, the test's PostgreSQL) or through ``manage.py shell`` (the
embedded default's own SQLite file). Returns ids and access tokens as JSON-safe values."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from bookings.tests.factories import bookable_property, verified_guest
from negotiation import services


def _token(user) -> str:
    return str(AccessToken.for_user(user))


def seed(*, racers: int = 16, accept_rounds: int = 50, overlap_rounds: int = 10) -> dict:
    today = timezone.now().date()
    instant = bookable_property(nightly="90.00", instant_book=True, title="Race flat")
    guests = [verified_guest() for _ in range(racers)]

    # A listing per negotiation: a guest opens at most NEGOTIATION_OPENS_PER_DAY a listing.
    host = bookable_property(nightly="100.00", title="Offer house").host
    haggler = verified_guest()
    accept_ids = []
    for n in range(accept_rounds):
        offers = bookable_property(nightly="100.00", title=f"Offer house {n}", host=host)
        check_in = today + timedelta(days=30 + 3 * n)
        accept_ids.append(
            services.negotiation_open(
                guest=haggler, property_id=offers.pk, check_in=check_in,
                check_out=check_in + timedelta(days=2), guests=1, stay_type="standard",
                amount=Decimal("150.00"),
            ).negotiation.pk
        )  # fmt: skip

    chat_property = bookable_property(nightly="100.00", title="Chat cottage")
    chatter = verified_guest()
    chat_id = services.negotiation_open(
        guest=chatter, property_id=chat_property.pk, check_in=today + timedelta(days=40),
        check_out=today + timedelta(days=43), guests=1, stay_type="standard", message="Hello!",
    ).negotiation.pk  # fmt: skip

    overlap_host = bookable_property(nightly="100.00", title="Contested villa").host
    rivals = (verified_guest(), verified_guest())
    overlap_pairs = []
    for n in range(overlap_rounds):
        overlap_property = bookable_property(
            nightly="100.00", title=f"Contested villa {n}", host=overlap_host
        )
        check_in = today + timedelta(days=30 + 5 * n)
        pair = []
        for shift, rival in enumerate(rivals):  # the second asks for one night later
            pair.append(
                services.negotiation_open(
                    guest=rival, property_id=overlap_property.pk,
                    check_in=check_in + timedelta(days=shift),
                    check_out=check_in + timedelta(days=shift + 3), guests=1,
                    stay_type="standard", amount=Decimal("200.00"),
                ).negotiation.pk
            )  # fmt: skip
        overlap_pairs.append(pair)

    return {
        "instant_property": instant.pk,
        "racer_tokens": [_token(guest) for guest in guests],
        "first_check_in": (today + timedelta(days=20)).isoformat(),
        "accept_ids": accept_ids,
        "host_token": _token(host),
        "haggler_token": _token(haggler),
        "chat_id": chat_id,
        "chat_host_token": _token(chat_property.host),
        "chatter_token": _token(chatter),
        "overlap_pairs": overlap_pairs,
        "overlap_host_token": _token(overlap_host),
        "rival_tokens": [_token(rival) for rival in rivals],
    }

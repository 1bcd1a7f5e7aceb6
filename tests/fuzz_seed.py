"""Seed data for the HTTP API fuzz run (tests/test_fuzz_api.py, `make fuzz`).

Run inside the server's environment (``manage.py shell``) so the ids are the live server's:
a guest and a host (logging in through the API with ``PASSWORD``), published listings with
photos, a block, a seasonal rate, bookings in several states, an open negotiation, a
completed stay with published reviews, an identity document. ``seed()`` returns the ids
per path parameter, for the fuzzer's hooks to aim at real objects.
"""

from datetime import timedelta
from decimal import Decimal

PASSWORD = "fuzz-Parley-2027!"
GUEST_EMAIL = "fuzz-guest@example.com"
HOST_EMAIL = "fuzz-host@example.com"


def seed() -> dict:
    import time_machine
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import document_submit
    from accounts.tests.factories import png_upload as small_png
    from bookings import reviews, sweeps
    from bookings import services as booking_services
    from negotiation import services as negotiation_services
    from properties.models import AvailabilityBlock, SeasonalRate
    from properties.tests.factories import published_property

    now = timezone.now()
    guest = User.objects.create_user(
        email=GUEST_EMAIL, password=PASSWORD, first_name="Gina", email_verified_at=now
    )
    host = User.objects.create_user(
        email=HOST_EMAIL,
        password=PASSWORD,
        first_name="Hugo",
        is_host=True,
        became_host_at=now,
        email_verified_at=now,
    )
    offers = published_property(
        host=host, photos=3, accepts_offers=True, kinds=("standard", "with_meals")
    )
    instant = published_property(host=host, photos=3, instant_book=True, title="Instant flat")
    draft = published_property(host=host, status="draft", published_at=None, title="Draft flat")
    today = now.date()
    block = AvailabilityBlock.objects.create(
        property=offers, start=today + timedelta(days=200), end=today + timedelta(days=203)
    )
    rate = SeasonalRate.objects.create(
        property=offers,
        start=today + timedelta(days=300),
        end=today + timedelta(days=310),
        nightly_price=Decimal("150.00"),
    )

    def book(prop, start, nights, token=""):
        booking, _ = booking_services.booking_create(
            guest=guest, property_id=prop.pk, check_in=today + timedelta(days=start),
            check_out=today + timedelta(days=start + nights), guests=2, stay_type="standard",
            payment_token=token,
        )  # fmt: skip
        return booking

    pending = book(offers, 40, 3, "tok_ok")
    awaiting = book(instant, 40, 3)
    confirmed = book(instant, 60, 3, "tok_ok")
    negotiation = negotiation_services.negotiation_open(
        guest=guest, property_id=offers.pk, check_in=today + timedelta(days=80),
        check_out=today + timedelta(days=83), guests=2, stay_type="standard",
        amount=Decimal("250.00"), message="Would you take 250?",
    ).negotiation  # fmt: skip

    # A finished stay: booked three weeks ago for last week, completed, reviewed by both.
    with time_machine.travel(now - timedelta(days=21), tick=False):
        past = book(instant, -14, 3, "tok_ok")  # 7 days ahead of that day
    sweeps.bookings_complete_finished()
    review = reviews.review_submit(booking_id=past.pk, author=guest, overall=5, text="Lovely.")
    reviews.review_submit(booking_id=past.pk, author=host, overall=5, text="Great guest.")

    document = document_submit(user=guest, kind="passport", number="X1234567", image=small_png())

    property_ids = [offers.pk, instant.pk, draft.pk]
    return {
        "guest": GUEST_EMAIL,
        "host": HOST_EMAIL,
        "password": PASSWORD,
        "ids": {
            "properties": property_ids,
            "photos": list(offers.photos.values_list("pk", flat=True)),
            "blocks": [block.pk],
            "rates": [rate.pk],
            "bookings": [pending.pk, awaiting.pk, confirmed.pk, past.pk],
            "negotiations": [negotiation.pk],
            "reviews": [review.pk],
            "documents": [document.pk],
        },
    }

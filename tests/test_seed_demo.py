"""``manage.py seed_demo`` (``make run``): the demo users and listings, the same however
many times it runs."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from properties.demo import DEMO
from properties.models import Property

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _snapshot() -> list:
    return list(
        Property.objects.order_by("pk").values_list(
            "pk", "title", "status", "base_nightly_price", "host__email"
        )
    )


def test_seed_demo_creates_the_users_and_listings_and_is_idempotent():
    output = _seed()
    assert "demo user host@parley.local / password parley-demo-host" in output
    assert output.rstrip().endswith("demo data ready")
    host = User.objects.get(email="host@parley.local")
    guest = User.objects.get(email="guest@parley.local")
    assert host.is_host and not guest.is_host
    assert host.check_password("parley-demo-host") and guest.check_password("parley-demo-guest")
    assert host.is_email_verified and guest.is_email_verified
    listings = Property.objects.filter(host=host)
    assert listings.count() == len(DEMO)
    assert set(listings.values_list("status", flat=True)) == {Property.Status.PUBLISHED}
    assert all(prop.photos.count() == 3 for prop in listings)
    first = _snapshot()

    _seed()

    assert _snapshot() == first
    assert User.objects.filter(email__endswith="@parley.local").count() == 2

"""What a reader sees (issue 17): a guest who opened with a message only may make the first
offer, and ``GET negotiations/?status=`` filters on the status shown, lazy expiry included."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from bookings.tests.factories import bookable_property, client_for, verified_guest
from negotiation import services
from negotiation.models import Negotiation
from properties.quotes import property_today

pytestmark = pytest.mark.django_db


def _open(prop, guest, *, amount=None, message="", days=20):
    check_in = property_today(prop) + timedelta(days=days)
    return services.negotiation_open(
        guest=guest,
        property_id=prop.pk,
        check_in=check_in,
        check_out=check_in + timedelta(days=3),
        guests=2,
        stay_type="standard",
        amount=amount,
        message=message,
    ).negotiation


def test_a_guest_who_opened_with_a_message_makes_the_first_offer():
    prop, guest = bookable_property(), verified_guest()
    negotiation = _open(prop, guest, message="Is it quiet at night?")
    assert negotiation.turn == "host"
    response = client_for(guest).post(
        f"/api/v1/negotiations/{negotiation.pk}/offers/", {"amount": "300.00"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["turn"], body["guest_rounds"], body["offers"][0]["amount"]) == (
        "host",
        1,
        "300.00",
    )
    # from then on turns alternate as usual
    again = client_for(guest).post(
        f"/api/v1/negotiations/{negotiation.pk}/offers/", {"amount": "310.00"}, format="json"
    )
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "not_your_turn"


def test_after_a_host_special_offer_the_guest_answers_in_turn():
    prop, guest = bookable_property(), verified_guest()
    negotiation = _open(prop, guest, message="Any discount?")
    services.negotiation_offer(negotiation_id=negotiation.pk, user=prop.host, amount=Decimal("340"))
    services.negotiation_offer(negotiation_id=negotiation.pk, user=guest, amount=Decimal("300"))
    negotiation.refresh_from_db()
    assert (negotiation.turn, negotiation.guest_rounds, negotiation.host_rounds) == ("host", 1, 1)


def _ids(client, **params):
    return sorted(
        row["id"] for row in client.get("/api/v1/negotiations/", params).json()["results"]
    )


@pytest.mark.parametrize("role", ["guest", "host"])
def test_status_filter_uses_the_status_shown_including_lazy_expiry(role):
    prop, guest = bookable_property(), verified_guest()
    lapsing = _open(prop, guest, amount=Decimal("300.00"), days=20)
    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        fresh = _open(prop, guest, amount=Decimal("300.00"), days=40)
    withdrawn = _open(prop, guest, amount=Decimal("300.00"), days=60)
    services.negotiation_withdraw(negotiation_id=withdrawn.pk, user=guest)
    reader = guest if role == "guest" else prop.host

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        client = client_for(reader)  # a token issued now
        # the first lapsed (not yet swept), the second is still open
        assert Negotiation.objects.get(pk=lapsing.pk).status == "open"
        shown = {
            row["id"]: row["status"]
            for row in client.get("/api/v1/negotiations/", {"role": role}).json()["results"]
        }
        assert shown == {lapsing.pk: "expired", fresh.pk: "open", withdrawn.pk: "withdrawn"}
        for status in ("open", "expired", "withdrawn"):
            assert _ids(client, role=role, status=status) == sorted(
                pk for pk, seen in shown.items() if seen == status
            ), status

"""The host's floor stays private against probing (issue 17, DESIGN.md section 3).

An offer under the floor total is declined at once *as an offer*: the negotiation stays
open with the turn back to the guest, the offer counts as one of the guest's rounds, the
guest is told in words, and the host is told nothing. A guest opens at most
``NEGOTIATION_OPENS_PER_DAY`` negotiations per listing in 24 h. Together with the round cap
and "a guest never offers less than before", that bounds what probing can learn.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core import mail
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from bookings.models import Booking
from bookings.tests.factories import bookable_property, client_for, verified_guest
from config.asgi import application
from negotiation import services
from negotiation.models import Event, Negotiation
from negotiation.services.prices import _threshold
from notifications.models import Notification

pytestmark = pytest.mark.django_db
TODAY = timezone.now().date()
BELOW = "below what the host accepts for these dates"


def _body(prop, amount=None, *, message="", days=20, nights=3):
    body = {
        "property": prop.pk,
        "check_in": (TODAY + timedelta(days=days)).isoformat(),
        "check_out": (TODAY + timedelta(days=days + nights)).isoformat(),
        "guests": 2,
        "stay_type": "standard",
        "message": message,
    }
    if amount is not None:
        body["amount"] = str(amount)
    return body


def _codes(response):
    return [e["code"] for e in response.json()["errors"]]


@pytest.fixture
def prop():
    # 3 nights at 100: list total 363.00; the floor (80/night) priced as the quote
    return bookable_property(nightly="100.00", floor_nightly_price=Decimal("80"))


def _floor_total(negotiation_id) -> Decimal:
    negotiation = Negotiation.objects.select_related("property").get(pk=negotiation_id)
    return _threshold(negotiation, negotiation.property.floor_nightly_price)


def test_offer_under_the_floor_is_declined_as_an_offer_and_the_negotiation_stays_open(
    prop, django_capture_on_commit_callbacks
):
    guest = verified_guest()
    g = client_for(guest)
    with django_capture_on_commit_callbacks(execute=True):
        opened = g.post("/api/v1/negotiations/", _body(prop, message="Hello, is it quiet?"))
    nid = opened.json()["id"]
    host_before = set(Notification.objects.filter(user=prop.host).values_list("pk", flat=True))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = g.post(f"/api/v1/negotiations/{nid}/offers/", {"amount": "200.00"})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "open" and body["turn"] == "guest" and body["guest_rounds"] == 1
    assert body["notice"]["code"] == "offer_declined"
    assert BELOW in body["notice"]["detail"] and "200.00 EUR" in body["notice"]["detail"]
    assert body["offers"][-1]["declined"] is True
    last = Event.objects.filter(negotiation_id=nid).order_by("-seq").first()
    assert last.type == "offer.declined" and last.data["reason"] == "automatic"
    assert BELOW in last.data["detail"] and last.data["turn"] == "guest"
    # The host declined nothing and is told nothing: no bell item, no email.
    new_for_host = Notification.objects.filter(user=prop.host).exclude(pk__in=host_before)
    assert not new_for_host.exists()
    assert [m.to for m in mail.outbox if prop.host.email in m.to] == []
    # The guest goes on: a higher offer stands and reaches the host.
    with django_capture_on_commit_callbacks(execute=True):
        again = g.post(f"/api/v1/negotiations/{nid}/offers/", {"amount": "330.00"})
    assert again.status_code == 200 and again.json()["turn"] == "host"
    assert again.json()["notice"] is None
    assert Notification.objects.filter(
        user=prop.host, kind="negotiation.offer.created", data__amount="330.00"
    ).exists()


def test_an_idempotent_repeat_of_a_declined_offer_gets_the_same_words_and_no_round(prop):
    g = client_for(verified_guest())
    nid = g.post("/api/v1/negotiations/", _body(prop, message="Hi")).json()["id"]
    first = g.post(
        f"/api/v1/negotiations/{nid}/offers/", {"amount": "200.00"}, HTTP_IDEMPOTENCY_KEY="k1"
    ).json()
    repeat = g.post(
        f"/api/v1/negotiations/{nid}/offers/", {"amount": "200.00"}, HTTP_IDEMPOTENCY_KEY="k1"
    ).json()
    assert repeat["notice"] == first["notice"] and repeat["seq"] == first["seq"]
    assert repeat["guest_rounds"] == 1


def test_automatic_declines_count_toward_the_round_cap(prop):
    g = client_for(verified_guest())
    opened = g.post("/api/v1/negotiations/", _body(prop, "100.00")).json()
    assert opened["status"] == "open" and opened["notice"]["code"] == "offer_declined"
    nid = opened["id"]
    for amount in ("110.00", "120.00", "130.00", "140.00"):
        answer = g.post(f"/api/v1/negotiations/{nid}/offers/", {"amount": amount}).json()
        assert answer["notice"]["code"] == "offer_declined"
    assert answer["guest_rounds"] == settings.NEGOTIATION_MAX_ROUNDS
    assert "no offers left" in answer["notice"]["detail"]
    sixth = g.post(f"/api/v1/negotiations/{nid}/offers/", {"amount": "300.00"})
    assert sixth.status_code == 409 and _codes(sixth) == ["max_rounds_reached"]


def test_a_guest_cannot_offer_less_than_a_declined_offer(prop):
    g = client_for(verified_guest())
    nid = g.post("/api/v1/negotiations/", _body(prop, "250.00")).json()["id"]
    lower = g.post(f"/api/v1/negotiations/{nid}/offers/", {"amount": "240.00"})
    assert lower.status_code == 400 and _codes(lower) == ["offer_too_low"]


def test_after_an_automatic_decline_the_guest_may_accept_the_hosts_standing_counter(prop):
    guest = verified_guest()
    g, h = client_for(guest), client_for(prop.host)
    nid = g.post("/api/v1/negotiations/", _body(prop, "300.00")).json()["id"]
    assert h.post(f"/api/v1/negotiations/{nid}/offers/", {"amount": "340.00"}).status_code == 200
    # 310 is above the guest's 300 and below the host's 340, but under this floor (90/night)
    prop.floor_nightly_price = Decimal("90")
    prop.save(update_fields=["floor_nightly_price"])
    low = g.post(f"/api/v1/negotiations/{nid}/offers/", {"amount": "310.00"}).json()
    assert low["notice"]["code"] == "offer_declined" and low["turn"] == "guest"
    accepted = g.post(f"/api/v1/negotiations/{nid}/accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert Booking.objects.get().total == Decimal("340.00")


def test_a_guest_opens_at_most_opens_per_day_negotiations_per_listing(prop):
    guest = verified_guest()
    g = client_for(guest)
    limit = settings.NEGOTIATION_OPENS_PER_DAY
    assert limit == 3
    for _ in range(limit):
        nid = g.post("/api/v1/negotiations/", _body(prop, message="Hi")).json()["id"]
        assert g.post(f"/api/v1/negotiations/{nid}/withdraw/").status_code == 200
    refused = g.post("/api/v1/negotiations/", _body(prop, message="Hi"))
    assert refused.status_code == 409 and _codes(refused) == ["too_many_negotiations"]
    assert "at most 3 negotiations" in refused.json()["errors"][0]["detail"]
    # other dates of the same listing count too; another listing does not
    other_dates = g.post("/api/v1/negotiations/", _body(prop, message="Hi", days=60))
    assert other_dates.status_code == 409
    other = bookable_property(nightly="100.00")
    assert g.post("/api/v1/negotiations/", _body(other, message="Hi")).status_code == 201
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        g = client_for(guest)  # a fresh token: access tokens do not last a day
        assert g.post("/api/v1/negotiations/", _body(prop, message="Hi")).status_code == 201


def test_probing_the_floor_narrows_it_no_further_than_the_caps_allow(prop):
    """The attack of issue 17, then the best a guest can do within the caps.

    Before: open with an amount, read whether it was auto-declined, withdraw, reopen:
    a binary search found the floor total to the cent in 16 probes. Now every open counts
    (3 a day), a guest offer never goes below an earlier one (declined ones included) and
    at most 5 are made per negotiation, so a negotiation is at most 5 ascending probes that
    stop at the first one at or above the floor: 6 outcomes. 3 negotiations: 6**3 = 216
    outcomes, so the floor total stays within an interval of at least 1/216 of the range
    the guest started from (docs/money.md).
    """
    guest = verified_guest()
    g = client_for(guest)
    rounds, opens = settings.NEGOTIATION_MAX_ROUNDS, settings.NEGOTIATION_OPENS_PER_DAY

    # The old attack: binary search by reopening. It stops at the cap.
    lo, hi = Decimal("0.00"), Decimal("363.00")
    answers = []
    for _ in range(16):
        mid = ((lo + hi) / 2).quantize(Decimal("0.01"))
        response = g.post("/api/v1/negotiations/", _body(prop, mid))
        answers.append(response.status_code)
        if response.status_code != 201:
            assert _codes(response) == ["too_many_negotiations"]
            break
        body = response.json()
        if body["notice"]:
            lo = mid
        else:
            hi = mid
        g.post(f"/api/v1/negotiations/{body['id']}/withdraw/")
    assert answers == [201] * opens + [409]
    floor = _floor_total(Negotiation.objects.first().pk)
    assert lo < floor <= hi  # what the guest learnt is true, and no more than 3 probes' worth

    # The best strategy within the caps, on a fresh day: in each negotiation, offers
    # climbing through the interval in equal steps (binary search is impossible: after a
    # decline the next offer must be higher; after one that stands, the host's turn).
    lo, hi = Decimal("0.00"), Decimal("363.00")
    start_width = hi - lo
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        g = client_for(guest)  # a fresh token: access tokens do not last a day
        for _ in range(opens):
            step = (hi - lo) / (rounds + 1)
            probes = [(lo + step * (i + 1)).quantize(Decimal("0.01")) for i in range(rounds)]
            body = g.post("/api/v1/negotiations/", _body(prop, probes[0])).json()
            nid, stood = body["id"], body["notice"] is None
            tried = [probes[0]]
            for amount in probes[1:]:
                if stood:
                    break
                answer = g.post(f"/api/v1/negotiations/{nid}/offers/", {"amount": str(amount)})
                stood = answer.json()["notice"] is None
                tried.append(amount)
            if stood:
                hi = tried[-1]
                lo = tried[-2] if len(tried) > 1 else lo
            else:
                lo = tried[-1]
                # no sixth offer in this negotiation
                sixth = g.post(f"/api/v1/negotiations/{nid}/offers/", {"amount": str(hi)})
                assert sixth.status_code == 409 and _codes(sixth) == ["max_rounds_reached"]
            g.post(f"/api/v1/negotiations/{nid}/withdraw/")
        refused = g.post("/api/v1/negotiations/", _body(prop, hi))
        assert refused.status_code == 409 and _codes(refused) == ["too_many_negotiations"]
    assert lo < floor <= hi
    bound = start_width / (rounds + 1) ** opens
    assert hi - lo >= bound - Decimal("0.03"), (lo, hi, bound)  # rounding of the probes
    assert hi - lo > Decimal("1.50")  # 363.00 / 216 = 1.68: never the floor to the cent


@pytest.mark.django_db(transaction=True)
async def test_over_the_socket_an_offer_under_the_floor_is_acknowledged_in_words():
    @database_sync_to_async
    def setup():
        prop = bookable_property(nightly="100.00", floor_nightly_price=Decimal("80"))
        guest = verified_guest()
        outcome = services.negotiation_open(
            guest=guest, property_id=prop.pk, check_in=TODAY + timedelta(days=20),
            check_out=TODAY + timedelta(days=23), guests=2, stay_type="standard",
            message="Hello",
        )  # fmt: skip
        return outcome.negotiation, guest

    negotiation, guest = await setup()
    ws = WebsocketCommunicator(
        application,
        f"/ws/negotiations/{negotiation.pk}/?after={negotiation.last_seq}",
        headers=[
            (b"origin", b"http://localhost"),
            (b"authorization", f"Bearer {AccessToken.for_user(guest)}".encode()),
        ],
    )
    assert (await ws.connect())[0]
    await ws.send_json_to({"type": "offer", "amount": "150.00", "client_id": "c1"})
    frames = []
    for _ in range(10):
        frames.append(await ws.receive_json_from(timeout=3))
        if any(f.get("type") == "ack" for f in frames) and any(
            f.get("event") == "offer.declined" for f in frames
        ):
            break
    ack = next(f for f in frames if f.get("type") == "ack")
    assert ack["client_id"] == "c1" and ack["notice"]["code"] == "offer_declined"
    assert BELOW in ack["notice"]["detail"]
    declined = next(f for f in frames if f.get("event") == "offer.declined")
    assert declined["data"]["reason"] == "automatic" and declined["data"]["turn"] == "guest"
    assert not any(f.get("type") == "error" for f in frames)
    await ws.disconnect()

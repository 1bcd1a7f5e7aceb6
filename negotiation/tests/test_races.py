"""Negotiation races with real threads (real PostgreSQL in CI): exactly one outcome wins,
the loser gets a clean refusal, and event logs stay gap-free."""

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Booking
from bookings.tests.factories import bookable_property, verified_guest
from core.errors import ApplicationError
from negotiation import services
from negotiation.models import Event, Negotiation

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = timezone.now().date()
ROUNDS = 10


def _race(*jobs):
    barrier = threading.Barrier(len(jobs))

    def run(job):
        try:
            barrier.wait(timeout=10)
            return ("ok", job())
        except ApplicationError as exc:
            return (exc.code, None)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return [f.result() for f in [pool.submit(run, job) for job in jobs]]


def _gap_free(negotiation_id):
    seqs = list(
        Event.objects.filter(negotiation_id=negotiation_id)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))


def _open(prop, guest, days, amount="300.00"):
    return services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=TODAY + timedelta(days=days),
        check_out=TODAY + timedelta(days=days + 3), guests=1, stay_type="standard", amount=Decimal(amount),
    ).negotiation  # fmt: skip


def test_host_accepting_while_the_guest_withdraws():
    prop = bookable_property(nightly="100.00")
    for n in range(ROUNDS):
        guest = verified_guest()
        negotiation = _open(prop, guest, days=10 + 4 * n)
        results = _race(
            lambda nid=negotiation.pk: services.negotiation_accept(
                negotiation_id=nid, user=prop.host
            ),
            lambda nid=negotiation.pk, g=guest: services.negotiation_withdraw(
                negotiation_id=nid, user=g
            ),
        )
        negotiation.refresh_from_db()
        wins = [r for r in results if r[0] == "ok"]
        assert len(wins) == 1, results
        assert negotiation.status in ("accepted", "withdrawn")
        assert Booking.objects.filter(negotiation=negotiation).count() == (
            negotiation.status == "accepted"
        )
        assert [r[0] for r in results if r[0] != "ok"] == ["negotiation_closed"]
        _gap_free(negotiation.pk)


def test_both_sides_acting_on_the_same_turn():
    prop = bookable_property(nightly="100.00")
    for n in range(ROUNDS):
        guest = verified_guest()
        negotiation = _open(prop, guest, days=10 + 4 * n)
        results = _race(
            lambda nid=negotiation.pk: services.negotiation_offer(
                negotiation_id=nid, user=prop.host, amount=Decimal("350")
            ),
            lambda nid=negotiation.pk, g=guest: services.negotiation_offer(
                negotiation_id=nid, user=g, amount=Decimal("310")
            ),
        )
        # Some serial order happened: host first (both succeed) or guest first (refused).
        assert sorted(r[0] for r in results) in (["not_your_turn", "ok"], ["ok", "ok"]), results
        sides = list(negotiation.offers.order_by("pk").values_list("side", flat=True))
        assert all(a != b for a, b in itertools.pairwise(sides)), sides  # turns alternate
        negotiation.refresh_from_db()
        assert negotiation.turn != sides[-1]
        _gap_free(negotiation.pk)


def test_two_negotiations_on_the_same_dates_accepted_at_once():
    prop = bookable_property(nightly="100.00")
    for n in range(ROUNDS):
        days = 10 + 4 * n
        first, second = _open(prop, verified_guest(), days), _open(prop, verified_guest(), days + 1)
        results = _race(
            lambda nid=first.pk: services.negotiation_accept(negotiation_id=nid, user=prop.host),
            lambda nid=second.pk: services.negotiation_accept(negotiation_id=nid, user=prop.host),
        )
        assert sorted(str(r[0]) for r in results) == ["dates_unavailable", "ok"] or sorted(
            str(r[0]) for r in results
        ) == ["negotiation_closed", "ok"], results
        statuses = sorted(
            Negotiation.objects.filter(pk__in=[first.pk, second.pk]).values_list(
                "status", flat=True
            )
        )
        assert statuses == ["accepted", "unavailable"]
        assert (
            Booking.objects.filter(
                property=prop,
                check_in__lt=TODAY + timedelta(days=days + 4),
                check_out__gt=TODAY + timedelta(days=days),
            ).count()
            == 1
        )
        _gap_free(first.pk)
        _gap_free(second.pk)


def test_accept_racing_an_instant_booking_of_the_same_dates():
    prop = bookable_property(nightly="100.00", instant_book=True)
    for n in range(ROUNDS):
        days = 10 + 4 * n
        negotiation = _open(prop, verified_guest(), days)
        rival = verified_guest()
        results = _race(
            lambda nid=negotiation.pk: services.negotiation_accept(
                negotiation_id=nid, user=prop.host
            ),
            lambda d=days, g=rival: booking_services.booking_create(
                guest=g,
                property_id=prop.pk,
                check_in=TODAY + timedelta(days=d),
                check_out=TODAY + timedelta(days=d + 3),
                guests=1,
                stay_type="standard",
                payment_token="tok_ok",
            ),
        )
        assert sorted(str(r[0]) for r in results) in (
            ["dates_unavailable", "ok"],
            ["negotiation_closed", "ok"],
        ), results
        assert (
            Booking.objects.filter(property=prop, check_in=TODAY + timedelta(days=days)).count()
            == 1
        )
        negotiation.refresh_from_db()
        assert negotiation.status in ("accepted", "unavailable")
        _gap_free(negotiation.pk)

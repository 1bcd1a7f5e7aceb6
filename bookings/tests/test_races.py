"""No double booking, proven with real concurrency.

On PostgreSQL (``DATABASE_URL`` set) these run real threads against the real
database: each thread has its own connection and transaction. On SQLite they
run too; there the IMMEDIATE transaction serialises the writers.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import bookable_property, verified_guest
from bookings.tests.money import money_problems

pytestmark = pytest.mark.django_db(transaction=True)


def _run_concurrently(jobs, workers):
    barrier = threading.Barrier(workers)

    def run(job):
        try:
            barrier.wait(timeout=10)
            return job()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


def _attempt(guest, prop, check_in, nights):
    def job():
        try:
            booking, _ = services.booking_create(
                guest=guest,
                property_id=prop.pk,
                check_in=check_in,
                check_out=check_in + timedelta(days=nights),
                guests=1,
                stay_type="standard",
                payment_token="tok_ok",
            )
            return ("ok", booking.pk)
        except services.DatesUnavailable:
            return ("dates_unavailable", None)

    return job


def _overlapping_active_pairs() -> int:
    active = tuple(
        s.value
        for s in (
            BookingStatus.PENDING_HOST,
            BookingStatus.AWAITING_PAYMENT,
            BookingStatus.CONFIRMED,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
              ON a.property_id = b.property_id AND a.id < b.id
             AND a.check_in < b.check_out AND b.check_in < a.check_out
             WHERE a.status IN (%s, %s, %s) AND b.status IN (%s, %s, %s)
            """,
            active + active,
        )
        return cursor.fetchone()[0]


ROUNDS = 100 if connection.vendor == "postgresql" else 10


def test_sixteen_guests_racing_for_the_same_dates_yield_exactly_one_booking():
    prop = bookable_property(instant_book=True)
    guests = [verified_guest() for _ in range(16)]
    start = timezone.now().date() + timedelta(days=10)
    for round_no in range(ROUNDS):
        check_in = start + timedelta(days=3 * round_no)
        results = _run_concurrently([_attempt(g, prop, check_in, 2) for g in guests], 16)
        outcomes = sorted(r[0] for r in results)
        assert outcomes == ["dates_unavailable"] * 15 + ["ok"], f"round {round_no}: {outcomes}"
    assert Booking.objects.filter(property=prop).count() == ROUNDS
    assert _overlapping_active_pairs() == 0
    # every loser's card was authorized before the lock, then voided: none left dangling
    assert money_problems() == []


def test_overlapping_but_different_ranges_never_overlap_when_active():
    prop = bookable_property(instant_book=True)
    guests = [verified_guest() for _ in range(16)]
    start = timezone.now().date() + timedelta(days=10)
    for round_no in range(max(ROUNDS // 5, 4)):
        base = start + timedelta(days=20 * round_no)
        jobs = [
            _attempt(g, prop, base + timedelta(days=i % 6), 1 + i % 5) for i, g in enumerate(guests)
        ]
        results = _run_concurrently(jobs, 16)
        assert {r[0] for r in results} <= {"ok", "dates_unavailable"}
    assert _overlapping_active_pairs() == 0
    assert Booking.objects.filter(property=prop).exists()
    assert money_problems() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_dates_already_taken_are_refused_without_waiting_for_the_property_lock():
    """The losers of a burst do not queue behind a writer holding the property row."""
    prop = bookable_property()
    check_in = timezone.localdate() + timedelta(days=30)
    assert _attempt(verified_guest(), prop, check_in, 3)()[0] == "ok"
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock():
        from django.db import transaction

        try:
            with transaction.atomic():
                services.lock_property(prop.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with ThreadPoolExecutor(max_workers=2) as pool:
            taken = pool.submit(
                _run_concurrently, [_attempt(verified_guest(), prop, check_in, 2)], 1
            )
            free = pool.submit(
                _run_concurrently,
                [_attempt(verified_guest(), prop, check_in + timedelta(days=10), 2)],
                1,
            )
            # the taken dates are answered while the lock is still held ...
            assert taken.result(timeout=5) == [("dates_unavailable", None)]
            with pytest.raises(FuturesTimeout):  # ... free dates wait for the lock, then book
                free.result(timeout=1)
            release.set()
            assert free.result(timeout=10)[0][0] == "ok"
    finally:
        release.set()
        holder.join(timeout=10)

"""Ordered row locks with a lock timeout (core.locks), on rows every project has: content
types. The booking API's answer to a lock held too long is in
bookings/tests/test_lock_timeout.py."""

import time

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from core import locks
from core.tests.held_lock import HeldLock

pytestmark = pytest.mark.django_db(transaction=True)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and lock_timeout: PostgreSQL"
)


def test_rows_come_back_locked_in_primary_key_order():
    newest_first = ContentType.objects.order_by("-pk")
    with transaction.atomic():
        rows = locks.lock_rows(newest_first)
    pks = [row.pk for row in rows]
    assert len(pks) > 1 and pks == sorted(pks)


def test_locking_a_missing_row_is_does_not_exist():
    with pytest.raises(ContentType.DoesNotExist), transaction.atomic():
        locks.lock_one(ContentType.objects.filter(pk=-1))


@on_postgresql
def test_a_lock_held_past_the_timeout_is_a_503_with_retry_after(settings):
    settings.DB_LOCK_TIMEOUT_MS = 300
    row = ContentType.objects.order_by("pk").first()
    with HeldLock(ContentType.objects.filter(pk=row.pk)):
        started = time.monotonic()
        with pytest.raises(locks.LockTimeout) as raised, transaction.atomic():
            locks.lock_one(ContentType.objects.filter(pk=row.pk))
        waited = time.monotonic() - started
        assert 0.25 <= waited < 3, waited
        assert raised.value.status_code == 503 and raised.value.retry_after > 0
        assert raised.value.code == "service_unavailable"
        # other rows are not held up
        with transaction.atomic():
            assert locks.lock_rows(ContentType.objects.exclude(pk=row.pk))
    with transaction.atomic():  # released: the row locks at once
        assert locks.lock_one(ContentType.objects.filter(pk=row.pk)).pk == row.pk


@on_postgresql
def test_the_timeout_lasts_only_for_the_locking_transaction(settings):
    settings.DB_LOCK_TIMEOUT_MS = 1234
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        before = cursor.fetchone()[0]
    with transaction.atomic():
        locks.lock_rows(ContentType.objects.filter(app_label="contenttypes"))
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == "1234ms"
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == before

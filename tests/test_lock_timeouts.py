"""A row held locked past the lock timeout, wherever the waiting writer takes its lock: the
API answers ``503 service_unavailable`` with LockTimeout's words and ``Retry-After``, and
the calendar sync task tries again. Another real PostgreSQL connection holds the lock."""

import pytest
import time_machine
from django.db import connection

from accounts.models import User
from bookings.tests.factories import client_for, verified_guest
from core.locks import LockTimeout
from core.tests.held_lock import HeldLock
from properties import tasks
from properties.models import AvailabilityBlock, CalendarFeed, Property
from properties.tests.factories import PropertyFactory
from properties.tests.test_ical import AIRBNB, NOW, FeedServer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL"),
]


@pytest.fixture
def short_lock_timeout(settings):
    """This test's connection gives up waiting for a lock after 300 ms (the session's
    setting, as ``DB_LOCK_TIMEOUT_MS`` sets it when a connection opens)."""
    settings.DB_LOCK_TIMEOUT_MS = 300
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")


def _assert_lock_timeout(response):
    assert response.status_code == 503, response.json()
    [error] = response.json()["errors"]
    assert (error["code"], error["detail"]) == ("service_unavailable", LockTimeout.default_detail)
    assert response["Retry-After"] == str(LockTimeout.retry_after)


def test_a_lock_taken_outside_core_locks_is_answered_as_a_lock_timeout(short_lock_timeout):
    user = verified_guest()
    client = client_for(user)
    with HeldLock(User.objects.filter(pk=user.pk)):  # becoming a host locks the account's row
        _assert_lock_timeout(client.post("/api/v1/auth/become-host/"))
    user.refresh_from_db()
    assert not user.is_host

    assert client.post("/api/v1/auth/become-host/").status_code == 200


def test_deleting_a_feed_of_a_locked_listing_is_503_and_deletes_nothing(short_lock_timeout):
    prop = PropertyFactory()
    feed = CalendarFeed.objects.create(property=prop, url="https://example.com/a.ics", name="A")
    host = client_for(prop.host)
    path = f"/api/v1/properties/{prop.pk}/feeds/{feed.pk}/"
    with HeldLock(Property.objects.filter(pk=prop.pk)):
        _assert_lock_timeout(host.delete(path))
    assert CalendarFeed.objects.filter(pk=feed.pk).exists()

    assert host.delete(path).status_code == 204


def test_the_sync_task_tries_a_locked_listing_again(short_lock_timeout):
    conf = tasks.sync_calendar_feed.app.conf
    propagates, conf.task_eager_propagates = conf.task_eager_propagates, False
    prop = PropertyFactory(timezone="Europe/Lisbon")
    locked = HeldLock(Property.objects.filter(pk=prop.pk))
    try:
        with FeedServer() as server, time_machine.travel(NOW, tick=True):  # events ahead
            feed = CalendarFeed.objects.create(
                property=prop, url=server.serve("/airbnb.ics", AIRBNB), name="Airbnb"
            )
            with locked:  # apply(): run here whatever the app's eager setting (tests change it)
                outcome = tasks.sync_calendar_feed.apply((feed.pk,))
            # run here, each retry is made at once: every attempt met the lock
            assert isinstance(outcome.result, LockTimeout)
            assert len(server.hits) == 1 + tasks.SYNC_MAX_RETRIES
            assert not AvailabilityBlock.objects.filter(source=feed).exists()

            synced = tasks.sync_calendar_feed.apply((feed.pk,))
            assert synced.successful() and synced.result["error"] == "", synced.result
            assert AvailabilityBlock.objects.filter(source=feed).count() == 3
    finally:
        conf.task_eager_propagates = propagates

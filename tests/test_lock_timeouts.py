"""A row held locked past the lock timeout, wherever the waiting writer takes its lock: the
API answers ``503 service_unavailable`` with LockTimeout's words and ``Retry-After``, and
the calendar sync task tries again. Another real PostgreSQL connection holds the lock."""

import threading

import pytest
import time_machine
from django.db import connection, connections, transaction

from accounts.models import User
from bookings.tests.factories import client_for, verified_guest
from core.locks import LockTimeout
from properties import tasks
from properties.models import AvailabilityBlock, CalendarFeed, Property
from properties.tests.factories import PropertyFactory
from properties.tests.test_ical import AIRBNB, NOW, FeedServer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL"),
]


class HeldLock:
    """Another connection holds ``model``'s row ``pk`` locked until the block ends."""

    def __init__(self, model, pk: int):
        self.model, self.pk = model, pk
        self.locked, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self):
        try:
            with transaction.atomic():
                self.model.objects.select_for_update().get(pk=self.pk)
                self.locked.set()
                self.release.wait(timeout=30)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(timeout=10)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(timeout=10)


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


@pytest.fixture
def feed_server():
    server = FeedServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def _assert_lock_timeout(response):
    assert response.status_code == 503, response.json()
    [error] = response.json()["errors"]
    assert (error["code"], error["detail"]) == ("service_unavailable", LockTimeout.default_detail)
    assert response["Retry-After"] == str(LockTimeout.retry_after)


def test_a_lock_taken_outside_core_locks_is_answered_as_a_lock_timeout(short_lock_timeout):
    user = verified_guest()
    client = client_for(user)
    with HeldLock(User, user.pk):  # becoming a host locks the account's row
        _assert_lock_timeout(client.post("/api/v1/auth/become-host/"))
    user.refresh_from_db()
    assert not user.is_host

    assert client.post("/api/v1/auth/become-host/").status_code == 200


def test_deleting_a_feed_of_a_locked_listing_is_503_and_deletes_nothing(short_lock_timeout):
    prop = PropertyFactory()
    feed = CalendarFeed.objects.create(property=prop, url="https://example.com/a.ics", name="A")
    host = client_for(prop.host)
    path = f"/api/v1/properties/{prop.pk}/feeds/{feed.pk}/"
    with HeldLock(Property, prop.pk):
        _assert_lock_timeout(host.delete(path))
    assert CalendarFeed.objects.filter(pk=feed.pk).exists()

    assert host.delete(path).status_code == 204


def test_the_sync_task_tries_a_locked_listing_again(short_lock_timeout, feed_server, settings):
    conf = tasks.sync_calendar_feed.app.conf
    propagates, conf.task_eager_propagates = conf.task_eager_propagates, False
    prop = PropertyFactory(timezone="Europe/Lisbon")
    url = feed_server.serve("/airbnb.ics", AIRBNB)
    feed = CalendarFeed.objects.create(property=prop, url=url, name="Airbnb")
    try:
        with time_machine.travel(NOW, tick=True), HeldLock(Property, prop.pk):
            outcome = tasks.sync_calendar_feed.delay(feed.pk)
        # eager mode runs each retry at once: every attempt met the lock
        assert isinstance(outcome.result, LockTimeout)
        assert len(feed_server.hits) == 1 + tasks.SYNC_MAX_RETRIES
        assert not AvailabilityBlock.objects.filter(source=feed).exists()

        with time_machine.travel(NOW, tick=True):  # the feed's events are ahead of NOW
            assert tasks.sync_calendar_feed.delay(feed.pk).get()["error"] == ""
        assert AvailabilityBlock.objects.filter(source=feed).count() == 3
    finally:
        conf.task_eager_propagates = propagates

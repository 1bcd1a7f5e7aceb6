"""A host's imported iCal feeds: registering and removing them.

A host registers feed URLs (Airbnb, Booking.com, Google Calendar, ...); ``webcal://``
(and ``webcals://``) URLs are stored as ``https://``, and a URL that is not public is
refused (:mod:`properties.ical.fetch`). Registering runs the first sync within the
request with a short deadline (``ICAL_FIRST_SYNC_TIMEOUT``, 3 s): the answer says ``ok``
or the error, or ``pending`` when the feed did not answer in time (the sync is then
retried in the background, or by the hourly sweep). A property has at most
``MAX_FEEDS_PER_PROPERTY`` feeds; removing one removes the blocks it imported.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from core import locks
from core.errors import InvalidFields
from properties.ical.fetch import normalize_feed_url, url_problem
from properties.ical.sync import feed_sync, first_sync_timeout
from properties.models import AvailabilityBlock, CalendarFeed, Property
from properties.tasks import sync_calendar_feed

logger = logging.getLogger(__name__)

MAX_FEEDS_PER_PROPERTY = 10


def _invalid_url(detail: str, code: str = "invalid_url") -> InvalidFields:
    return InvalidFields.single("url", detail, code)


@dataclass
class FeedRegistration:
    feed: CalendarFeed
    sync: str  # ok | error | pending
    error: str = ""


def feed_create(*, prop: Property, url: str, name: str = "") -> CalendarFeed:
    """Register a feed (not synced here: see :func:`feed_register`)."""
    url = normalize_feed_url(url)
    problem = url_problem(url)  # resolves DNS: outside the transaction
    if problem:
        raise _invalid_url(problem)
    return _feed_insert(prop=prop, url=url, name=name)


def feed_register(*, prop: Property, url: str, name: str = "") -> FeedRegistration:
    """Register a feed and run its first sync now, within ``ICAL_FIRST_SYNC_TIMEOUT``.

    ``ok``: the blocks are in. ``error``: the feed answered something unusable (kept,
    with ``last_error``; the hourly sync tries again). ``pending``: it did not answer in
    time or failed in a way worth retrying; in services mode a background sync is queued,
    in the embedded mode (eager tasks, which would run inside this request) the hourly
    sweep takes it.
    """
    feed = feed_create(prop=prop, url=url, name=name)
    result = feed_sync(feed_id=feed.pk, timeout=first_sync_timeout())
    feed = result.feed or feed
    if not result.error:
        return FeedRegistration(feed=feed, sync="ok")
    if not result.retryable:
        return FeedRegistration(feed=feed, sync="error", error=result.error)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            sync_calendar_feed.apply_async((feed.pk,), countdown=60)
        except Exception:  # a broker hiccup: the hourly sweep picks the feed up anyway
            logger.warning("Could not queue the sync of feed %s", feed.pk, exc_info=True)
    return FeedRegistration(feed=feed, sync="pending", error=result.error)


@transaction.atomic
def _feed_insert(*, prop: Property, url: str, name: str) -> CalendarFeed:
    prop = locks.lock_one(Property.objects.filter(pk=prop.pk))
    feeds = CalendarFeed.objects.filter(property=prop)
    if feeds.filter(url=url).exists():
        raise _invalid_url("This feed is already registered.", code="unique")
    if feeds.count() >= MAX_FEEDS_PER_PROPERTY:
        raise InvalidFields.single(
            None,
            f"A property can have at most {MAX_FEEDS_PER_PROPERTY} feeds.",
            "too_many_feeds",
        )
    return CalendarFeed.objects.create(property=prop, url=url, name=name)


@transaction.atomic
def feed_delete(*, feed: CalendarFeed) -> None:
    """Removes the feed and every block it imported."""
    locks.lock_one(Property.objects.filter(pk=feed.property_id))
    AvailabilityBlock.objects.filter(source=feed).delete()
    feed.delete()

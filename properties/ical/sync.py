"""Syncing an imported iCal feed: its events mirrored as the property's blocks.

``feed_sync`` fetches one feed (:mod:`properties.ical.fetch`), parses it
(:mod:`properties.ical.parse`) and mirrors its events as blocks tagged ``source=feed,
external_uid=UID``: new events are created, changed ones updated, vanished ones
deleted. The network fetch runs outside any transaction; the write locks the property
row like every other calendar writer. Any fetch or parse failure records ``last_error``
and leaves the blocks as they were: a half-read feed must never delete blocks as
"vanished".

An event overlapping a holding booking is still recorded as a block. The external
calendar is the truth for its channel; refusing it would only hide the double booking
from the host. The booking keeps its dates (availability shows ``booked`` first) and
nobody else can book them.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import locks
from properties.ical import fetch
from properties.ical.fetch import FeedError
from properties.ical.parse import FeedEvent, parse_feed
from properties.models import AvailabilityBlock, CalendarFeed, Property


def first_sync_timeout() -> float:
    """The download deadline of a sync a person waits for (registering, "sync now")."""
    return float(getattr(settings, "ICAL_FIRST_SYNC_TIMEOUT", 3))


@dataclass
class FeedSyncResult:
    feed: CalendarFeed | None
    created: int = 0
    updated: int = 0
    deleted: int = 0
    error: str = ""
    retryable: bool = False


@transaction.atomic
def _feed_apply(*, feed_id: int, events: list[FeedEvent]) -> FeedSyncResult:
    feed = CalendarFeed.objects.filter(pk=feed_id).first()
    if feed is None:
        return FeedSyncResult(feed=None, error="The feed was deleted.")
    locks.lock_one(Property.objects.filter(pk=feed.property_id))
    feed = CalendarFeed.objects.filter(pk=feed_id).first()  # may be gone once we hold the lock
    if feed is None:
        return FeedSyncResult(feed=None, error="The feed was deleted.")
    result = FeedSyncResult(feed=feed)
    existing = {
        block.external_uid: block for block in AvailabilityBlock.objects.filter(source=feed)
    }
    new_blocks = []
    for event in events:
        block = existing.pop(event.uid, None)
        if block is None:
            new_blocks.append(
                AvailabilityBlock(
                    property_id=feed.property_id,
                    source=feed,
                    external_uid=event.uid,
                    start=event.start,
                    end=event.end,
                    note=event.note,
                )
            )
        elif (block.start, block.end, block.note) != (event.start, event.end, event.note):
            block.start, block.end, block.note = event.start, event.end, event.note
            block.save(update_fields=["start", "end", "note"])
            result.updated += 1
    AvailabilityBlock.objects.bulk_create(new_blocks)
    result.created = len(new_blocks)
    if existing:
        AvailabilityBlock.objects.filter(pk__in=[b.pk for b in existing.values()]).delete()
    result.deleted = len(existing)
    feed.last_synced_at = timezone.now()
    feed.last_error = ""
    feed.save(update_fields=["last_synced_at", "last_error"])
    return result


def feed_sync(
    *, feed_id: int, now: datetime | None = None, timeout: float | None = None
) -> FeedSyncResult:
    """Fetch one feed and mirror its events as blocks; failures only set ``last_error``.

    ``timeout`` bounds the download (``ICAL_FETCH_TIMEOUT`` otherwise): the request paths
    (registering, "sync now") pass a short one."""
    feed = CalendarFeed.objects.select_related("property").filter(pk=feed_id).first()
    if feed is None:
        return FeedSyncResult(feed=None, error="The feed was deleted.")
    prop = feed.property
    tz = ZoneInfo(prop.timezone or "UTC")
    today = (now or timezone.now()).astimezone(tz).date()
    try:
        body = fetch.fetch_feed(feed.url, timeout=timeout)
        events = parse_feed(body, tz=tz, today=today, check_out_time=prop.check_out_time)
    except FeedError as exc:
        message = str(exc)[:1000]
        CalendarFeed.objects.filter(pk=feed_id).update(last_error=message)
        feed.refresh_from_db(fields=["last_error", "last_synced_at"])
        return FeedSyncResult(feed=feed, error=message, retryable=exc.retryable)
    return _feed_apply(feed_id=feed_id, events=events)

"""Calendar feed sync. Thin: each task calls one idempotent service."""

from celery import shared_task

from core.locks import LockTimeout
from properties.ical import sync
from properties.models import CalendarFeed, Property

SYNC_MAX_RETRIES = 3


@shared_task(bind=True, acks_late=True, max_retries=SYNC_MAX_RETRIES)
def sync_calendar_feed(self, feed_id: int) -> dict:
    """Sync one feed; network errors and 5xx answers are retried with backoff (1, 2, 4 min),
    and so is a listing locked past ``DB_LOCK_TIMEOUT_MS`` (sooner: 2, 4, 8 s)."""
    try:
        result = sync.feed_sync(feed_id=feed_id)
    except LockTimeout as exc:
        countdown = LockTimeout.retry_after * 2**self.request.retries
        raise self.retry(exc=exc, countdown=countdown) from exc
    if result.retryable and self.request.retries < SYNC_MAX_RETRIES:
        raise self.retry(countdown=60 * 2**self.request.retries)
    return {
        "feed": feed_id,
        "created": result.created,
        "updated": result.updated,
        "deleted": result.deleted,
        "error": result.error,
    }


@shared_task(acks_late=True)
def sync_all_calendar_feeds() -> int:
    """Enqueue one sync per feed of a non-archived property (hourly, see config/celery_app.py)."""
    feed_ids = list(
        CalendarFeed.objects.exclude(property__status=Property.Status.ARCHIVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for feed_id in feed_ids:
        sync_calendar_feed.delay(feed_id)
    return len(feed_ids)

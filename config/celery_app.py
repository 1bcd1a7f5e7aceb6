"""The Celery app and its beat schedule.

Worker: ``celery -A config.celery_app worker``; beat: ``... beat``.

The beat schedule's jobs are idempotent, bounded per run and safe to overlap. With a
Redis broker nothing is scheduled further ahead than the visibility timeout: distant
work (hold expiry, reminders) is found by these sweeps instead.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

BEAT_SCHEDULE = {
    "expire-lapsed-holds": {
        "task": "bookings.tasks.expire_lapsed_holds",
        "schedule": 60.0,
    },
    # payment steps a crash or a failed gateway call left pending (after 5 minutes' grace)
    "reconcile-payments": {
        "task": "bookings.tasks.reconcile_payments",
        "schedule": 300.0,
    },
    "expire-due-negotiations": {
        "task": "negotiation.tasks.expire_due_negotiations",
        "schedule": 60.0,
    },
    "complete-finished-stays": {
        "task": "bookings.tasks.complete_finished_stays",
        "schedule": crontab(minute=5),
    },
    "remind-expiring-requests": {
        "task": "bookings.tasks.remind_expiring_requests",
        "schedule": crontab(minute="*/15"),
    },
    # Hourly, so "the day before" is right in every property's time zone.
    "remind-check-ins": {
        "task": "bookings.tasks.remind_check_ins",
        "schedule": crontab(minute=0),
    },
    "publish-due-reviews": {
        "task": "bookings.tasks.publish_due_reviews",
        "schedule": crontab(minute=15),
    },
    "import-ical-feeds": {
        "task": "properties.tasks.sync_all_calendar_feeds",
        "schedule": crontab(minute=25),
    },
    "requeue-unqueued-emails": {
        "task": "notifications.tasks.requeue_unqueued_emails",
        "schedule": 300.0,
    },
    "recompute-superhosts": {
        "task": "negotiation.tasks.recompute_superhosts",
        "schedule": crontab(hour=3, minute=30),
    },
}

app = Celery("parley")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = BEAT_SCHEDULE
app.autodiscover_tasks()

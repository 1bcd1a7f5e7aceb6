"""Celery beat schedule. Jobs are idempotent, bounded per run and safe to overlap.

With a Redis broker nothing is scheduled further ahead than the visibility
timeout: distant work (hold expiry, reminders) is found by these sweeps instead.
"""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "expire-lapsed-holds": {
        "task": "bookings.tasks.expire_lapsed_holds",
        "schedule": 60.0,
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
        "task": "bookings.tasks.recompute_superhosts",
        "schedule": crontab(hour=3, minute=30),
    },
}

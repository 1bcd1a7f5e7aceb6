"""A killed worker's tasks reach another worker within minutes: the Redis visibility
timeout is 5 minutes by default, and no task is retried or scheduled further ahead than
it (an ETA task waits unacknowledged in a worker; past the timeout Redis would hand it to
a second one). The live counterpart is tests/test_email_delivery_worker.py."""

import os
import subprocess
import sys

from django.conf import settings

from config.celery_app import app
from properties.tasks import SYNC_MAX_RETRIES
from tests.live_server import ROOT

DEFAULT_VISIBILITY_TIMEOUT = 300


def test_visibility_timeout_defaults_to_five_minutes_and_follows_the_environment():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"

    def timeout(**extra):
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={**env, **extra},
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        return int(result.stdout.strip().splitlines()[-1])

    assert timeout() == DEFAULT_VISIBILITY_TIMEOUT
    assert timeout(CELERY_VISIBILITY_TIMEOUT="120") == 120


def _longest_retry_delay(task) -> float:
    if not getattr(task, "autoretry_for", ()):
        return 0  # retried, if at all, by explicit countdowns (listed in the test)
    if not getattr(task, "retry_backoff", False):
        return task.default_retry_delay
    ceiling = getattr(task, "retry_backoff_max", 600)
    return min(ceiling, float(task.retry_backoff) * 2 ** (task.max_retries - 1))


def test_no_task_is_retried_or_scheduled_further_ahead_than_the_visibility_timeout():
    app.loader.import_default_modules()
    tasks = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert "notifications.tasks.send_notification_email" in tasks
    delays = {name: _longest_retry_delay(task) for name, task in tasks.items()}
    # Explicit countdowns: iCal sync retries after 1, 2, 4 minutes; a first sync after 1.
    delays["properties.tasks.sync_calendar_feed"] = 60 * 2 ** (SYNC_MAX_RETRIES - 1)
    assert settings.CELERY_RETRY_DELAY_MAX < DEFAULT_VISIBILITY_TIMEOUT
    too_far = {name: d for name, d in delays.items() if d > settings.CELERY_RETRY_DELAY_MAX}
    assert too_far == {}
    for entry in app.conf.beat_schedule.values():  # beat sends at once, never with an ETA
        assert not {"countdown", "eta"} & set(entry.get("options", {}))

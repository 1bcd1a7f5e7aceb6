"""The Celery app for tests that kill a worker at a named step of an email send.

``celery -A tests.email_worker_app worker`` runs the real app with one test hook:
``PARLEY_EMAIL_KILL`` is a JSON object ``{email key: step}`` (steps of
``notifications.delivery.STEPS``); the worker SIGKILLs itself right after that step of
that key's send, once per key (a marker file in ``PARLEY_EMAIL_KILL_DIR`` records it),
so the next worker to get the task finishes the send.
"""

import hashlib
import json
import os
import signal

import django

from config.celery_app import app  # noqa: F401 -- the app celery -A finds here

django.setup()

from notifications import delivery  # noqa: E402 -- needs the app registry


def _kill_at_step(step: str, key: str) -> None:
    plan = json.loads(os.environ.get("PARLEY_EMAIL_KILL", "{}"))
    if plan.get(key) != step:
        return
    marker = os.path.join(
        os.environ["PARLEY_EMAIL_KILL_DIR"], hashlib.sha256(key.encode()).hexdigest()
    )
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return  # killed once for this key already
    os.kill(os.getpid(), signal.SIGKILL)


delivery.STEP_HOOKS.append(_kill_at_step)

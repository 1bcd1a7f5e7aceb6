"""Email delivery with real Celery worker processes on Redis and a real SMTP server
(aiosmtpd) on loopback, in services mode.

- A worker SIGKILLed between any two steps of a send (claim, render, connect, DATA, mark
  sent) never loses the email, and every copy of it carries the same ``Message-ID``
  (docs/email.md).
- A task left unacknowledged by a killed worker reaches another worker once the
  visibility timeout passes (a short one here; 300 s by default).
- The normal path and an SMTP outage deliver every email exactly once.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from celery import Celery
from django.conf import settings
from django.db import connection

from notifications.delivery import STEPS, message_id_for
from notifications.emails import email_key_and_template
from notifications.models import EmailLog, Notification
from properties.tests.factories import GuestFactory
from tests.live_server import ROOT, free_port, services_env

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="needs the real PostgreSQL and Redis (DATABASE_URL, REDIS_URL)",
    ),
]

VISIBILITY_TIMEOUT = 3  # seconds, in the workers of these tests (300 by default)
TASK = "notifications.tasks.send_notification_email"


class RecordingHandler:
    """Records (email key, Message-ID) of every accepted message; can refuse (outage)."""

    def __init__(self):
        self.delivered: list[tuple[str, str]] = []
        self.outage = threading.Event()
        self.refused = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.outage.is_set():
            self.refused += 1
            return "421 Service not available, try again later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        self.delivered.append((message["X-Parley-Email-Key"], message["Message-ID"]))
        return "250 Message accepted"

    def copies(self) -> dict[str, list[str]]:
        by_key = defaultdict(list)
        for key, message_id in list(self.delivered):
            by_key[key].append(message_id)
        return by_key


@contextmanager
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


class Workers:
    """Celery worker processes (``tests.email_worker_app``), one at a time or more."""

    def __init__(self, env):
        self.env = env
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.email_worker_app", "worker",
             "--pool=solo", "--without-heartbeat", "--without-gossip", "--without-mingle",
             "--loglevel=WARNING"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def broker(tmp_path):
    """(send(notification), workers(smtp_port, kill={key: step})): a queue and broker key
    prefix of this test's own, so its short visibility timeout touches no other run's
    unacknowledged tasks."""
    prefix = f"test-email-{uuid.uuid4().hex[:8]}:"
    queue = "emails"
    options = {"global_keyprefix": prefix, "visibility_timeout": VISIBILITY_TIMEOUT}
    # Not the current app: the project's tasks in this process stay on the project's app
    # (eager in tests) after this test, instead of going to this one's broker.
    sender = Celery("parley-test-sender", broker=settings.CELERY_BROKER_URL, set_as_current=False)
    sender.conf.broker_transport_options = options
    started: list[Workers] = []

    def send(notification):
        sender.send_task(TASK, args=[notification.pk], queue=queue)

    def workers(smtp_port, kill=None):
        import json

        env = services_env(
            settings=settings,
            connection=connection,
            EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
            CELERY_TASK_DEFAULT_QUEUE=queue,
            CELERY_BROKER_KEY_PREFIX=prefix,
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            CELERY_UNACKED_RESTORE_INTERVAL="1",
            CELERY_UNACKED_RESTORE_THROTTLE="1",
            PARLEY_EMAIL_KILL=json.dumps(kill or {}),
            PARLEY_EMAIL_KILL_DIR=str(tmp_path),
        )
        pool = Workers(env)
        started.append(pool)
        return pool

    try:
        yield send, workers
    finally:
        for pool in started:
            pool.stop()
        sender.close()


def _notifications(count):
    user = GuestFactory()
    return [
        Notification.objects.create(
            user=user, kind="booking.confirmed", data={"id": n, "total": "1"}
        )
        for n in range(count)
    ]


def _key(notification) -> str:
    return email_key_and_template(notification)[0]


def _wait(predicate, timeout, *, tick=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick:
            tick()
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_worker_killed_between_any_two_steps_never_loses_an_email_and_copies_share_one_message_id(
    broker,
):
    send, workers = broker
    notifications = _notifications(len(STEPS))
    kill = {_key(n): step for n, step in zip(notifications, STEPS, strict=True)}
    with smtp_server() as (handler, port):
        pool = workers(port, kill=kill)
        worker = pool.start()
        deaths = 0
        for notification in notifications:
            send(notification)

        def restart_the_dead():
            nonlocal worker, deaths
            if worker.poll() is not None:  # killed itself at a step: another takes over
                assert worker.returncode == -signal.SIGKILL
                deaths += 1
                worker = pool.start()

        everything = {_key(n) for n in notifications}
        assert _wait(
            lambda: deaths == len(STEPS) and set(handler.copies()) == everything
            and EmailLog.objects.filter(status="sent").count() == len(STEPS),
            len(STEPS) * (VISIBILITY_TIMEOUT + 15), tick=restart_the_dead,
        ), (deaths, handler.delivered)  # fmt: skip
        time.sleep(VISIBILITY_TIMEOUT + 3)  # no further copy comes
        restart_the_dead()
        assert deaths == len(STEPS)
    copies = handler.copies()
    for key, step in kill.items():
        assert set(copies[key]) == {message_id_for(key)}, (step, copies[key])
        # Only a worker killed after DATA and before marking the row can repeat a copy.
        assert len(copies[key]) == (2 if step == "delivered" else 1), (step, copies[key])
    logs = {log.key: log for log in EmailLog.objects.all()}
    assert {key: logs[key].status for key in kill} == dict.fromkeys(kill, "sent")
    assert logs[next(k for k, s in kill.items() if s == "marked")].attempts == 1


def test_task_left_unacked_by_a_killed_worker_reaches_another_worker_after_the_timeout(broker):
    send, workers = broker
    (notification,) = _notifications(1)
    with smtp_server() as (handler, port):
        pool = workers(port, kill={_key(notification): "claimed"})
        first = pool.start()
        send(notification)
        first.wait(timeout=60)
        killed_at = time.monotonic()
        assert first.returncode == -signal.SIGKILL and handler.delivered == []
        pool.start()
        assert _wait(lambda: handler.delivered, VISIBILITY_TIMEOUT + 20), "never redelivered"
        # Worker start-up (a few seconds) + the visibility timeout + one restore sweep.
        assert time.monotonic() - killed_at < VISIBILITY_TIMEOUT + 20
    assert handler.delivered == [(_key(notification), message_id_for(_key(notification)))]
    assert EmailLog.objects.get().attempts == 2


def test_real_smtp_and_worker_deliver_each_email_exactly_once(broker):
    send, workers = broker
    notifications = _notifications(4)
    with smtp_server() as (handler, port):
        workers(port).start()
        for notification in notifications:
            send(notification)
        assert _wait(lambda: len(handler.delivered) >= 4, 60), handler.delivered
        time.sleep(VISIBILITY_TIMEOUT + 2)  # a redelivery would have come by now
    assert sorted(handler.delivered) == sorted(
        (_key(n), message_id_for(_key(n))) for n in notifications
    )
    assert list(EmailLog.objects.values_list("status", "attempts").distinct()) == [("sent", 1)]


def test_smtp_outage_then_recovery_delivers_every_email_once(broker):
    send, workers = broker
    notifications = _notifications(5)
    with smtp_server() as (handler, port):
        handler.outage.set()
        workers(port).start()
        for notification in notifications:
            send(notification)
        assert _wait(lambda: handler.refused >= 5, 30), "the outage was never hit"
        handler.outage.clear()
        assert _wait(lambda: len(handler.delivered) >= 5, 90), handler.delivered
        time.sleep(VISIBILITY_TIMEOUT + 2)
    assert sorted(key for key, _ in handler.delivered) == sorted(_key(n) for n in notifications)
    assert set(EmailLog.objects.values_list("status", flat=True)) == {"sent"}

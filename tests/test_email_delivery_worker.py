"""Email delivery with a real Celery worker process on Redis and a real SMTP server
(aiosmtpd) on loopback: a worker killed with SIGKILL mid-send, and an SMTP outage,
both end with every email delivered exactly once."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from config.celery_app import app as celery_app
from notifications.models import EmailLog, Notification
from notifications.tasks import send_notification_email
from properties.tests.factories import GuestFactory
from tests.live_server import ROOT, free_port, services_env

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="needs the real PostgreSQL and Redis (DATABASE_URL, REDIS_URL)",
    ),
]


class RecordingHandler:
    """Counts delivered messages per email key; can stall at MAIL FROM or refuse (outage)."""

    def __init__(self):
        self.delivered: list[str] = []
        self.stall_next_mail = threading.Event()
        self.mail_started = threading.Event()
        self.outage = threading.Event()
        self.refused = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_started.set()
        if self.stall_next_mail.is_set():
            self.stall_next_mail.clear()
            await asyncio.sleep(30)  # the worker is killed meanwhile
        if self.outage.is_set():
            self.refused += 1
            return "421 Service not available, try again later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        self.delivered.append(message["X-Parley-Email-Key"])
        return "250 Message accepted"


@contextmanager
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@contextmanager
def celery_worker(env):
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config.celery_app", "worker", "--pool=solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture
def queue_env():
    queue = f"test-email-{uuid.uuid4().hex[:8]}"

    def env_for(smtp_port):
        return services_env(
            settings=settings,
            connection=connection,
            EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
            CELERY_TASK_DEFAULT_QUEUE=queue,
            CELERY_VISIBILITY_TIMEOUT="4",
            CELERY_UNACKED_RESTORE_INTERVAL="1",
            CELERY_UNACKED_RESTORE_THROTTLE="1",
        )

    celery_app.conf.task_always_eager = False
    try:
        yield queue, env_for
    finally:
        celery_app.conf.task_always_eager = True


def _notifications(count):
    user = GuestFactory()
    return [
        Notification.objects.create(
            user=user, kind="booking.confirmed", data={"id": n, "total": "1"}
        )
        for n in range(count)
    ]


def _wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_worker_killed_mid_send_delivers_exactly_once(queue_env):
    queue, env_for = queue_env
    (notification,) = _notifications(1)
    with smtp_server() as (handler, port):
        handler.stall_next_mail.set()
        with celery_worker(env_for(port)) as first:
            send_notification_email.apply_async(args=[notification.pk], queue=queue)
            assert handler.mail_started.wait(30), "the worker never reached the SMTP server"
            os.killpg(first.pid, signal.SIGKILL)
        assert handler.delivered == []
        with celery_worker(env_for(port)):
            assert _wait(lambda: len(handler.delivered) >= 1, 60), "never redelivered"
            time.sleep(6)  # longer than the visibility timeout: no second copy may come
        assert handler.delivered == [f"{notification.pk}:booking_confirmed"]
    log = EmailLog.objects.get()
    assert log.status == "sent" and log.attempts == 2


def test_smtp_outage_then_recovery_delivers_every_email_once(queue_env):
    queue, env_for = queue_env
    notifications = _notifications(5)
    with smtp_server() as (handler, port):
        handler.outage.set()
        with celery_worker(env_for(port)):
            for notification in notifications:
                send_notification_email.apply_async(args=[notification.pk], queue=queue)
            assert _wait(lambda: handler.refused >= 5, 30), "the outage was never hit"
            handler.outage.clear()
            assert _wait(lambda: len(handler.delivered) >= 5, 90), handler.delivered
            time.sleep(6)
        assert sorted(handler.delivered) == sorted(
            f"{n.pk}:booking_confirmed" for n in notifications
        )
    assert set(EmailLog.objects.values_list("status", flat=True)) == {"sent"}

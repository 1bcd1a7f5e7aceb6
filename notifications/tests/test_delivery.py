"""The delivery guarantee in-process (docs/email.md): a send interrupted after any of its
steps and run again delivers the email, every copy with the Message-ID derived from its
key. The real-worker version (SIGKILL, Redis, SMTP) is tests/test_email_delivery_worker.py."""

import pytest
from django.core import mail

from notifications import delivery
from notifications.emails import send_notification_email
from notifications.models import EmailLog, Notification
from properties.tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


class WorkerDied(BaseException):
    """Stands for a SIGKILL: nothing after it runs, no except Exception catches it."""


@pytest.fixture
def die_after(monkeypatch):
    hooks: list = []
    monkeypatch.setattr(delivery, "STEP_HOOKS", hooks)

    def arm(step):
        fired = []

        def hook(name, key):
            if name == step and not fired:
                fired.append(key)
                raise WorkerDied(step)

        hooks[:] = [hook]

    return arm


@pytest.mark.parametrize("step", delivery.STEPS)
def test_a_send_interrupted_after_any_step_delivers_with_one_message_id(step, die_after):
    notification = Notification.objects.create(
        user=GuestFactory(), kind="booking.confirmed", data={"id": 1, "total": "1"}
    )
    key = f"{notification.pk}:booking_confirmed"
    die_after(step)
    with pytest.raises(WorkerDied):
        send_notification_email(notification.pk)
    send_notification_email(notification.pk)  # the redelivered task
    ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert ids == [delivery.message_id_for(key)] * (2 if step == "delivered" else 1)
    assert mail.outbox[0].message()["Message-ID"] == delivery.message_id_for(key)
    assert EmailLog.objects.get().status == "sent"


def test_message_ids_differ_between_emails_and_name_the_senders_domain():
    first, second = delivery.message_id_for("1:a"), delivery.message_id_for("2:a")
    assert first != second and first == delivery.message_id_for("1:a")
    assert first.startswith("<parley.") and first.endswith("@parley.local>")

"""Email delivery tasks (take ids, acks_late, survive worker loss, bounded retries) and
how a notification's email is put on the broker: if the broker is down, the email log
notes it and the periodic sweep queues it later."""

import logging
import smtplib

from celery import shared_task
from django.conf import settings

from core.errors import REDIS_OUTAGE
from notifications import emails
from notifications.models import EmailLog, Notification

logger = logging.getLogger(__name__)

SMTP_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)

# How the email log marks an email whose task never reached the broker.
NOT_QUEUED = "not queued"


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=SMTP_ERRORS,
    retry_backoff=2,
    retry_backoff_max=settings.CELERY_RETRY_DELAY_MAX,  # under the visibility timeout
    retry_jitter=True,
    max_retries=30,  # an SMTP outage of about an hour (docs/email.md)
)
def send_notification_email(self, notification_id: int) -> str:
    return emails.send_notification_email(notification_id)


@shared_task
def requeue_unqueued_emails() -> int:
    """Queue the emails whose task could not reach the broker (a Redis outage)."""
    return requeue_unqueued()


def queue_notification_email(notification_id: int) -> bool:
    """Queue the email task; if the broker is down, note it in the email log instead, for
    :func:`requeue_unqueued` to queue later. The caller's transaction has committed
    already: a broker outage must not turn a stored action into an error."""
    try:
        send_notification_email.delay(notification_id)
        return True
    except REDIS_OUTAGE as exc:  # the broker is unreachable: anything else is a bug
        logger.warning("email of notification %s not queued: %s", notification_id, exc)
        notification = Notification.objects.select_related("user").get(pk=notification_id)
        key, template = emails.email_key_and_template(notification)
        EmailLog.objects.get_or_create(
            key=key,
            defaults={
                "to": notification.user.email,
                "template": template,
                "last_error": f"{NOT_QUEUED}: {exc}"[:1000],
            },
        )
        return False


def requeue_unqueued(*, batch: int = 200) -> int:
    """Queue the emails that could not be queued when their notification was made.

    Each row is claimed (its note changed) before its task is queued, so overlapping
    sweeps queue it once; a failed attempt puts the note back for the next sweep.
    """
    requeued = 0
    rows = EmailLog.objects.filter(
        status=EmailLog.Status.PENDING, attempts=0, last_error__startswith=NOT_QUEUED
    ).order_by("pk")[:batch]
    for row in rows:
        claimed = EmailLog.objects.filter(pk=row.pk, last_error=row.last_error).update(
            last_error="queued by the sweep"
        )
        if not claimed:
            continue
        notification_id = int(row.key.split(":", 1)[0])
        if queue_notification_email(notification_id):
            requeued += 1
        else:
            EmailLog.objects.filter(pk=row.pk).update(last_error=row.last_error)
    return requeued

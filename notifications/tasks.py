"""Email delivery tasks: take ids, acks_late, survive worker loss, bounded retries."""

import smtplib

from celery import shared_task
from django.conf import settings

from notifications import emails

SMTP_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)


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
    from notifications.services import requeue_unqueued_emails as requeue

    return requeue()

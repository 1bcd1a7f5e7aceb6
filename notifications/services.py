"""``notify(...)``: the one way other apps create a notification. The row is written in
the caller's transaction; the live frame leaves after commit."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from config.errors import REDIS_OUTAGE
from notifications.events import publish_to_users
from notifications.models import EmailLog, Notification, NotificationPreference

logger = logging.getLogger(__name__)

# How the email log marks an email whose task never reached the broker.
NOT_QUEUED = "not queued"


def notify(*, user_id: int, kind: str, data: dict, dedupe_key: str = "") -> Notification:
    """Store a notification, push it live after commit, and email it if the kind has an
    email and the user wants it."""
    notification = Notification.objects.create(
        user_id=user_id, kind=kind, data=data, dedupe_key=dedupe_key
    )
    announce(notification)
    return notification


def announce(notification: Notification) -> None:
    """What follows a stored notification: its live frame after commit, and its email if
    the kind has one and the user wants it."""
    from notifications.emails import TEMPLATES

    publish_to_users([notification.user_id], notification.as_frame())
    if notification.kind in TEMPLATES and email_wanted(
        user_id=notification.user_id, kind=notification.kind
    ):
        transaction.on_commit(lambda: queue_notification_email(notification.pk))


def queue_notification_email(notification_id: int) -> bool:
    """Queue the email task; if the broker is down, note it in the email log instead, for
    :func:`requeue_unqueued_emails` to queue later. The caller's transaction has committed
    already: a broker outage must not turn a stored action into an error."""
    from notifications.emails import email_key_and_template
    from notifications.tasks import send_notification_email

    try:
        send_notification_email.delay(notification_id)
        return True
    except REDIS_OUTAGE as exc:  # the broker is unreachable: anything else is a bug
        logger.warning("email of notification %s not queued: %s", notification_id, exc)
        notification = Notification.objects.select_related("user").get(pk=notification_id)
        key, template = email_key_and_template(notification)
        EmailLog.objects.get_or_create(
            key=key,
            defaults={
                "to": notification.user.email,
                "template": template,
                "last_error": f"{NOT_QUEUED}: {exc}"[:1000],
            },
        )
        return False


def requeue_unqueued_emails(*, batch: int = 200) -> int:
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


def notify_once(*, user_id: int, kind: str, key: str, data: dict) -> Notification | None:
    """Like :func:`notify`, but at most once per user, kind and ``key`` (reminders)."""
    try:
        with transaction.atomic():
            return notify(user_id=user_id, kind=kind, data=data, dedupe_key=key)
    except IntegrityError:
        return None  # another sweep got there first


def email_wanted(*, user_id: int, kind: str) -> bool:
    preference = NotificationPreference.objects.filter(user_id=user_id, kind=kind).first()
    return preference.email if preference else True


@transaction.atomic
def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the given notifications (or all, with ``ids=None``) of ``user`` as read."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


@transaction.atomic
def preference_set(*, user: User, kind: str, email: bool) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, kind=kind, defaults={"email": email}
    )
    return preference

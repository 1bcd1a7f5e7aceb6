"""``notify(...)``: the one way other apps create a notification. The row is written in
the caller's transaction; the live frame leaves after commit."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.errors import REDIS_OUTAGE
from notifications.events import publish_to_users
from notifications.models import EmailLog, Notification, NotificationPreference
from notifications.recipients import ALWAYS_EMAILED, RULES, actor_role, recipients

logger = logging.getLogger(__name__)

# How the email log marks an email whose task never reached the broker.
NOT_QUEUED = "not queued"


def tell(
    *, kind: str, guest_id: int, host_id: int, actor_id: int | None, data: dict
) -> list[Notification]:
    """Notify the parties of a booking or negotiation as the table says
    (:mod:`notifications.recipients`): who is told, by who acted, and who is emailed."""
    actor = actor_role(actor_id=actor_id, guest_id=guest_id, host_id=host_id)
    user_ids = {"guest": guest_id, "host": host_id}
    return [
        notify(user_id=user_ids[role], kind=kind, data=data, email="email" in channels)
        for role, channels in recipients(kind, actor).items()
    ]


def notify(
    *, user_id: int, kind: str, data: dict, dedupe_key: str = "", email: bool | None = None
) -> Notification:
    """Store a notification, push it live after commit, and email it if ``email`` (by
    default: if the kind's row in the table emails anyone) and the user wants it."""
    notification = Notification.objects.create(
        user_id=user_id, kind=kind, data=data, dedupe_key=dedupe_key
    )
    announce(notification, email=email)
    return notification


def announce(notification: Notification, *, email: bool | None = None) -> None:
    """What follows a stored notification: its live frame after commit, and its email if
    it has one (``email``, by default the kind's row) and the user wants it."""
    from notifications.emails import TEMPLATES

    publish_to_users([notification.user_id], notification.as_frame())
    kind = notification.kind
    if email is None:
        rule = RULES.get(kind)
        email = bool(rule.emailed) if rule else kind in TEMPLATES
    if email and kind in TEMPLATES and email_wanted(user_id=notification.user_id, kind=kind):
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
    """The user's choice for ``kind``; payment emails are always wanted."""
    if kind in ALWAYS_EMAILED:
        return True
    preference = NotificationPreference.objects.filter(user_id=user_id, kind=kind).first()
    return preference.email if preference else True


@transaction.atomic
def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the given notifications (or all, with ``ids=None``) of ``user`` as read, and
    tell every open notification socket of the user after commit (other tabs update)."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    marked = list(unread.select_for_update().values_list("pk", flat=True))
    if not marked:
        return 0
    at = timezone.now()
    Notification.objects.filter(pk__in=marked).update(read_at=at)
    publish_to_users([user.pk], {"type": "read", "ids": sorted(marked), "at": at.isoformat()})
    return len(marked)


@transaction.atomic
def preference_set(*, user: User, kind: str, email: bool) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, kind=kind, defaults={"email": email}
    )
    return preference

"""``notify(...)``: the one way other apps create a notification. The row is written in
the caller's transaction; the live frame leaves after commit."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from notifications.events import publish_to_users
from notifications.models import Notification, NotificationPreference


def notify(*, user_id: int, kind: str, data: dict, dedupe_key: str = "") -> Notification:
    """Store a notification, push it live after commit, and email it if the kind has an
    email and the user wants it."""
    from notifications.emails import TEMPLATES
    from notifications.tasks import send_notification_email

    notification = Notification.objects.create(
        user_id=user_id, kind=kind, data=data, dedupe_key=dedupe_key
    )
    publish_to_users([user_id], notification.as_frame())
    if kind in TEMPLATES and email_wanted(user_id=user_id, kind=kind):
        transaction.on_commit(lambda: send_notification_email.delay(notification.pk))
    return notification


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

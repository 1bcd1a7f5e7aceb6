"""``notify(...)``: the one way other apps create a notification. The row is written in
the caller's transaction; the live frame leaves after commit."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.emails import TEMPLATES
from notifications.events import publish_to_users
from notifications.models import EmailLog, Notification, NotificationPreference
from notifications.recipients import ALWAYS_EMAILED, RULES, actor_role, recipients
from notifications.tasks import queue_notification_email


def tell(
    *, kind: str, guest_id: int, host_id: int, actor_id: int | None, data: dict
) -> list[Notification]:
    """Notify the parties of a booking or negotiation as the table says
    (:mod:`notifications.recipients`): who is told, by who acted, and who is emailed."""
    actor = actor_role(actor_id=actor_id, guest_id=guest_id, host_id=host_id)
    user_ids = {"guest": guest_id, "host": host_id}
    told = recipients(kind, actor)
    # One INSERT for both parties (their rows come back with their ids).
    notifications = Notification.objects.bulk_create(
        Notification(user_id=user_ids[role], kind=kind, data=data) for role in told
    )
    for notification, channels in zip(notifications, told.values(), strict=True):
        announce(notification, email="email" in channels)
    return notifications


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
    publish_to_users([notification.user_id], notification.as_frame())
    kind = notification.kind
    if email is None:
        rule = RULES.get(kind)
        email = bool(rule.emailed) if rule else kind in TEMPLATES
    if email and kind in TEMPLATES and email_wanted(user_id=notification.user_id, kind=kind):
        transaction.on_commit(lambda: queue_notification_email(notification.pk))


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
def notifications_mark_read(*, user: AbstractBaseUser, ids: list[int] | None = None) -> int:
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
def preference_set(*, user: AbstractBaseUser, kind: str, email: bool) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, kind=kind, defaults={"email": email}
    )
    return preference


def email_log_readdress(*, old: str, new: str) -> int:
    """The email log stops naming ``old`` (an account's erased address): its rows show
    ``new``, the placeholder that replaced it. Returns how many rows changed."""
    return EmailLog.objects.filter(to__iexact=old).update(to=new)

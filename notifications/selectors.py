from django.db.models import F, QuerySet

from accounts.models import User
from notifications.models import Notification


def notifications_for_user(*, user: User) -> QuerySet[Notification]:
    """Unread first, newest first within each group."""
    return Notification.objects.filter(user=user).order_by(
        F("read_at").asc(nulls_first=True), "-pk"
    )


def notifications_after(*, user_id: int, after: int, limit: int = 500) -> list[Notification]:
    return list(Notification.objects.filter(user_id=user_id, pk__gt=after).order_by("pk")[:limit])

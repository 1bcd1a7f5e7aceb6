from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet

from notifications.models import Notification


def notifications_for_user(*, user: AbstractBaseUser) -> QuerySet[Notification]:
    """Newest first, by id: reading an item never moves it (keyset paging stays stable)."""
    return Notification.objects.filter(user=user).order_by("-pk")


def notifications_unread_count(*, user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()


def notifications_after(*, user_id: int, after: int, limit: int = 500) -> list[Notification]:
    return list(Notification.objects.filter(user_id=user_id, pk__gt=after).order_by("pk")[:limit])

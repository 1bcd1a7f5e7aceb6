"""In-app notifications, one row per user and event, and per-kind email preferences."""

from django.conf import settings
from django.db import models


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=60)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set by periodic reminders: one notification per user, kind and key, however often
    # (or however many overlapping) sweeps run.
    dedupe_key = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["user", "read_at", "-id"], name="notification_user_unread")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_dedupe_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"

    def as_frame(self) -> dict:
        return {
            "type": "notification",
            "id": self.pk,
            "kind": self.kind,
            "data": self.data,
            "created_at": self.created_at.isoformat(),
            "read": self.read_at is not None,
        }


class NotificationPreference(models.Model):
    """Email on/off per kind; in-app notifications are always on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=60)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: email {'on' if self.email else 'off'}"


class EmailLog(models.Model):
    """One row per email ever meant to leave, keyed by ``<notification id>:<template>``.

    A redelivered task finds the key already ``sent`` and sends nothing.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    key = models.CharField(max_length=120, unique=True)
    to = models.EmailField()
    template = models.CharField(max_length=60)
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key} -> {self.to} ({self.status})"

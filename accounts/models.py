"""Users (email login, guest/host roles) and identity documents."""

import unicodedata
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.files.storage import storages
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def avatar_upload_to(instance: "User", filename: str) -> str:
    return f"avatars/{instance.pk or 'new'}/{uuid.uuid4().hex}"


def document_upload_to(instance: "IdentityDocument", filename: str) -> str:
    return f"documents/{instance.user_id}/{uuid.uuid4().hex}"


def private_storage():
    return storages["private"]


def normalise_email(email: str) -> str:
    """The one spelling of an address: NFKC, case-folded, trimmed.

    Accounts are stored, found (login, reset) and rate-limited by this form, so spellings
    that a database's case-insensitive match would also accept (a dotless i, a
    full-width letter, ``ß``) are either the same key everywhere or another account.
    """
    return unicodedata.normalize("NFKC", str(email)).casefold().strip()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalise_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        extra.setdefault("email_verified_at", timezone.now())
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email: str):
        """The account whose normalised address is ``normalise_email(email)``.

        A plain ``email__iexact`` would also match other spellings on PostgreSQL
        (the upper case of a dotless i is ``I``), each with its own login limit.
        """
        key = normalise_email(email)
        for user in self.filter(email__iexact=key)[:5]:
            if normalise_email(user.email) == key:
                return user
        raise self.model.DoesNotExist("No account with this email.")


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    avatar = models.ImageField(upload_to=avatar_upload_to, blank=True)
    bio = models.TextField(blank=True, max_length=2000)
    languages = models.JSONField(default=list, blank=True)

    is_host = models.BooleanField(default=False)
    became_host_at = models.DateTimeField(null=True, blank=True)
    is_superhost = models.BooleanField(default=False)
    host_rating_avg = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    host_review_count = models.PositiveIntegerField(default=0)
    guest_rating_avg = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    guest_review_count = models.PositiveIntegerField(default=0)
    host_cancellations = models.PositiveIntegerField(
        default=0, help_text="Confirmed bookings this host cancelled (counts against superhost)."
    )
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # An address the user asked to change to (normalised), until its link is confirmed.
    pending_email = models.EmailField(blank=True)

    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_identity_verified(self) -> bool:
        return self.documents.filter(status=IdentityDocument.Status.VERIFIED).exists()


class IdentityDocument(models.Model):
    class Kind(models.TextChoices):
        NID = "nid", "National ID"
        PASSPORT = "passport", "Passport"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    number = models.CharField(max_length=64)
    image = models.ImageField(upload_to=document_upload_to, storage=private_storage)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    rejection_reason = models.CharField(max_length=255, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "verified", "rejected"]),
                name="accounts_document_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.user} ({self.status})"

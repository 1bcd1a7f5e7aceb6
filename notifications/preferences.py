"""Email preferences as ``auth/me/`` shows and takes them (``email_preferences``): every
kind that has an email, on or off. Payment emails (``ALWAYS_EMAILED``) are always on and
cannot be turned off; in-app notifications are always on."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from rest_framework import serializers

from notifications.models import NotificationPreference
from notifications.recipients import ALWAYS_EMAILED, OPTIONAL_EMAILS

EMAIL_KINDS = sorted(OPTIONAL_EMAILS | ALWAYS_EMAILED)


def email_preferences(user: AbstractBaseUser) -> dict[str, bool]:
    chosen = dict(
        NotificationPreference.objects.filter(user=user, kind__in=OPTIONAL_EMAILS).values_list(
            "kind", "email"
        )
    )
    return {kind: kind in ALWAYS_EMAILED or chosen.get(kind, True) for kind in EMAIL_KINDS}


@transaction.atomic
def email_preferences_set(
    *, user: AbstractBaseUser, preferences: dict[str, bool]
) -> dict[str, bool]:
    """Store the optional kinds' choices (validated by :class:`EmailPreferencesField`)."""
    for kind, email in preferences.items():
        if kind in OPTIONAL_EMAILS:
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"email": email}
            )
    return email_preferences(user)


class EmailPreferencesField(serializers.DictField):
    """``{kind: bool}``: known email kinds only; payment kinds may only be ``true``."""

    child = serializers.BooleanField()

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        unknown = sorted(set(value) - set(EMAIL_KINDS))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown email kinds: {', '.join(unknown)}. Known: {', '.join(EMAIL_KINDS)}.",
                code="invalid",
            )
        locked = sorted(kind for kind, on in value.items() if kind in ALWAYS_EMAILED and not on)
        if locked:
            raise serializers.ValidationError(
                f"Payment emails cannot be turned off: {', '.join(locked)}.", code="invalid"
            )
        return value

"""Read queries of accounts, with access checks."""

from django.shortcuts import get_object_or_404

from accounts.models import IdentityDocument, User


def documents_for_user(*, user: User):
    return IdentityDocument.objects.filter(user=user).order_by("-created_at")


def document_get_for_owner(*, user: User, pk: int) -> IdentityDocument:
    return get_object_or_404(IdentityDocument, pk=pk, user=user)


def user_find_by_email(*, email: str) -> User | None:
    """The account an address logs into (the login's own lookup), or ``None``."""
    try:
        return User.objects.get_by_natural_key(email)
    except User.DoesNotExist:
        return None

"""Read queries of accounts, with access checks."""

from django.shortcuts import get_object_or_404

from accounts.models import IdentityDocument, User


def documents_for_user(*, user: User):
    return IdentityDocument.objects.filter(user=user).order_by("-created_at")


def document_get_for_owner(*, user: User, pk: int) -> IdentityDocument:
    return get_object_or_404(IdentityDocument, pk=pk, user=user)

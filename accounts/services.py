"""Write use-cases of accounts: one function each, one transaction, side effects on commit.

Ending an account is composed in :mod:`negotiation.lifecycle` (it ends the person's
negotiations, bookings and listings too); the parts that are the account's own are here:
:func:`user_deactivate` and :func:`user_erase_personal_data`.
"""

import secrets

from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import tasks
from accounts.models import IdentityDocument, User, normalise_email
from accounts.permissions import EmailUnverified
from accounts.tokens import (
    read_email_change_token,
    read_email_verification_token,
    revoke_ws_tickets,
)
from core.errors import ApplicationError, ConflictError, InvalidFields


class EmailTaken(ConflictError):
    default_code = "email_taken"
    default_detail = "An account with this email already exists."


class InvalidToken(ApplicationError):
    default_code = "invalid_token"
    default_detail = "This link is invalid or has expired."


def _validate_password(password: str, user: User, *, field: str = "password") -> None:
    """Django's password validators; errors are reported on the request's ``field``."""
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        # each validator's own code (password_too_short, ...)
        raise InvalidFields(
            {
                field: [
                    (message, error.code or "invalid")
                    for error in exc.error_list
                    for message in error.messages
                ]
            }
        ) from exc


@transaction.atomic
def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    email = normalise_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise EmailTaken()
    user = User(email=email, first_name=first_name, last_name=last_name)
    _validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise EmailTaken() from exc
    _queue_after_commit(tasks.send_verification_email, user.pk)
    return user


@transaction.atomic
def user_request_verification_email(*, user: User) -> None:
    if not user.is_email_verified:
        _queue_after_commit(tasks.send_verification_email, user.pk)


class InvalidPassword(ApplicationError):
    default_code = "invalid_password"
    default_detail = "The password is incorrect."


@transaction.atomic
def user_verify_email(*, token: str) -> User:
    """Confirm an address: the account's own (after registering), or the new one an
    email change asked for (the token says which)."""
    if (change := read_email_change_token(token)) is not None:
        return _confirm_email_change(change)
    payload = read_email_verification_token(token)
    if payload is None:
        raise InvalidToken()
    user = User.objects.select_for_update().filter(pk=payload.get("uid")).first()
    # A token minted for an older email address must not verify a changed one.
    if user is None or user.email.lower() != str(payload.get("email", "")).lower():
        raise InvalidToken()
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


def _email_in_use(email: str, *, except_pk: int | None = None) -> bool:
    """Whether another account logs in with ``email`` (compared normalised)."""
    key = normalise_email(email)
    others = User.objects.filter(email__iexact=key)
    if except_pk is not None:
        others = others.exclude(pk=except_pk)
    return any(normalise_email(other.email) == key for other in others[:5])


def check_password_of(user: User, password: str) -> None:
    """The account's current password, for the changes that need it (email, closing):
    a stolen session alone cannot take the account over or close it."""
    if not password or not user.check_password(password):
        raise InvalidPassword(attr="password")


@transaction.atomic
def user_request_email_change(*, user: User, email: str, password: str) -> User:
    """Ask to change the account's address to ``email``. Nothing changes yet: a signed,
    expiring link goes to the new address (``pending_email`` until it is confirmed through
    ``auth/verify-email/``), and the current address is told that a change was asked for.
    An address another account uses is refused (``409 email_taken``); asking again for
    another address voids the earlier link; asking for the current one cancels the change.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    check_password_of(user, password)
    email = normalise_email(email)
    if email == normalise_email(user.email):
        if user.pending_email:
            user.pending_email = ""
            user.save(update_fields=["pending_email"])
        return user
    if _email_in_use(email, except_pk=user.pk):
        raise EmailTaken(attr="email")
    user.pending_email = email
    user.save(update_fields=["pending_email"])
    user_id, old_email = user.pk, user.email
    transaction.on_commit(
        lambda: tasks.send_email_change_verification.delay(user_id, email), robust=True
    )
    transaction.on_commit(
        lambda: tasks.send_email_change_notice.delay(user_id, old_email, email), robust=True
    )
    return user


def _confirm_email_change(payload: dict) -> User:
    """Switch the address, once: the token names the address it changes from (so it is
    void once used) and the one it changes to, which must still be the pending one."""
    user = User.objects.select_for_update().filter(pk=payload.get("uid"), is_active=True).first()
    new_email = normalise_email(payload.get("to", ""))
    if (
        user is None
        or not new_email
        or normalise_email(user.email) != normalise_email(payload.get("from", ""))
        or user.pending_email != new_email
    ):
        raise InvalidToken()
    if _email_in_use(new_email, except_pk=user.pk):
        raise EmailTaken("Another account uses this email address now.")
    user.email = new_email
    user.pending_email = ""
    user.email_verified_at = timezone.now()  # the link reached the new address
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "pending_email", "email_verified_at"])
    except IntegrityError as exc:  # an account registered it meanwhile
        raise EmailTaken("Another account uses this email address now.") from exc
    return user


def user_record_login(*, user: User) -> None:
    """``last_login`` moves on every login, which ends the reset links made before it
    (Django's reset token covers ``last_login``)."""
    user.last_login = timezone.now()
    User.objects.filter(pk=user.pk).update(last_login=user.last_login)


def password_reset_request(*, email: str) -> None:
    """Queue the reset task for the address, known or not: the request does the same work
    either way (no enumeration by answer or by timing); the task looks the account up and
    sends nothing for an unknown address."""
    transaction.on_commit(
        lambda: tasks.send_password_reset_email_to_address.delay(normalise_email(email)),
        robust=True,
    )


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        raise InvalidToken() from None
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        raise InvalidToken()
    _validate_password(new_password, user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    _blacklist_all_refresh_tokens(user)
    revoke_ws_tickets(user_id=user.pk)
    return user


def _blacklist_all_refresh_tokens(user: User) -> None:
    """After a password change (or closing, or deactivation), every session ends."""
    for outstanding in OutstandingToken.objects.filter(user=user):
        BlacklistedToken.objects.get_or_create(token=outstanding)


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Make the user inactive and end their sessions: every refresh token is blacklisted
    (access tokens of an inactive user are refused) and every socket ticket revoked, again
    after commit for any issued meanwhile. Locks the user row first. Idempotent. Callers go
    through ``negotiation.lifecycle.user_deactivate``, which also ends what the user has
    running."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    _blacklist_all_refresh_tokens(user)
    revoke_ws_tickets(user_id=user.pk)
    user_id = user.pk
    transaction.on_commit(lambda: revoke_ws_tickets(user_id=user_id))  # issued meanwhile
    return user


CLOSED_NAME = "Closed account"
CLOSED_EMAIL_DOMAIN = "closed.invalid"  # RFC 2606: never delivered


@transaction.atomic
def user_erase_personal_data(*, user: User) -> User:
    """Name, address, phone, profile, avatar and identity documents go; the row stays, so
    the other party's bookings, negotiations and reviews keep their counterpart, shown as
    "Closed account". The address becomes a unique placeholder that is never delivered;
    the old one may register again. Files are deleted once the transaction commits."""
    files = [(user.avatar.storage, user.avatar.name)] if user.avatar else []
    documents = IdentityDocument.objects.filter(user=user)
    files += [(d.image.storage, d.image.name) for d in documents if d.image]
    documents.delete()
    user.email = f"closed-{user.pk}-{secrets.token_hex(6)}@{CLOSED_EMAIL_DOMAIN}"
    user.pending_email = ""
    user.first_name = CLOSED_NAME
    user.last_name = ""
    user.phone = ""
    user.bio = ""
    user.languages = []
    user.avatar = ""
    user.email_verified_at = None
    user.is_superhost = False
    user.set_unusable_password()
    user.save(
        update_fields=[
            "email", "pending_email", "first_name", "last_name", "phone", "bio", "languages",
            "avatar", "email_verified_at", "is_superhost", "password",
        ]
    )  # fmt: skip

    def delete_files():
        for storage, name in files:
            storage.delete(name)

    transaction.on_commit(delete_files, robust=True)
    return user


PROFILE_FIELDS = ("first_name", "last_name", "phone", "bio", "languages", "avatar")


@transaction.atomic
def user_update_profile(*, user: User, **fields) -> User:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    old_avatar = user.avatar.name if "avatar" in fields else None
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields))
    if old_avatar and old_avatar != user.avatar.name:
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    return user


@transaction.atomic
def user_become_host(*, user: User) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_email_verified:
        raise EmailUnverified("Verify your email address before hosting.")
    if not user.is_host:
        user.is_host = True
        user.became_host_at = timezone.now()
        user.save(update_fields=["is_host", "became_host_at"])
    return user


@transaction.atomic
def document_submit(*, user: User, kind: str, number: str, image) -> IdentityDocument:
    if not user.is_email_verified:
        raise EmailUnverified("Verify your email address before uploading identity documents.")
    return IdentityDocument.objects.create(user=user, kind=kind, number=number, image=image)


@transaction.atomic
def document_review(
    *, document: IdentityDocument, reviewer: User, approve: bool, reason: str = ""
) -> IdentityDocument:
    document.status = (
        IdentityDocument.Status.VERIFIED if approve else IdentityDocument.Status.REJECTED
    )
    document.rejection_reason = "" if approve else reason
    document.reviewed_at = timezone.now()
    document.reviewed_by = reviewer
    document.save(update_fields=["status", "rejection_reason", "reviewed_at", "reviewed_by"])
    return document


def _queue_after_commit(task, user_id: int) -> None:
    """Queue an account email once the transaction commits. ``robust``: with the broker
    down the account change still stands and answers 2xx; the failure is logged and the
    user can ask for the email again (resend, a new reset request)."""
    transaction.on_commit(lambda: task.delay(user_id), robust=True)

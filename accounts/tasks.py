"""Account emails, sent by Celery. Tasks take ids and are safe to run twice: each email is
keyed by its task id in the email log, so a redelivered task sends nothing new, while a
new request (a resend) is a new task and a new email."""

from celery import shared_task
from django.conf import settings
from django.template.loader import render_to_string

from accounts.models import User
from accounts.selectors import user_find_by_email
from accounts.tokens import (
    make_email_change_token,
    make_email_verification_token,
    password_reset_link_parts,
)
from notifications.emails import send_logged_email


def _send(task, user: User, template: str, context: dict, *, to: str = "") -> None:
    """Render and send an account email to ``to`` (default: the account's address)."""
    context = {"user": user, "site_url": settings.FRONTEND_URL, **context}

    def render_parts():
        subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
        text = render_to_string(f"accounts/email/{template}.txt", context)
        html = render_to_string(f"accounts/email/{template}.html", context)
        return subject, text, html

    send_logged_email(
        key=f"account:{task.request.id}:{template}",
        to=to or user.email,
        template=template,
        render_parts=render_parts,
    )


@shared_task(bind=True, acks_late=True, max_retries=5, retry_backoff=True, autoretry_for=(OSError,))
def send_verification_email(self, user_id: int) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None or user.is_email_verified:
        return
    token = make_email_verification_token(user_id=user.pk, email=user.email)
    link = f"{settings.FRONTEND_URL}/verify-email?token={token}"
    _send(self, user, "verify_email", {"token": token, "link": link})


@shared_task(bind=True, acks_late=True, max_retries=5, retry_backoff=True, autoretry_for=(OSError,))
def send_password_reset_email(self, user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    uid, token = password_reset_link_parts(user)
    link = f"{settings.FRONTEND_URL}/reset-password?uid={uid}&token={token}"
    _send(self, user, "password_reset", {"uid": uid, "token": token, "link": link})


@shared_task(bind=True, acks_late=True, max_retries=5, retry_backoff=True, autoretry_for=(OSError,))
def send_password_reset_email_to_address(self, email: str) -> None:
    """The reset email for whoever logs in with ``email``; nothing for an unknown address.
    The lookup happens here, not in the request, so both answers take the same time."""
    user = user_find_by_email(email=email)
    if user is None or not user.is_active:
        return
    uid, token = password_reset_link_parts(user)
    link = f"{settings.FRONTEND_URL}/reset-password?uid={uid}&token={token}"
    _send(self, user, "password_reset", {"uid": uid, "token": token, "link": link})


@shared_task(bind=True, acks_late=True, max_retries=5, retry_backoff=True, autoretry_for=(OSError,))
def send_email_change_verification(self, user_id: int, new_email: str) -> None:
    """The link that confirms ``new_email``, sent to that address; nothing if the request
    was superseded (another address asked for since) or already confirmed."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.pending_email != new_email:
        return
    token = make_email_change_token(user_id=user.pk, old_email=user.email, new_email=new_email)
    link = f"{settings.FRONTEND_URL}/verify-email?token={token}"
    context = {"token": token, "link": link, "new_email": new_email}
    _send(self, user, "email_change_verify", context, to=new_email)


@shared_task(bind=True, acks_late=True, max_retries=5, retry_backoff=True, autoretry_for=(OSError,))
def send_email_change_notice(self, user_id: int, old_email: str, new_email: str) -> None:
    """Tell the address the account uses now that a change to ``new_email`` was asked for
    (nothing changes until the new address confirms)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    _send(self, user, "email_change_notice", {"new_email": new_email}, to=old_email)

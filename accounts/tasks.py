"""Account emails, sent by Celery. Tasks take ids and are safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from accounts.models import User


def _send(user: User, template: str, context: dict) -> None:
    context = {"user": user, "site_url": settings.FRONTEND_URL, **context}
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
    text = render_to_string(f"accounts/email/{template}.txt", context)
    html = render_to_string(f"accounts/email/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
    message.attach_alternative(html, "text/html")
    message.send()


@shared_task(bind=True, max_retries=5, retry_backoff=True, autoretry_for=(OSError,))
def send_verification_email(self, user_id: int) -> None:
    from accounts.tokens import make_email_verification_token

    user = User.objects.filter(pk=user_id).first()
    if user is None or user.is_email_verified:
        return
    token = make_email_verification_token(user_id=user.pk, email=user.email)
    link = f"{settings.FRONTEND_URL}/verify-email?token={token}"
    _send(user, "verify_email", {"token": token, "link": link})


@shared_task(bind=True, max_retries=5, retry_backoff=True, autoretry_for=(OSError,))
def send_password_reset_email(self, user_id: int) -> None:
    from accounts.services import password_reset_link_parts

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    uid, token = password_reset_link_parts(user)
    link = f"{settings.FRONTEND_URL}/reset-password?uid={uid}&token={token}"
    _send(user, "password_reset", {"uid": uid, "token": token, "link": link})

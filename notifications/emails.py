"""Rendering and sending notification emails (text and HTML from one base layout).

Each kind that has an email names its template; the subject line is a template
too. Sending is idempotent through :class:`EmailLog`.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import EmailLog, Notification

# notification kind -> template name (kinds without an entry are in-app only)
TEMPLATES = {
    "booking.pending_host": "booking_requested",
    "booking.confirmed": "booking_confirmed",
    "booking.declined": "booking_declined",
    "booking.cancelled": "booking_cancelled",
    "booking.expired": "booking_expired",
    "booking.awaiting_payment": "payment_due",
    "negotiation.opened": "negotiation_offer",
    "negotiation.offer.created": "negotiation_offer",
    "negotiation.offer.accepted": "negotiation_ended",
    "negotiation.declined": "negotiation_ended",
    "negotiation.expired": "negotiation_ended",
    "negotiation.listing_archived": "listing_archived",
    "superhost.gained": "superhost_gained",
    "booking.request_expiring": "request_expiring",
    "booking.checkin_reminder": "checkin_reminder",
    "review.invitation": "review_invitation",
}


def render(notification: Notification, template: str) -> tuple[str, str, str]:
    context = {
        "user": notification.user,
        "kind": notification.kind,
        "data": notification.data,
        "site_url": settings.FRONTEND_URL,
    }
    base = f"notifications/email/{template}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    return (
        subject,
        render_to_string(f"{base}.txt", context),
        render_to_string(f"{base}.html", context),
    )


def send_logged_email(*, key: str, to: str, template: str, render_parts) -> str:
    """Send one email at most once per ``key`` (recorded in :class:`EmailLog`).

    ``render_parts()`` returns ``(subject, text, html)``; it runs only if the email
    still has to go. SMTP errors propagate so the calling task retries.
    """
    with transaction.atomic():
        log, _ = EmailLog.objects.select_for_update().get_or_create(
            key=key, defaults={"to": to, "template": template}
        )
        if log.status == EmailLog.Status.SENT:
            return "already sent"
        log.attempts += 1
        log.save(update_fields=["attempts"])
    subject, text, html = render_parts()
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [log.to])
    message.attach_alternative(html, "text/html")
    message.extra_headers["X-Parley-Email-Key"] = key
    message.send()
    EmailLog.objects.filter(pk=log.pk).update(
        status=EmailLog.Status.SENT, subject=subject, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def email_key_and_template(notification: Notification) -> tuple[str, str]:
    """The email log key of a notification's email, and its template."""
    template = TEMPLATES[notification.kind]
    return f"{notification.pk}:{template}", template


def send_notification_email(notification_id: int) -> str:
    """Send the email of a notification once. Returns what happened (for logs and tests)."""
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None or notification.kind not in TEMPLATES:
        return "nothing to send"
    key, template = email_key_and_template(notification)
    return send_logged_email(
        key=key,
        to=notification.user.email,
        template=template,
        render_parts=lambda: render(notification, template),
    )

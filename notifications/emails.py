"""Rendering and sending notification emails (text and HTML from one base layout).

Each kind that has an email names its template; the subject line is a template
too. Sending is idempotent through :class:`EmailLog`.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from notifications import delivery, unsubscribe
from notifications.calendar import stay_ics
from notifications.email_context import email_context
from notifications.models import Notification

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
    "negotiation.unavailable": "negotiation_ended",
    "negotiation.listing_archived": "listing_archived",
    "superhost.gained": "superhost_gained",
    "superhost.lost": "superhost_lost",
    "booking.request_expiring": "request_expiring",
    "booking.checkin_reminder": "checkin_reminder",
    "review.invitation": "review_invitation",
}


def render(notification: Notification, template: str) -> tuple[str, str, str]:
    """Subject, text and HTML of a notification's email (notifications/email_context.py
    works out what they say)."""
    context = email_context(notification)
    base = f"notifications/email/{template}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    return (
        subject,
        render_to_string(f"{base}.txt", context),
        render_to_string(f"{base}.html", context),
    )


def build_message(notification: Notification, template: str) -> EmailMultiAlternatives:
    """The whole email: its parts, ``List-Unsubscribe`` on optional kinds, and the stay's
    ``.ics`` event on a confirmation."""
    subject, text, html = render(notification, template)
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, [notification.user.email]
    )
    message.attach_alternative(html, "text/html")
    message.extra_headers.update(
        unsubscribe.headers(user_id=notification.user_id, kind=notification.kind)
    )
    if notification.kind == "booking.confirmed":
        ics = stay_ics(notification.data)
        if ics:
            booking = notification.data.get("id")
            message.attach(f"parley-booking-{booking}.ics", ics, "text/calendar; method=PUBLISH")
    return message


def send_logged_email(*, key: str, to: str, template: str, render_parts) -> str:
    """Send the email logged under ``key`` unless it was sent: at least once, every copy
    with the same ``Message-ID`` (notifications/delivery.py, docs/email.md)."""
    return delivery.send_logged_email(key=key, to=to, template=template, render_parts=render_parts)


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
        render_parts=lambda: build_message(notification, template),
    )

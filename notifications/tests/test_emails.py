"""Notification emails: every template renders (subject, text, HTML) for the right person;
sending is idempotent; preferences are honoured."""

import pytest
from django.core import mail

from accounts.models import User
from notifications.emails import TEMPLATES, send_notification_email
from notifications.models import EmailLog, Notification
from notifications.services import notify, preference_set
from properties.tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

DATA = {
    "id": 7, "check_in": "2027-06-01", "check_out": "2027-06-04", "total": "320.00",
    "currency": "EUR", "hold_expires_at": "2027-05-01T10:30:00+00:00", "status": "accepted",
    "negotiation": 3, "amount": "320.00", "message": "Deal?", "expires_at": "2027-05-02T10:00:00+00:00",
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_every_email_kind_renders_for_its_recipient(kind, django_capture_on_commit_callbacks):
    user = GuestFactory(first_name="Ada")
    with django_capture_on_commit_callbacks(execute=True):
        notify(user_id=user.pk, kind=kind, data=DATA)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject and "{" not in message.subject
    assert message.body.startswith("Hello Ada,") and "{{" not in message.body
    html = message.alternatives[0][0]
    assert "<p>Hello Ada,</p>" in html and "Parley" in html
    assert message.extra_headers["X-Parley-Email-Key"].endswith(TEMPLATES[kind])


def test_a_redelivered_task_sends_nothing_more(django_capture_on_commit_callbacks):
    user = GuestFactory()
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(user_id=user.pk, kind="booking.confirmed", data=DATA)
    assert send_notification_email(notification.pk) == "already sent"
    assert send_notification_email(notification.pk) == "already sent"
    assert len(mail.outbox) == 1
    assert EmailLog.objects.get().status == "sent"


def test_email_preference_off_keeps_the_in_app_notification(django_capture_on_commit_callbacks):
    user = GuestFactory()
    preference_set(user=user, kind="booking.checkin_reminder", email=False)
    with django_capture_on_commit_callbacks(execute=True):
        notify(user_id=user.pk, kind="booking.checkin_reminder", data=DATA)
    assert mail.outbox == []
    assert Notification.objects.filter(user=user).count() == 1


def test_in_app_only_kinds_send_no_email(django_capture_on_commit_callbacks):
    user = GuestFactory()
    with django_capture_on_commit_callbacks(execute=True):
        notify(user_id=user.pk, kind="negotiation.message.created", data={"negotiation": 1})
    assert mail.outbox == [] and User.objects.filter(pk=user.pk).exists()


def test_cancellation_email_states_the_refund(django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from bookings import services
    from bookings.tests.factories import bookable_property, verified_guest

    prop = bookable_property(instant_book=True, cancellation_policy="flexible")
    guest = verified_guest()
    start = timezone.now().date() + timedelta(days=30)
    with django_capture_on_commit_callbacks(execute=True):
        booking, _ = services.booking_create(
            guest=guest, property_id=prop.pk, check_in=start, check_out=start + timedelta(days=2),
            guests=1, stay_type="standard", payment_token="tok_ok",
        )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        _, refund = services.booking_cancel(booking_id=booking.pk, user=prop.host)
    cancelled = [m for m in mail.outbox if "cancelled" in m.subject]
    # both parties: the guest is told, the host (who cancelled) gets a receipt
    assert sorted(m.to[0] for m in cancelled) == sorted([guest.email, prop.host.email])
    for message in cancelled:
        assert f"Refund: {refund.amount} EUR" in message.body


def test_account_emails_are_logged_per_task_so_a_redelivery_sends_nothing():
    from accounts.tasks import send_password_reset_email

    user = GuestFactory()
    first = send_password_reset_email.apply(args=[user.pk], task_id="task-1")
    again = send_password_reset_email.apply(args=[user.pk], task_id="task-1")  # redelivered
    other = send_password_reset_email.apply(args=[user.pk], task_id="task-2")  # a new request
    assert first.successful() and again.successful() and other.successful()
    assert len(mail.outbox) == 2
    assert set(EmailLog.objects.values_list("key", flat=True)) == {
        "account:task-1:password_reset",
        "account:task-2:password_reset",
    }

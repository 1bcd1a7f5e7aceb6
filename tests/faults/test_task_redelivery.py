"""Scenario 4: Celery delivers tasks twice and out of order (``acks_late`` redelivery,
a beat tick overlapping a slow worker). Every periodic task and the email task run
twice, forwards and backwards; the outcome must be the same as one run in order:
states, history rows, events, notifications, and each email sent exactly once
(``EmailLog`` and the outbox agree).

Runs in-process (tasks applied eagerly, email to the locmem outbox) on whatever database
the suite uses, SQLite included."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from bookings import tasks as booking_tasks
from bookings.models import Booking, BookingStatus, BookingStatusChange
from bookings.tests.factories import bookable_property, verified_guest
from negotiation import services as negotiation_services
from negotiation import tasks as negotiation_tasks
from negotiation.models import Event, Negotiation
from notifications.models import EmailLog, Notification
from notifications.tasks import send_notification_email

pytestmark = pytest.mark.django_db(transaction=True)

PERIODIC = [
    booking_tasks.expire_lapsed_holds,
    booking_tasks.remind_expiring_requests,
    booking_tasks.remind_check_ins,
    booking_tasks.complete_finished_stays,
    negotiation_tasks.expire_due_negotiations,
]


def _world() -> dict:
    """One object per kind of periodic work, each due now."""
    now = timezone.now()
    today = now.date()
    prop = bookable_property(timezone="UTC")

    def booking(check_in, status, hold=None, nights=2):
        return Booking.objects.create(
            property=prop, guest=verified_guest(), check_in=check_in,
            check_out=check_in + timedelta(days=nights), guests=1, stay_type="standard",
            total=Decimal("200"), currency="EUR", status=status, hold_expires_at=hold,
            cancellation_policy="moderate",
        )  # fmt: skip

    world = {
        "lapsed": booking(today + timedelta(days=30), "pending_host", now - timedelta(minutes=5)),
        "expiring": booking(
            today + timedelta(days=40), "pending_host", now + timedelta(minutes=90)
        ),
        "check_in": booking(today + timedelta(days=1), BookingStatus.CONFIRMED),
        "finished": booking(today - timedelta(days=3), BookingStatus.CONFIRMED),
    }
    negotiation = negotiation_services.negotiation_open(
        guest=verified_guest(), property_id=prop.pk, check_in=today + timedelta(days=50),
        check_out=today + timedelta(days=53), guests=2, stay_type="standard",
        amount=Decimal("250.00"),
    ).negotiation  # fmt: skip
    Negotiation.objects.filter(pk=negotiation.pk).update(expires_at=now - timedelta(minutes=1))
    world["negotiation"] = negotiation
    return world


def _state(world: dict) -> dict:
    """What a user could observe, keyed by role (ids differ between worlds)."""
    state = {}
    for role, obj in world.items():
        if role == "negotiation":
            n = Negotiation.objects.get(pk=obj.pk)
            events = list(Event.objects.filter(negotiation=n).values_list("seq", "type"))
            state[role] = (n.status, n.last_seq, sorted(events))
            notes = Notification.objects.filter(data__negotiation=n.pk)
        else:
            b = Booking.objects.get(pk=obj.pk)
            history = list(
                BookingStatusChange.objects.filter(booking=b).values_list(
                    "from_status", "to_status"
                )
            )
            state[role] = (b.status, history)
            notes = Notification.objects.filter(data__id=b.pk, kind__startswith="booking.")
        state[f"{role}:notifications"] = sorted(n.kind for n in notes)
    return state


def _emails(since: int) -> tuple[list[str], int]:
    sent = EmailLog.objects.filter(pk__gt=since, status="sent").values_list("template", flat=True)
    return sorted(sent), len(mail.outbox)


def _run(tasks) -> tuple[dict, tuple]:
    """One delivery of each task in the given order, then everything redelivered."""
    mail.outbox = []
    since = EmailLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    first_note = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    world = _world()
    for task in tasks:
        assert task.apply().successful()
    once, emails_once = _state(world), _emails(since)
    assert once["lapsed"][0] == "expired" and once["negotiation"][0] == "expired"
    assert once["finished"][0] == "completed"
    assert "booking.request_expiring" in once["expiring:notifications"]
    assert "booking.checkin_reminder" in once["check_in:notifications"]

    # Redelivered: the whole batch again in the other order, each task twice.
    for task in [*tasks[::-1], *tasks]:
        assert task.apply().successful()
        assert task.apply().successful()
    # The email task redelivered for every notification, newest first, twice.
    new_notes = Notification.objects.filter(pk__gt=first_note).order_by("-pk")
    for notification_id in new_notes.values_list("pk", flat=True):
        send_notification_email.apply(args=[notification_id])
        send_notification_email.apply(args=[notification_id])

    assert _state(world) == once
    assert _emails(since) == emails_once
    sent, outbox = emails_once
    assert outbox == len(sent) > 0
    keys = [m.extra_headers["X-Parley-Email-Key"] for m in mail.outbox]
    assert len(keys) == len(set(keys)), "an email went out twice"
    assert set(EmailLog.objects.filter(pk__gt=since).values_list("status", flat=True)) == {"sent"}
    return once, emails_once


def test_tasks_delivered_twice_and_out_of_order_change_nothing():
    forwards = _run(PERIODIC)
    backwards = _run(PERIODIC[::-1])
    assert forwards == backwards, "the order of delivery changed the outcome"
    print(
        f"\nTASK REDELIVERY: {len(forwards[1][0])} emails per world, each sent once: {forwards[1][0]}"
    )

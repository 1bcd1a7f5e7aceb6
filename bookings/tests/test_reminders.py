"""Reminder sweeps: the right person, at the right local time, once however often they run;
and the beat schedule names only tasks that exist."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from bookings import reminders, sweeps
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import bookable_property, verified_guest
from config.celery_app import BEAT_SCHEDULE, app
from notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


def _booking(prop, *, check_in, status, hold=None):
    return Booking.objects.create(
        property=prop, guest=verified_guest(), check_in=check_in, check_out=check_in + timedelta(days=2),
        guests=1, stay_type="standard", total=Decimal("200"), currency="EUR", status=status,
        hold_expires_at=hold, cancellation_policy="moderate",
    )  # fmt: skip


def test_host_is_reminded_once_of_a_request_expiring_within_two_hours():
    prop = bookable_property()
    now = timezone.now()
    soon = _booking(
        prop,
        check_in=now.date() + timedelta(days=9),
        status=BookingStatus.PENDING_HOST,
        hold=now + timedelta(minutes=90),
    )
    _booking(
        prop,
        check_in=now.date() + timedelta(days=20),
        status=BookingStatus.PENDING_HOST,
        hold=now + timedelta(hours=5),
    )
    assert reminders.remind_expiring_requests(now=now) == 1
    assert reminders.remind_expiring_requests(now=now + timedelta(minutes=15)) == 0
    note = Notification.objects.get(kind="booking.request_expiring")
    assert (
        note.user_id == prop.host_id
        and note.data["id"] == soon.pk
        and note.data["minutes_left"] == 90
    )
    assert [m.to for m in mail.outbox] == [[prop.host.email]]
    assert "expires in 90 minutes" in mail.outbox[0].subject


def test_check_in_reminder_goes_out_the_day_before_in_the_property_time_zone():
    prop = bookable_property(timezone="Asia/Tokyo", address="2-1 Ginza", city="Tokyo")
    tokyo = ZoneInfo("Asia/Tokyo")
    local_evening = datetime(2027, 3, 9, 23, 30, tzinfo=tokyo)  # 14:30 UTC on the 9th
    booking = _booking(prop, check_in=datetime(2027, 3, 10).date(), status=BookingStatus.CONFIRMED)
    assert reminders.remind_check_ins(now=local_evening - timedelta(days=1)) == 0  # two days before
    assert reminders.remind_check_ins(now=local_evening) == 1
    assert reminders.remind_check_ins(now=local_evening + timedelta(minutes=20)) == 0
    note = Notification.objects.get(kind="booking.checkin_reminder")
    assert note.user_id == booking.guest_id
    assert note.data["check_in_time"] == "15:00" and "Ginza" in note.data["address"]
    assert "2-1 Ginza" in mail.outbox[-1].body


def test_completion_invites_both_sides_to_review():
    prop = bookable_property()
    booking = _booking(
        prop, check_in=timezone.now().date() - timedelta(days=3), status=BookingStatus.CONFIRMED
    )
    assert sweeps.bookings_complete_finished() == 1
    invited = set(
        Notification.objects.filter(kind="review.invitation").values_list("user_id", flat=True)
    )
    assert invited == {booking.guest_id, prop.host_id}


def test_beat_schedule_names_only_tasks_that_exist():
    app.loader.import_default_modules()
    for name, entry in BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, f"{name}: no task {entry['task']}"

"""Issue 20, as users met it: the right person is told, in emails they can act on.

Each flow runs through the services as the API does and reads the delivered emails
(locmem): who got which, and what they say (listing, dates with weekdays and times in the
property's time zone, guests, line items, money with currency, the policy in words, the
refund, the other party's first name, the hold's end in words, links into the client's
hash routes, anchors in HTML, the ``.ics`` of a confirmed stay, ``List-Unsubscribe``)."""

import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal as D

import icalendar
import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings

from bookings import services as booking_services
from bookings.models import Booking
from bookings.tests.factories import bookable_property, client_for, verified_guest
from negotiation import services as negotiation_services
from notifications.models import Notification, NotificationPreference
from properties.quotes import property_today

pytestmark = pytest.mark.django_db

SITE = "http://parley.test:8123"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.FRONTEND_URL = SITE


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a service with its on-commit work (notifications, emails) done."""

    def call(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return call


def _listing(**fields):
    fields = {
        "nightly": "100.00",
        "cancellation_policy": "moderate",
        "title": "Harbour loft",
        "timezone": "Europe/Lisbon",
        "check_in_time": time(16, 0),
        "check_out_time": time(10, 30),
        **fields,
    }
    prop = bookable_property(**fields)
    prop.host.first_name = "Hana"
    prop.host.save(update_fields=["first_name"])
    return prop


def _guest():
    guest = verified_guest()
    guest.first_name = "Gabriel"
    guest.save(update_fields=["first_name"])
    return guest


def _to(user, subject_part=""):
    return [m for m in mail.outbox if m.to == [user.email] and subject_part in m.subject]


def _html(message) -> str:
    return message.alternatives[0][0]


def _open(run, prop, guest, amount=None, days=30, nights=3):
    check_in = property_today(prop) + timedelta(days=days)
    return run(
        negotiation_services.negotiation_open,
        guest=guest,
        property_id=prop.pk,
        check_in=check_in,
        check_out=check_in + timedelta(days=nights),
        guests=2,
        stay_type="standard",
        amount=D(amount) if amount else None,
    ).negotiation


# --- who is told ------------------------------------------------------------------------------


@pytest.mark.parametrize("accepter", ["host", "guest"])
def test_an_accepted_offer_tells_the_guest_to_pay_whoever_accepted(run, accepter):
    prop, guest = _listing(), _guest()
    negotiation = _open(run, prop, guest, amount="250.00")
    if accepter == "guest":  # the host counters, the guest accepts the counter
        run(negotiation_services.negotiation_offer, negotiation_id=negotiation.pk,
            user=prop.host, amount=D("280.00"))  # fmt: skip
    mail.outbox.clear()
    user = prop.host if accepter == "host" else guest
    run(negotiation_services.negotiation_accept, negotiation_id=negotiation.pk, user=user)
    booking = Booking.objects.get(negotiation=negotiation)

    (pay,) = _to(guest, "Pay for booking")
    assert _to(prop.host, "Pay for booking") == []
    assert f"{SITE}/#/b/{booking.pk}" in pay.body
    assert Notification.objects.filter(user=guest, kind="booking.awaiting_payment").count() == 1
    assert not Notification.objects.filter(user=prop.host, kind="booking.awaiting_payment")
    history = booking.history.get()
    assert history.actor == user  # who accepted, not the guest whoever it was


def test_instant_book_without_payment_tells_the_guest_to_pay(run):
    prop, guest = _listing(instant_book=True), _guest()
    check_in = property_today(prop) + timedelta(days=20)
    booking, _ = run(booking_services.booking_create, guest=guest, property_id=prop.pk,
                     check_in=check_in, check_out=check_in + timedelta(days=2), guests=1,
                     stay_type="standard", payment_token="")  # fmt: skip
    assert [m.to for m in mail.outbox if "Pay for booking" in m.subject] == [[guest.email]]
    assert booking.status == "awaiting_payment"


def test_paying_confirms_to_both_parties_the_guest_with_a_receipt(run):
    prop, guest = _listing(instant_book=True), _guest()
    check_in = property_today(prop) + timedelta(days=20)
    booking, _ = run(booking_services.booking_create, guest=guest, property_id=prop.pk,
                     check_in=check_in, check_out=check_in + timedelta(days=2), guests=1,
                     stay_type="standard", payment_token="")  # fmt: skip
    mail.outbox.clear()
    run(booking_services.booking_pay, booking_id=booking.pk, guest=guest, payment_token="tok_ok")
    (to_guest,) = _to(guest, "is confirmed")
    (to_host,) = _to(prop.host, "is confirmed")
    assert "Your stay at Harbour loft is confirmed" in to_guest.body
    assert "Gabriel's stay at Harbour loft is confirmed" in to_host.body
    assert Notification.objects.filter(kind="booking.confirmed").count() == 2


def test_a_guests_cancellation_tells_both_with_the_refund(run):
    prop, guest = _listing(instant_book=True, cancellation_policy="flexible"), _guest()
    check_in = property_today(prop) + timedelta(days=20)
    booking, _ = run(booking_services.booking_create, guest=guest, property_id=prop.pk,
                     check_in=check_in, check_out=check_in + timedelta(days=2), guests=1,
                     stay_type="standard", payment_token="tok_ok")  # fmt: skip
    mail.outbox.clear()
    _, refund = run(booking_services.booking_cancel, booking_id=booking.pk, user=guest)
    (receipt,) = _to(guest, "was cancelled")
    (notice,) = _to(prop.host, "was cancelled")
    assert "You cancelled this booking" in receipt.body
    assert "Gabriel cancelled this booking" in notice.body
    for message in (receipt, notice):
        assert f"Refund: {refund.amount:,.2f} EUR" in message.body
        assert "Flexible: a full refund until 24 hours before check-in" in message.body


def test_opening_with_an_amount_sends_the_host_one_email_with_the_currency(run):
    prop, guest = _listing(), _guest()
    _open(run, prop, guest, amount="250.00")
    (email,) = _to(prop.host)
    assert "250.00 EUR" in email.subject and "Gabriel" in email.subject
    assert Notification.objects.filter(user=prop.host).count() == 1
    assert "list price 363.00 EUR" in email.body  # 3 nights, cleaning and service fee


def test_the_pay_email_comes_even_with_its_kind_turned_off(run):
    prop, guest = _listing(), _guest()
    NotificationPreference.objects.create(user=guest, kind="booking.awaiting_payment", email=False)
    negotiation = _open(run, prop, guest, amount="250.00")
    run(negotiation_services.negotiation_accept, negotiation_id=negotiation.pk, user=prop.host)
    assert len(_to(guest, "Pay for booking")) == 1


# --- what the emails say ------------------------------------------------------------------


@time_machine.travel(datetime(2027, 3, 1, 14, 4, tzinfo=UTC), tick=False)
def test_the_pay_email_says_what_where_when_how_much_and_until_when(run):
    prop, guest = _listing(), _guest()  # Lisbon: UTC+0 on 1 March
    check_in = datetime(2027, 4, 2).date()  # a Friday
    negotiation = run(
        negotiation_services.negotiation_open, guest=guest, property_id=prop.pk,
        check_in=check_in, check_out=check_in + timedelta(days=3), guests=2,
        stay_type="standard", amount=D("250.00"),
    ).negotiation  # fmt: skip
    run(negotiation_services.negotiation_accept, negotiation_id=negotiation.pk, user=prop.host)
    (pay,) = _to(guest, "Pay for booking")
    booking = Booking.objects.get(negotiation=negotiation)
    text, html = pay.body, _html(pay)
    for part in (text, html):
        assert "Harbour loft" in part
        assert "Fri 2 Apr 2027, from 16:00" in part
        assert "Mon 5 Apr 2027, by 10:30" in part
        assert "3 nights, 2 guests" in part
        assert "250.00 EUR" in part
        assert "Hana accepted" in part
        assert "until 14:34, in 30 minutes" in part  # the hold's end, in words
        assert "Moderate: a full refund until 5 days before check-in" in part
        assert re.search(r"\d+ nights: [\d,.]+ EUR", part.replace("<td>", "").replace(
            '</td><td style="text-align: right;">', ": "))  # fmt: skip
        assert "2027-" not in part.replace(f"#/b/{booking.pk}", "")  # no raw ISO dates
    assert f'<a href="{SITE}/#/b/{booking.pk}">' in html
    assert f'<a href="{SITE}/#/p/{prop.pk}">' in html
    assert "List-Unsubscribe" not in pay.extra_headers  # a payment email: always sent


def test_the_confirmation_attaches_the_stay_as_an_ics_event(run):
    prop, guest = _listing(instant_book=True), _guest()
    check_in = property_today(prop) + timedelta(days=20)
    booking, _ = run(booking_services.booking_create, guest=guest, property_id=prop.pk,
                     check_in=check_in, check_out=check_in + timedelta(days=2), guests=1,
                     stay_type="standard", payment_token="tok_ok")  # fmt: skip
    (confirmation,) = _to(guest, "is confirmed")
    assert "Address: 1 Harbour Street" in confirmation.body
    ((name, content, mimetype),) = confirmation.attachments
    assert name.endswith(".ics") and mimetype.startswith("text/calendar")
    event = icalendar.Calendar.from_ical(content).walk("VEVENT")[0]
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert (start.date(), start.time(), str(start.tzinfo)) == (check_in, time(16), "Europe/Lisbon")
    assert (end.date(), end.time()) == (check_in + timedelta(days=2), time(10, 30))
    assert "Harbour loft" in str(event["summary"])
    assert str(event["url"]) == f"{SITE}/#/b/{booking.pk}"


def test_a_request_email_tells_the_host_who_when_and_until_when(run):
    prop, guest = _listing(instant_book=False), _guest()
    check_in = property_today(prop) + timedelta(days=20)
    booking, _ = run(booking_services.booking_create, guest=guest, property_id=prop.pk,
                     check_in=check_in, check_out=check_in + timedelta(days=2), guests=1,
                     stay_type="standard", payment_token="tok_ok")  # fmt: skip
    (request,) = _to(prop.host)
    assert _to(guest) == []
    assert "Gabriel" in request.subject and "Harbour loft" in request.subject
    assert "Approve or decline until" in request.body and "in 23 hours" in request.body
    assert f'<a href="{SITE}/#/b/{booking.pk}">' in _html(request)


def test_optional_emails_carry_a_working_one_click_unsubscribe(run):
    prop, guest = _listing(), _guest()
    _open(run, prop, guest, amount="250.00")
    (email,) = _to(prop.host)
    header = email.extra_headers["List-Unsubscribe"]
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header.strip("<>")
    assert url.startswith(f"{SITE}/email/unsubscribe/")
    path = url.removeprefix(SITE)
    browser = Client(enforce_csrf_checks=True)
    assert browser.get(path).status_code == 200  # a page with a button: nothing changes
    assert not NotificationPreference.objects.filter(user=prop.host).exists()
    answer = browser.post(path, "List-Unsubscribe=One-Click",
                          content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert answer.status_code == 200
    preference = NotificationPreference.objects.get(user=prop.host)
    assert (preference.kind, preference.email) == ("negotiation.offer.created", False)
    assert Client().post(path[:-3] + "xyz").status_code == 404  # a forged token


@override_settings(FRONTEND_URL=SITE)
def test_email_preferences_on_auth_me():
    guest = _guest()
    api = client_for(guest)
    prefs = api.get("/api/v1/auth/me/").json()["email_preferences"]
    assert prefs["negotiation.offer.created"] is True
    assert prefs["booking.awaiting_payment"] is True
    answer = api.patch("/api/v1/auth/me/", {"email_preferences": {
        "negotiation.offer.created": False}}, format="json")  # fmt: skip
    assert answer.status_code == 200, answer.json()
    assert answer.json()["email_preferences"]["negotiation.offer.created"] is False
    refused = api.patch("/api/v1/auth/me/", {"email_preferences": {
        "booking.awaiting_payment": False}}, format="json")  # fmt: skip
    assert refused.status_code == 400
    unknown = api.patch("/api/v1/auth/me/", {"email_preferences": {"nope": False}}, format="json")
    assert unknown.status_code == 400

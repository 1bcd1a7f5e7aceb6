"""Who is told what (DESIGN.md section 7), row by row: for every notification kind and
whoever acted (the guest, the host, the system), exactly who gets the in-app item, the
socket frame and the email. The expected table is written out here by hand, not derived
from ``notifications.recipients``."""

import pytest
from django.core import mail

from notifications import services
from notifications.emails import TEMPLATES
from notifications.models import Notification
from notifications.recipients import ACTORS, RULES
from properties.tests.factories import GuestFactory, HostFactory

pytestmark = pytest.mark.django_db

IS, ISE = "in_app socket", "in_app socket email"  # shorthand for channels

# kind -> {actor: {role: channels}}
EXPECTED = {
    # the person who must act is always told, whoever acted
    "booking.pending_host": {a: {"host": ISE} for a in ACTORS},
    "booking.awaiting_payment": {a: {"guest": ISE} for a in ACTORS},
    "booking.declined": {a: {"guest": ISE} for a in ACTORS},
    # both parties, the actor included (a receipt)
    "booking.confirmed": {a: {"guest": ISE, "host": ISE} for a in ACTORS},
    "booking.cancelled": {a: {"guest": ISE, "host": ISE} for a in ACTORS},
    "booking.expired": {a: {"guest": ISE, "host": ISE} for a in ACTORS},
    "booking.completed": {a: {"guest": IS, "host": IS} for a in ACTORS},
    "booking.request_expiring": {a: {"host": ISE} for a in ACTORS},
    "booking.checkin_reminder": {a: {"guest": ISE} for a in ACTORS},
    "review.invitation": {a: {"guest": ISE, "host": ISE} for a in ACTORS},
    "review.published": {
        "guest": {"host": IS},
        "host": {"guest": IS},
        "system": {"guest": IS, "host": IS},
    },
    "superhost.gained": {a: {"host": ISE} for a in ACTORS},
    "superhost.lost": {a: {"host": ISE} for a in ACTORS},
    # negotiations: the other party
    "negotiation.opened": {a: {"host": ISE} for a in ACTORS},
    "negotiation.offer.created": {
        "guest": {"host": ISE},
        "host": {"guest": ISE},
        "system": {"guest": ISE, "host": ISE},
    },
    # the guest's email of an acceptance is the booking's pay-now email
    "negotiation.offer.accepted": {
        "guest": {"host": ISE},
        "host": {"guest": IS},
        "system": {"host": ISE},
    },
    "negotiation.declined": {
        "guest": {"host": ISE},
        "host": {"guest": ISE},
        "system": {"guest": ISE, "host": ISE},
    },
    "negotiation.withdrawn": {a: {"host": IS} for a in ACTORS},
    "negotiation.expired": {a: {"guest": ISE, "host": ISE} for a in ACTORS},
    "negotiation.unavailable": {
        "guest": {"host": IS},
        "host": {"guest": ISE},
        "system": {"guest": ISE, "host": IS},
    },
    "negotiation.listing_archived": {a: {"guest": ISE} for a in ACTORS},
    "negotiation.message.created": {
        "guest": {"host": IS},
        "host": {"guest": IS},
        "system": {"guest": IS, "host": IS},
    },
}

DATA = {
    "id": 7, "negotiation": 3, "property": 5, "title": "Sunny flat", "timezone": "Europe/Lisbon",
    "check_in": "2027-06-01", "check_out": "2027-06-04", "check_in_time": "15:00",
    "check_out_time": "11:00", "guests": 2, "total": "320.00", "currency": "EUR",
    "hold_expires_at": "2027-05-01T10:30:00+00:00", "status": "accepted", "amount": "320.00",
    "expires_at": "2027-05-02T10:00:00+00:00", "cancellation_policy": "moderate",
    "guest_name": "Gabriel", "host_name": "Hana",
}  # fmt: skip


def test_the_table_has_a_row_for_every_kind_and_every_email_kind():
    assert set(RULES) == set(EXPECTED)
    assert set(TEMPLATES) <= set(RULES)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_who_gets_each_channel(kind, actor, monkeypatch, django_capture_on_commit_callbacks):
    guest, host = GuestFactory(first_name="Gabriel"), HostFactory(first_name="Hana")
    by_id = {guest.pk: "guest", host.pk: "host"}
    frames: list[tuple[str, str]] = []

    def publish(user_ids, payload):
        if payload.get("type") == "notification":
            frames.extend((by_id[user_id], payload["kind"]) for user_id in user_ids)

    monkeypatch.setattr(services, "publish_to_users", publish)
    actor_id = {"guest": guest.pk, "host": host.pk, "system": None}[actor]
    with django_capture_on_commit_callbacks(execute=True):
        services.tell(kind=kind, guest_id=guest.pk, host_id=host.pk, actor_id=actor_id, data=DATA)

    expected = EXPECTED[kind][actor]
    told = {by_id[n.user_id] for n in Notification.objects.filter(kind=kind)}
    pushed = {role for role, pushed_kind in frames if pushed_kind == kind}
    emailed = {by_id[u.pk] for u in (guest, host) for m in mail.outbox if m.to == [u.email]}
    assert told == {role for role, channels in expected.items() if "in_app" in channels}
    assert pushed == {role for role, channels in expected.items() if "socket" in channels}
    assert emailed == {role for role, channels in expected.items() if "email" in channels}
    assert Notification.objects.count() == len(expected)  # one item each, no more
    assert len(mail.outbox) == len(emailed)

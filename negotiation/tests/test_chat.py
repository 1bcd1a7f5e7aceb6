"""Chat messages in one statement (``negotiation.chat``, PostgreSQL): the same rows and
the same published frames as the ORM path, the ORM path for everything but the plain
case, and gap-free, time-ordered events under concurrent writers (real threads)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from bookings.tests.factories import bookable_property, verified_guest
from negotiation import chat, services
from negotiation.models import ChatMessage, Event, Negotiation, NegotiationStatus
from notifications.models import Notification

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]
TODAY = timezone.now().date()


def _open(days=20):
    prop = bookable_property(nightly="100.00")
    guest = verified_guest()
    negotiation = services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=TODAY + timedelta(days=days),
        check_out=TODAY + timedelta(days=days + 3), guests=1, stay_type="standard",
        amount=Decimal("300.00"),
    ).negotiation  # fmt: skip
    return negotiation, guest, prop.host


class Published(list):
    """What the actions publish after commit, in order; ``batches``: how it left."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def send(self, sends):
        if sends:
            self.batches.append(len(sends))
            self.extend(sends)

    def clear(self):
        super().clear()
        self.batches.clear()


@pytest.fixture
def published(monkeypatch):
    sent = Published()
    monkeypatch.setattr("core.publishing._send_batch", sent.send)
    return sent


def _written(negotiation_id: int, seq: int) -> dict:
    """The rows a message wrote, without their ids and times."""
    event = Event.objects.get(negotiation_id=negotiation_id, seq=seq)
    message = ChatMessage.objects.get(pk=event.data["message"])
    notice = Notification.objects.filter(data__negotiation=negotiation_id, data__seq=seq).get()
    return {
        "event": (event.type, event.actor_id, {**event.data, "message": "id"}),
        "message": (message.author_id, message.body),
        "notice": (
            notice.user_id,
            notice.kind,
            {**notice.data, "message": "id", "negotiation": "id"},
            notice.dedupe_key,
            notice.read_at,
        ),
        "times": {event.created_at, message.created_at, notice.created_at},
        "last_seq": Negotiation.objects.get(pk=negotiation_id).last_seq,
    }


DROPPED = {"at", "created_at", "id", "message", "property"}  # ids and times differ


def _normalised(sends, negotiation: Negotiation, guest, host) -> list:
    """Published messages with ids and times left out and groups named by role."""
    groups = {
        f"negotiation.{negotiation.pk}": "negotiation",
        f"user.{guest.pk}": "user.guest",
        f"user.{host.pk}": "user.host",
    }

    def clean(value, key=None):
        if isinstance(value, dict):
            return {k: clean(v, k) for k, v in value.items() if k not in DROPPED}
        if key == "negotiation" and value == negotiation.pk:
            return "this negotiation"
        return value

    return [(groups[group], clean(message)) for group, message in sends]


def test_the_statement_writes_and_publishes_what_the_orm_path_does(published, monkeypatch):
    fast, fast_guest, fast_host = _open(20)
    slow, slow_guest, slow_host = _open(40)

    published.clear()
    seq = services.negotiation_message(negotiation_id=fast.pk, user=fast_host, body="Hi ✓")
    assert published.batches == [4]  # one hop to the event loop, as at a commit
    fast_sends = _normalised(published, fast, fast_guest, fast_host)
    fast_rows = _written(fast.pk, seq.seq)

    monkeypatch.setattr(chat, "post_message", lambda *args: None)  # force the ORM path
    published.clear()
    seq_slow = services.negotiation_message(negotiation_id=slow.pk, user=slow_host, body="Hi ✓")
    slow_sends = _normalised(published, slow, slow_guest, slow_host)
    slow_rows = _written(slow.pk, seq_slow.seq)

    assert seq.seq == seq_slow.seq == fast.last_seq + 1
    assert len(fast_rows["times"]) == 1  # one statement: one time (and not the ORM path)
    assert len(slow_rows["times"]) > 1
    for rows, host, guest in [
        (fast_rows, fast_host, fast_guest),
        (slow_rows, slow_host, slow_guest),
    ]:
        assert rows["event"][:2] == ("message.created", host.pk)
        assert rows["message"] == (host.pk, "Hi ✓")
        assert rows["notice"][0] == guest.pk  # the counterpart
    assert fast_rows["event"][2] == slow_rows["event"][2] == {
        "message": "id", "body": "Hi ✓", "side": "host",
    }  # fmt: skip
    assert fast_rows["notice"][1:] == slow_rows["notice"][1:]
    assert fast_rows["last_seq"] == slow_rows["last_seq"]
    assert fast_sends == slow_sends
    assert [group for group, _ in fast_sends] == [
        "negotiation",
        "user.guest",
        "user.host",
        "user.guest",
    ]


def test_everything_but_the_plain_case_takes_the_orm_path(published):
    negotiation, guest, host = _open()
    stranger = verified_guest()
    published.clear()
    now = timezone.now()
    assert chat.post_message(negotiation.pk, stranger, "hello", now) is None
    assert chat.post_message(999_999_999, guest, "hello", now) is None
    lapsed = now + timedelta(days=30)
    assert chat.post_message(negotiation.pk, guest, "hello", lapsed) is None
    Negotiation.objects.filter(pk=negotiation.pk).update(
        status=NegotiationStatus.DECLINED, closed_at=now
    )
    assert chat.post_message(negotiation.pk, guest, "hello", now) is None
    # nothing was written by the refusals
    assert Negotiation.objects.get(pk=negotiation.pk).last_seq == negotiation.last_seq
    assert not ChatMessage.objects.filter(negotiation=negotiation).exists()
    assert published == []
    # the ORM path still lets a party write on a recently closed negotiation
    outcome = services.negotiation_message(negotiation_id=negotiation.pk, user=host, body="bye")
    assert outcome.seq == negotiation.last_seq + 1


def test_concurrent_writers_get_gap_free_seqs_in_time_order(published):
    negotiation, guest, host = _open()
    barrier = threading.Barrier(2)
    errors = []

    def write(user, n=25):
        try:
            barrier.wait(timeout=10)
            for i in range(n):
                services.negotiation_message(
                    negotiation_id=negotiation.pk, user=user, body=f"{user.pk}:{i}"
                )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(u,)) for u in (guest, host)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    events = list(Event.objects.filter(negotiation=negotiation).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) == negotiation.last_seq + 50
    times = [e.created_at for e in events]
    assert times == sorted(times)
    assert Negotiation.objects.get(pk=negotiation.pk).last_seq == events[-1].seq
    assert ChatMessage.objects.filter(negotiation=negotiation).count() == 50
    notices = Notification.objects.filter(kind="negotiation.message.created")
    assert notices.filter(user=host).count() == notices.filter(user=guest).count() == 25

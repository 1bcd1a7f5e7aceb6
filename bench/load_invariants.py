"""The load test's invariants (``bench/load.py``), checked once the workload is over: no
overlapping holding bookings, gap-free event logs, every socket's events in order, and every
email sent once (counted by the local SMTP server)."""

import threading
import time
from email import message_from_bytes


class SmtpCounter:
    """Counts messages per ``X-Parley-Email-Key`` header."""

    def __init__(self):
        self.keys: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        key = message_from_bytes(envelope.content)["X-Parley-Email-Key"]
        with self.lock:
            self.keys.append(key)
        return "250 OK"


def expected_emails() -> int:
    from notifications.emails import TEMPLATES
    from notifications.models import Notification

    return Notification.objects.filter(kind__in=list(TEMPLATES)).count()


def wait_for_emails(counter: SmtpCounter, timeout: float) -> None:
    from notifications.models import EmailLog

    end = time.monotonic() + timeout
    expected = expected_emails()
    while time.monotonic() < end:
        if (
            EmailLog.objects.filter(status="sent").count() >= expected
            and len(counter.keys) >= expected
        ):
            return
        time.sleep(0.5)


def check_invariants(counter: SmtpCounter, deliveries) -> list[tuple[str, bool, str]]:
    from django.db import connection

    from notifications.models import EmailLog

    checks = []
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
                 ON a.property_id = b.property_id AND a.id < b.id
                AND daterange(a.check_in, a.check_out) && daterange(b.check_in, b.check_out)
              WHERE a.status IN ('pending_host', 'awaiting_payment', 'confirmed')
                AND b.status IN ('pending_host', 'awaiting_payment', 'confirmed')"""
        )
        overlaps = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'confirmed') FROM bookings_booking"
        )
        bookings, confirmed = cursor.fetchone()
        checks.append(
            (
                "no overlapping holding bookings",
                overlaps == 0,
                f"{overlaps} overlapping pairs among {bookings} bookings ({confirmed} confirmed)",
            )
        )
        cursor.execute(
            """SELECT count(*), count(*) FILTER (WHERE n.last_seq <> coalesce(e.n, 0)
                          OR n.last_seq <> coalesce(e.top, 0) OR coalesce(e.bottom, 1) <> 1)
                 FROM negotiation_negotiation n
                 LEFT JOIN (SELECT negotiation_id, count(*) n, max(seq) top, min(seq) bottom
                              FROM negotiation_event GROUP BY negotiation_id) e
                   ON e.negotiation_id = n.id"""
        )
        negotiations, gapped = cursor.fetchone()
        checks.append(
            (
                "gap-free event logs",
                gapped == 0,
                f"{gapped} of {negotiations} negotiations with a gap",
            )
        )
    bad_sockets = [d for d in deliveries if d[2] != list(range(1, d[3] + 1))]
    checks.append(("sockets saw 1..last_seq in order, no duplicate", not bad_sockets,
                   f"{len(bad_sockets)} of {len(deliveries)} sockets differ"
                   + (f"; first: {bad_sockets[0]}" if bad_sockets else "")))  # fmt: skip
    expected = expected_emails()
    sent = EmailLog.objects.filter(status="sent").count()
    not_sent = EmailLog.objects.exclude(status="sent").count()
    keys = list(counter.keys)
    duplicates = len(keys) - len(set(keys))
    once = expected == sent == len(set(keys)) and duplicates == 0 and not_sent == 0
    checks.append(("every email sent once", once,
                   f"{expected} expected, {sent} EmailLog rows sent, {not_sent} not sent, "
                   f"{len(keys)} received by SMTP ({duplicates} duplicates)"))  # fmt: skip
    return checks

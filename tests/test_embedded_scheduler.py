"""The beat schedule run inside the server in the embedded default
(core/embedded_scheduler.py): the loop on its own, fast; then through a real daphne
process on SQLite, where a lapsed payment hold and a lapsed negotiation reach the open
sockets and the mailbox of both parties with nobody acting."""

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import websockets
from celery.schedules import schedule

from core import embedded_scheduler
from core.embedded_scheduler import EmbeddedScheduler, Entry, entries_from
from tests.live_server import embedded_env, manage, running_server

# --- the loop ----------------------------------------------------------------------------


def _every(seconds: float) -> schedule:
    return schedule(timedelta(seconds=seconds))


def _run_scheduler_for(scheduler: EmbeddedScheduler, seconds: float) -> float:
    """Run ``scheduler`` for ``seconds``, stop it; return how long the stop took."""
    return _run_scheduler_timed(scheduler, seconds)[1]


def _run_scheduler_timed(scheduler: EmbeddedScheduler, seconds: float) -> tuple[float, float]:
    """Run ``scheduler`` for ``seconds`` (longer on a busy machine), stop it; return how
    long it ran before the stop and how long the stop took."""

    async def main():
        started = time.monotonic()
        task = scheduler.start()
        await asyncio.sleep(seconds)
        scheduler.stop()
        stopped_at = time.monotonic()
        await asyncio.wait_for(task, 5)
        return stopped_at - started, time.monotonic() - stopped_at

    return asyncio.run(main())


def test_due_entries_run_one_at_a_time_and_a_failing_one_does_not_stop_the_others():
    ran: dict[str, int] = {"fast": 0, "failing": 0, "slow": 0}
    busy = threading.Lock()
    overlapped = []

    def run(entry: Entry):
        if not busy.acquire(blocking=False):
            overlapped.append(entry.name)
            return None
        try:
            ran[entry.name] += 1
            time.sleep(0.01)
            if entry.name == "failing":
                raise RuntimeError("boom")
            return 1
        finally:
            busy.release()

    scheduler = EmbeddedScheduler(
        [
            Entry("fast", "t.fast", _every(0.05)),
            Entry("failing", "t.failing", _every(0.05)),
            Entry("slow", "t.slow", _every(0.5)),
        ],
        run,
        max_sleep=5,
    )
    ran_for, stop_took = _run_scheduler_timed(scheduler, 0.8)
    assert ran["fast"] >= 5 and ran["failing"] >= 5, ran  # every failure was survived
    # at its interval, not at every check: once in 0.8 s (more if the loop ran late)
    assert 1 <= ran["slow"] <= int(ran_for / 0.5), (ran, ran_for)
    assert overlapped == []
    assert stop_took < 0.5  # a stop does not wait for the next check


def test_nothing_runs_before_its_first_interval_and_stop_ends_a_long_sleep():
    runs = []
    scheduler = EmbeddedScheduler([Entry("hourly", "t.h", _every(3600))], runs.append)
    stop_took = _run_scheduler_for(scheduler, 0.2)
    assert runs == []  # as a fresh beat: one interval after start
    assert stop_took < 0.5


def test_an_entry_whose_schedule_fails_is_skipped_and_the_rest_still_run():
    class Broken:
        def now(self):
            raise ValueError("bad clock")

    ran = []
    scheduler = EmbeddedScheduler(
        [Entry("broken", "t.b", Broken()), Entry("ok", "t.ok", _every(0.05))],
        lambda entry: ran.append(entry.name),
    )
    _run_scheduler_for(scheduler, 0.3)
    assert ran and set(ran) == {"ok"}


def test_every_beat_entry_names_a_registered_task():
    from config.celery_app import app

    app.loader.import_default_modules()
    entries = entries_from(app.conf.beat_schedule, app=app)
    assert {e.name for e in entries} == set(app.conf.beat_schedule)
    assert [e.task for e in entries if e.task not in app.tasks] == []
    for entry in entries:
        due, next_in = entry.is_due()
        assert not due and next_in > 0


@pytest.mark.django_db(transaction=True)
def test_every_beat_task_runs_by_name_in_a_worker_thread_on_this_database():
    """As the scheduler runs them: each in a thread of its own, with its own connection
    (the sweeps' ``select_for_update(skip_locked=True)`` included, a no-op on SQLite)."""
    from config.celery_app import app

    with ThreadPoolExecutor(1) as pool:
        for entry in entries_from(app.conf.beat_schedule, app=app):
            result = pool.submit(embedded_scheduler.run_task, entry).result(timeout=60)
            assert result in (0, None), (entry.name, result)  # nothing to do, no error


@pytest.mark.parametrize(
    ("flag", "redis_url", "expected"),
    [(None, "", False), ("true", "", True), ("false", "", False), ("true", "redis://x", False)],
)
def test_enabled_only_in_the_embedded_mode_and_under_pytest_only_when_asked(
    monkeypatch, settings, flag, redis_url, expected
):
    if flag is None:
        monkeypatch.delenv("EMBEDDED_SCHEDULER", raising=False)
    else:
        monkeypatch.setenv("EMBEDDED_SCHEDULER", flag)
    settings.REDIS_URL = redis_url
    settings.CELERY_TASK_ALWAYS_EAGER = not redis_url
    assert embedded_scheduler.enabled() is expected


def test_off_the_application_is_returned_unchanged(monkeypatch):
    monkeypatch.delenv("EMBEDDED_SCHEDULER", raising=False)

    async def application(scope, receive, send):
        pass

    assert embedded_scheduler.with_embedded_scheduler(application) is application


def test_a_server_with_lifespan_starts_and_stops_it(monkeypatch, settings):
    monkeypatch.setenv("EMBEDDED_SCHEDULER", "true")
    settings.REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    scheduler = EmbeddedScheduler([], lambda entry: None)
    monkeypatch.setattr(embedded_scheduler, "_scheduler", scheduler)

    async def application(scope, receive, send):
        raise AssertionError("lifespan is not passed on")

    wrapped = embedded_scheduler.with_embedded_scheduler(application)

    async def main():
        inbox = asyncio.Queue()
        for kind in ("lifespan.startup", "lifespan.shutdown"):
            inbox.put_nowait({"type": kind})
        sent = []

        async def send(message):
            sent.append(message["type"])

        await wrapped({"type": "lifespan"}, inbox.get, send)
        await asyncio.wait_for(scheduler.task, 2)
        return sent

    assert asyncio.run(main()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# --- through daphne ----------------------------------------------------------------------

SEED = """
import json
from datetime import timedelta
from decimal import Decimal
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken
from bookings.tests.factories import bookable_property, verified_guest
from negotiation import services

prop = bookable_property(nightly="100.00")
host = prop.host
guest = verified_guest()
today = timezone.now().date()

def open_negotiation(days_ahead):
    return services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=today + timedelta(days=days_ahead),
        check_out=today + timedelta(days=days_ahead + 3), guests=2, stay_type="standard",
        amount=Decimal("280.00"),
    ).negotiation

# The guest accepts the host's counter (the service the socket calls) and does not pay.
accepted = open_negotiation(30)
services.negotiation_offer(negotiation_id=accepted.pk, user=host, amount=Decimal("290.00"))
services.negotiation_accept(negotiation_id=accepted.pk, user=guest)
accepted.refresh_from_db()
# An open negotiation nobody answers: it lapses after NEGOTIATION_OFFER_TTL_MINUTES.
lapsing = open_negotiation(60)
print(json.dumps({
    "booking": accepted.booking.pk, "booking_status": accepted.booking.status,
    "hold_expires_at": accepted.booking.hold_expires_at.timestamp(),
    "lapsing": lapsing.pk, "lapsing_expires_at": lapsing.expires_at.timestamp(),
    "guest": str(AccessToken.for_user(guest)), "host": str(AccessToken.for_user(host)),
    "guest_email": guest.email, "host_email": host.email,
}))
"""

REPORT = """
import json
from bookings.models import Booking
from negotiation.models import Negotiation
from notifications.emails import email_key_and_template
from notifications.models import EmailLog, Notification
told = Notification.objects.filter(kind__in=("booking.expired", "negotiation.expired"))
print(json.dumps({
    "booking": Booking.objects.get(pk=%(booking)d).status,
    "lapsing": Negotiation.objects.get(pk=%(lapsing)d).status,
    "told": sorted(
        [n.user.email, n.kind, EmailLog.objects.get(key=email_key_and_template(n)[0]).status]
        for n in told.select_related("user")
    ),
    "guest": %(guest_email)r, "host": %(host_email)r,
}))
"""


async def _socket(base: str, path: str, token: str):
    return await websockets.connect(
        base.replace("http://", "ws://") + path,
        origin=base,
        additional_headers={"Authorization": f"Bearer {token}"},
    )


async def _wait_for(ws, predicate, deadline: float) -> dict:
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("the expiry did not reach this socket in time")
        frame = json.loads(await asyncio.wait_for(ws.recv(), left))
        if predicate(frame):
            return frame


def _notification(kind: str):
    return lambda frame: frame.get("type") == "notification" and frame.get("kind") == kind


def _room_event(event: str):
    return lambda frame: frame.get("type") == "event" and frame.get("event") == event


def test_lapsed_hold_and_negotiation_reach_open_sockets_and_email_with_nobody_acting(tmp_path):
    env = embedded_env(tmp_path)
    env.update(BOOKING_PAYMENT_HOLD_MINUTES="1", NEGOTIATION_OFFER_TTL_MINUTES="1")
    env.pop("EMBEDDED_SCHEDULER", None)  # the default, as `make run` has it
    manage("migrate", "--noinput", env=env)
    seed = json.loads(manage("shell", "-c", SEED, env=env).strip().splitlines()[-1])
    assert seed["booking_status"] == "awaiting_payment"
    log_path = tmp_path / "server.log"
    with running_server(env, log_path=log_path) as base:
        started = time.time()
        # The first sweep runs one minute after the server starts: both have lapsed by then.
        assert seed["hold_expires_at"] < started + 60
        assert seed["lapsing_expires_at"] < started + 60

        async def watch():
            room = f"/ws/negotiations/{seed['lapsing']}/"
            sockets = {
                "guest_notes": await _socket(base, "/ws/notifications/", seed["guest"]),
                "host_notes": await _socket(base, "/ws/notifications/", seed["host"]),
                "guest_room": await _socket(base, room, seed["guest"]),
                "host_room": await _socket(base, room, seed["host"]),
            }
            deadline = time.monotonic() + 90
            try:
                for side in ("guest", "host"):
                    notes = sockets[f"{side}_notes"]
                    expired = await _wait_for(notes, _notification("booking.expired"), deadline)
                    assert expired["data"]["id"] == seed["booking"]
                    await _wait_for(notes, _notification("negotiation.expired"), deadline)
                    frame = await _wait_for(
                        sockets[f"{side}_room"], _room_event("negotiation.expired"), deadline
                    )
                    assert frame["data"]["status"] == "expired"
                return time.time() - started
            finally:
                for ws in sockets.values():
                    await ws.close()

        told_after = asyncio.run(watch())
    report = json.loads(manage("shell", "-c", REPORT % seed, env=env).strip().splitlines()[-1])
    assert report["booking"] == "expired" and report["lapsing"] == "expired"
    # Each party was told each lapse once, in-app and by email.
    assert report["told"] == sorted(
        [email, kind, "sent"]
        for email in (seed["guest_email"], seed["host_email"])
        for kind in ("booking.expired", "negotiation.expired")
    ), report
    server_log = log_path.read_text()
    assert "Subject:" in server_log  # the console email backend printed them
    assert "embedded scheduler: expire-lapsed-holds -> 1" in server_log
    assert " failed" not in server_log and "Traceback" not in server_log, server_log
    print(f"both lapses told {told_after:.1f}s after the server started")

"""Mixed-workload load test (`make bench-load`): search, quotes, bookings and live
negotiations over WebSockets against two daphne processes, a real Celery worker sending
every email to a local SMTP server, PostgreSQL and Redis; then the invariants.

    .venv/bin/python -m bench.load [--duration 300] [--clients 16] [--pairs 8]

What it does:

1. creates (if missing), migrates and empties its own database, ``parley_bench_load``
   (``LOAD_DATABASE_URL`` overrides it; ``test`` and the system databases are refused),
   then creates instant-book listings, listings that take offers, hosts and guests;
2. starts an SMTP server (aiosmtpd) in this process, a Celery worker and ``--processes``
   daphne processes (``config.settings.production``, SO_REUSEPORT on one port), with a
   Redis key prefix and a Celery queue of the run's own (Redis db 9 by default);
3. for ``--duration`` seconds, ``--clients`` HTTP clients (keep-alive) loop over a mix of
   search (with dates), quotes, bookings (random dates: 201, or a clean 409
   ``dates_unavailable``) and their booking list, while ``--pairs`` guest/host pairs
   negotiate over sockets (open over REST, then message, counter-offers and accept over
   the two sockets, waiting for each ``ack``), then pay the agreed booking over REST, and
   start again on new dates;
4. waits for the worker to send every email, stops everything and checks: no two holding
   bookings of a listing overlap (SQL self-join), every negotiation's event log is
   ``1..last_seq`` with no gap, every socket received its events in order without a
   duplicate, and every email that had to go was sent once (notifications with an email
   template = ``EmailLog`` rows sent = distinct messages the SMTP server received).

Prints throughput, p50/p99 per operation and error counts (target: zero 5xx). Exit code 1
if an invariant fails or a 5xx was seen.
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):  # `python bench/load.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.common import log, summary_ms

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/parley_bench_load"
CITY = "Loadville"
PRODUCTION = "config.settings.production"
HTTP_MIX = [("search", 35), ("quote", 30), ("book", 20), ("my_bookings", 15)]


# --- setup ---------------------------------------------------------------------------------


def load_env(run: str, smtp_port: int) -> dict[str, str]:
    os.environ["DATABASE_URL"] = os.environ.get("LOAD_DATABASE_URL") or DEFAULT_DATABASE_URL
    env = common.bench_env()
    name = urlsplit(env["DATABASE_URL"]).path.lstrip("/")
    if not name.startswith("parley_bench"):
        sys.exit(f"the load test empties its database; use one named parley_bench_*, not {name}")
    env.update(
        REDIS_KEY_PREFIX=f"parley-load-{run}",
        CELERY_TASK_DEFAULT_QUEUE=f"load-{run}",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        LOG_FORMAT="text",
    )
    return env


def seed(clients: int, pairs: int, listings: int) -> dict:
    from django.db import connection
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from properties.models import Property, StayType

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_user, notifications_emaillog RESTART IDENTITY CASCADE")
    now = timezone.now()

    def user(email, **fields):
        return User.objects.create_user(email, None, email_verified_at=now, **fields)

    def token(u) -> str:
        access = AccessToken.for_user(u)
        access.set_exp(lifetime=timedelta(hours=6))  # outlives a long run
        return str(access)

    def listing(host, i, *, instant):
        prop = Property.objects.create(
            host=host, status=Property.Status.PUBLISHED, title=f"Load flat {i}",
            description="A flat for the load test.", address=f"{i} Load Street", city=CITY,
            country="FR", latitude=Decimal("48.85"), longitude=Decimal("2.35"),
            timezone="Europe/Paris", max_guests=4, currency="EUR", instant_book=instant,
            accepts_offers=not instant, cleaning_fee=Decimal("20.00"),
            base_nightly_price=Decimal("100.00"), published_at=now,
        )  # fmt: skip
        StayType.objects.create(property=prop, kind="standard", nightly_price=Decimal("100.00"))
        return prop.pk

    hosts = [
        user(f"host{i}@load.parley.invalid", is_host=True, became_host_at=now) for i in range(5)
    ]
    instant = [listing(hosts[i % len(hosts)], i, instant=True) for i in range(listings)]
    guests = [token(user(f"guest{i}@load.parley.invalid")) for i in range(clients)]
    negotiating = []
    for i in range(pairs):
        host = user(f"nhost{i}@load.parley.invalid", is_host=True, became_host_at=now)
        prop = listing(host, 1000 + i, instant=False)
        guest = user(f"nguest{i}@load.parley.invalid")
        negotiating.append({"property": prop, "guest": token(guest), "host": token(host)})
    return {"instant": instant, "guests": guests, "pairs": negotiating}


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


def start_worker(env: dict[str, str], logdir: str) -> subprocess.Popen:
    out = open(Path(logdir) / "celery.log", "ab")  # noqa: SIM115 -- the child keeps it
    proc = subprocess.Popen(
        [str(common.ROOT / ".venv" / "bin" / "celery"), "-A", "config.celery_app", "worker",
         "--concurrency=2", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel=WARNING"],
        cwd=common.ROOT, env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": PRODUCTION},
        stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out.close()
    return proc


# --- workload ------------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.outcome: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.examples: dict[str, str] = {}

    def record(self, op: str, elapsed: float, outcome: str, detail: str = "") -> None:
        self.latency[op].append(elapsed)
        self.outcome[op][outcome] += 1
        if outcome not in ("ok", "conflict") and outcome not in self.examples:
            self.examples[outcome] = f"{op}: {detail[:300]}"


def _classify(status: int, body: bytes, ok: tuple[int, ...]) -> str:
    if status in ok:
        return "ok"
    if status == 409 and b"dates_unavailable" in body:
        return "conflict"
    return "5xx" if status >= 500 else f"{status}"


async def http_client(port, token, instant, today, deadline, stats, rng):
    conn = common.Connection(port)
    auth = {"Authorization": f"Bearer {token}"}
    ops, weights = zip(*HTTP_MIX, strict=True)
    while time.monotonic() < deadline:
        op = rng.choices(ops, weights)[0]
        check_in = today + timedelta(days=rng.randint(1, 360))
        check_out = check_in + timedelta(days=rng.randint(1, 4))
        dates = f"check_in={check_in}&check_out={check_out}&guests=2"
        prop = rng.choice(instant)
        method, body, ok, headers = "GET", b"", (200,), auth
        if op == "search":
            path = f"/api/v1/properties/?city={CITY}&{dates}"
        elif op == "quote":
            path = f"/api/v1/properties/{prop}/quote/?{dates}&stay_type=standard"
        elif op == "my_bookings":
            path = "/api/v1/bookings/?role=guest"
        else:
            method, path, ok = "POST", "/api/v1/bookings/", (201,)
            headers = {
                **auth,
                "Content-Type": "application/json",
                "Idempotency-Key": uuid.uuid4().hex,
            }
            body = json.dumps(
                {"property": prop, "check_in": str(check_in), "check_out": str(check_out),
                 "guests": 2, "stay_type": "standard", "payment_token": "tok_ok"}
            ).encode()  # fmt: skip
        started = time.perf_counter()
        try:
            status, answer = await conn.request(method, path, headers=headers, body=body)
        except (OSError, asyncio.IncompleteReadError) as exc:
            stats.record(op, time.perf_counter() - started, "connection", repr(exc))
            await conn.close()
            continue
        stats.record(
            op,
            time.perf_counter() - started,
            _classify(status, answer, ok),
            answer.decode(errors="replace"),
        )
    await conn.close()


class Socket:
    """A negotiation socket that records every event ``seq`` and hands out answers."""

    def __init__(self, ws):
        self.ws, self.seqs, self.answers = ws, [], {}
        self.waiters: dict[str, asyncio.Future] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        import websockets

        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                if frame.get("type") == "event":
                    self.seqs.append(frame["seq"])
                elif (
                    frame.get("type") in ("ack", "error") and frame.get("client_id") in self.waiters
                ):
                    self.waiters.pop(frame["client_id"]).set_result(frame)
        except websockets.ConnectionClosed:
            pass

    async def act(self, frame: dict, timeout: float = 10) -> dict:
        client_id = uuid.uuid4().hex[:12]
        future = asyncio.get_running_loop().create_future()
        self.waiters[client_id] = future
        await self.ws.send(json.dumps({**frame, "client_id": client_id}))
        return await asyncio.wait_for(future, timeout)

    async def wait_seq(self, seq: int, timeout: float = 5) -> bool:
        end = time.monotonic() + timeout
        while (not self.seqs or self.seqs[-1] < seq) and time.monotonic() < end:
            await asyncio.sleep(0.02)
        return bool(self.seqs) and self.seqs[-1] >= seq

    async def close(self):
        await self.ws.close()
        await self.reader


async def negotiation_pair(port, pair, index, today, deadline, stats, deliveries):
    import websockets

    conn = common.Connection(port)
    base = f"http://127.0.0.1:{port}"
    guest_auth = {"Authorization": f"Bearer {pair['guest']}", "Content-Type": "application/json"}
    round_ = 0
    while time.monotonic() < deadline:
        round_ += 1
        check_in = today + timedelta(days=5 + 4 * round_)
        body = json.dumps(
            {"property": pair["property"], "check_in": str(check_in),
             "check_out": str(check_in + timedelta(days=3)), "guests": 2,
             "stay_type": "standard", "amount": "200.00", "message": "Hello"}
        ).encode()  # fmt: skip
        started = time.perf_counter()
        status, answer = await conn.request(
            "POST", "/api/v1/negotiations/", headers=guest_auth, body=body
        )
        stats.record(
            "nego_open",
            time.perf_counter() - started,
            _classify(status, answer, (201,)),
            answer.decode(errors="replace"),
        )
        if status != 201:
            await asyncio.sleep(0.5)
            continue
        negotiation = json.loads(answer)
        nid, total = negotiation["id"], Decimal(negotiation["list_total"])
        sockets = {}
        for side in ("guest", "host"):
            ws = await websockets.connect(
                f"ws://127.0.0.1:{port}/ws/negotiations/{nid}/?after=0", origin=base,
                additional_headers={"Authorization": f"Bearer {pair[side]}"},
            )  # fmt: skip
            sockets[side] = Socket(ws)

        def offer(share: str, total=total) -> dict:
            return {"type": "offer", "amount": str((total * Decimal(share)).quantize(Decimal(1)))}

        steps = [
            ("host", "ws_message", {"type": "message", "body": "Hi, let us talk."}),
            ("host", "ws_offer", offer("0.95")),
            ("guest", "ws_offer", offer("0.80")),
            ("host", "ws_offer", offer("0.90")),
            ("guest", "ws_accept", {"type": "accept"}),
        ]
        try:
            for side, op, frame in steps:
                started = time.perf_counter()
                try:
                    reply = await sockets[side].act(frame)
                    outcome = "ok" if reply["type"] == "ack" else f"ws_{reply.get('code')}"
                    detail = json.dumps(reply)
                except TimeoutError:
                    outcome, detail = "ws_timeout", "no ack within 10 s"
                stats.record(op, time.perf_counter() - started, outcome, detail)
            status, answer = await conn.request(
                "GET", f"/api/v1/negotiations/{nid}/", headers=guest_auth
            )
            state = json.loads(answer) if status == 200 else {}
            last = state.get("last_seq", 0)
            for side, sock in sockets.items():
                received = await sock.wait_seq(last)
                deliveries.append((nid, side, list(sock.seqs), last, received))
            booking = state.get("booking")
            booking_id = booking["id"] if isinstance(booking, dict) else booking
            if booking_id:
                started = time.perf_counter()
                status, answer = await conn.request(
                    "POST", f"/api/v1/bookings/{booking_id}/pay/", headers=guest_auth,
                    body=json.dumps({"payment_token": "tok_ok"}).encode(),
                )  # fmt: skip
                stats.record(
                    "pay",
                    time.perf_counter() - started,
                    _classify(status, answer, (200,)),
                    answer.decode(errors="replace"),
                )
        finally:
            for sock in sockets.values():
                await sock.close()
    await conn.close()


async def workload(port, seed_data, duration, seed_value):
    from django.utils import timezone

    today = timezone.now().date()
    stats, deliveries = Stats(), []
    rng = random.Random(seed_value)
    instant = seed_data["instant"]
    deadline = time.monotonic() + duration
    started = time.perf_counter()
    await asyncio.gather(
        *(
            http_client(port, token, instant, today, deadline, stats, random.Random(rng.random()))
            for token in seed_data["guests"]
        ),
        *(
            negotiation_pair(port, pair, i, today, deadline, stats, deliveries)
            for i, pair in enumerate(seed_data["pairs"])
        ),
    )  # fmt: skip
    return stats, deliveries, time.perf_counter() - started


# --- invariants ----------------------------------------------------------------------------


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


def cleanup_redis(env: dict[str, str]) -> None:
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    for pattern in (f"{env['REDIS_KEY_PREFIX']}*", f"*{env['CELERY_TASK_DEFAULT_QUEUE']}*"):
        for key in client.scan_iter(match=pattern, count=1000):
            client.delete(key)
    client.close()


# --- main ----------------------------------------------------------------------------------


def report(args, stats: Stats, elapsed: float, checks, load_before, load_after) -> list[str]:
    total = sum(len(v) for v in stats.latency.values())
    errors = sum(
        n for op in stats.outcome.values() for k, n in op.items() if k not in ("ok", "conflict")
    )
    five = sum(op.get("5xx", 0) for op in stats.outcome.values())
    lines = [
        f"=== load test ({args.duration:g} s{' - SHORT RUN' if args.duration < 300 else ''})",
        common.machine_line(),
        common.postgres_line(),
        f"servers: daphne x{args.processes} (config.settings.production, SO_REUSEPORT), "
        "1 Celery worker (prefork, 2 processes) -> local SMTP",
        f"clients: {args.clients} HTTP clients (keep-alive), "
        f"{args.pairs} negotiating pairs (2 sockets each)",
        f"before: {load_before}",
        f"after: {load_after}",
        "",
        f"operations: {total} in {elapsed:.1f} s = {total / elapsed:.1f}/s; "
        f"errors {errors} ({errors / max(total, 1):.3%}), 5xx {five}",
        f"{'operation':<12} {'n':>6} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        "  outcomes",
    ]
    for op in sorted(stats.latency):
        s = summary_ms(stats.latency[op])
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(stats.outcome[op].items()))
        lines.append(
            f"{op:<12} {s['n']:>6} {s['n'] / elapsed:>7.1f} {s['p50']:>8.1f} {s['p99']:>8.1f} "
            f"{s['max']:>8.1f}  {outcomes}"
        )
    if stats.examples:
        lines.append("first error of each kind:")
        lines += [f"  {k}: {v}" for k, v in stats.examples.items()]
    lines += ["", "invariants:"]
    lines += [f"  {'OK  ' if ok else 'FAIL'} {name}: {detail}" for name, ok, detail in checks]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds (default 300)")
    parser.add_argument("--clients", type=int, default=16, help="HTTP clients")
    parser.add_argument("--pairs", type=int, default=8, help="negotiating guest/host pairs")
    parser.add_argument("--listings", type=int, default=40, help="instant-book listings")
    parser.add_argument("--processes", type=int, default=2, help="daphne processes")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the workload")
    args = parser.parse_args(argv)

    from aiosmtpd.controller import Controller

    run = uuid.uuid4().hex[:8]
    counter = SmtpCounter()
    smtp = Controller(counter, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    env = load_env(run, smtp.port)
    common.ensure_database(env["DATABASE_URL"])
    common.setup_django(env, "config.settings.production")
    common.migrate()
    from django.db import connection

    log("seeding")
    seed_data = seed(args.clients, args.pairs, args.listings)
    connection.close()
    load_before = common.load_line()
    servers = common.start_daphne(env, "config.settings.production", args.processes)
    worker = start_worker(env, servers.logdir)
    try:
        log(f"workload for {args.duration:g} s")
        stats, deliveries, elapsed = asyncio.run(
            workload(servers.port, seed_data, args.duration, args.seed)
        )
        log("waiting for the worker to send every email")
        wait_for_emails(counter, timeout=120)
    finally:
        servers.stop()
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        smtp.stop()
        log(f"servers and worker stopped (logs in {servers.logdir})")
    load_after = common.load_line()
    checks = check_invariants(counter, deliveries)
    connection.close()
    cleanup_redis(env)
    lines = report(args, stats, elapsed, checks, load_before, load_after)
    print("\n".join(lines), flush=True)
    five = sum(op.get("5xx", 0) for op in stats.outcome.values())
    return 0 if all(ok for _, ok, _ in checks) and five == 0 else 1


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())

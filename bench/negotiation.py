"""Negotiation sockets under load: delivery latency and lost frames across two daphne processes.

Not a test: it prints figures (see docs/benchmarks-negotiation.md). Run it alone on the
machine, with PostgreSQL and Redis up:

    .venv/bin/python bench/negotiation.py            # or: make bench-negotiation

What it does:

1. creates (if missing) and migrates its own PostgreSQL database, ``parley_bench_nego``
   (``NEGO_BENCH_DATABASE_URL`` overrides it; ``test`` and the system databases are refused),
   empties it (``TRUNCATE accounts_user CASCADE``), then creates 200 hosts, 200 published
   properties, 200 guests and 200 open negotiations through ``negotiation_open``;
2. starts two daphne processes as deployed (``config.settings.production``, DEBUG off,
   ``--proxy-headers``) sharing that database and Redis (``NEGO_BENCH_REDIS_URL``, default
   ``redis://127.0.0.1:6379/0``, under a key prefix and a Celery queue unique to the run);
3. connects 400 sockets from one asyncio client process: each negotiation's guest on
   process A, its host on process B (``Authorization: Bearer``, an allowed ``Origin``);
4. drives actions open-loop (a fixed schedule, never waiting for replies): chat messages,
   plus an offer (about ``--offer-share`` of the actions) when the turn and the rounds
   allow it. Every action carries the client's send time (``perf_counter_ns``) in its text;
   the latency is the time until the *counterpart's* socket (on the other process) receives
   the matching ``event`` frame. First ``--rate`` (200/s) for ``--duration`` (30 s), then
   ``--steps`` rates for ``--step-seconds`` each, until one is not held (p99 >= 100 ms, an
   undelivered event, an error, or the client could not send at the offered rate);
5. checks every socket's received ``seq`` list against the event log in the database:
   events a socket never received live (there is no reconnect), duplicates, disorder;
6. stops both servers, removes its Redis keys. The database is left for inspection.

Figures: latency p50/p90/p99/max per rate, acks, errors, and CPU used over each step by the
client, each server, PostgreSQL (the bench database's backends), Redis and the whole machine
(which also shows anything else running).
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import ensure_database, log, percentile

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/parley_bench_nego"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Fixed, so this process and the servers it starts agree (JWTs are signed with it).
SECRET_KEY = "parley-bench-negotiation-not-a-secret-0123456789abcdef0123456789abcdef"  # noqa: S105
REFUSED_DATABASES = {"test", "postgres", "template0", "template1"}
# Variables of the calling shell that would point the bench somewhere else.
SCRUBBED = {
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "CELERY_BROKER_URL",
    "JWT_SIGNING_KEY",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "CELERY_TASK_DEFAULT_QUEUE",
    "LOG_LEVEL",
}
TICK = os.sysconf("SC_CLK_TCK")
HOLD_P99_MS = 100.0


# --- environment, database, Redis -------------------------------------------------------------


def bench_env(tag: str) -> dict[str, str]:
    database_url = os.environ.get("NEGO_BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"the benchmark needs PostgreSQL, got {database_url!r}")
    name = urlsplit(database_url).path.lstrip("/")
    if name in REFUSED_DATABASES:
        sys.exit(f"refusing to benchmark in the database {name!r}: use a database of its own")
    prefix = f"parley-bench-{tag}-{os.getpid()}-{random.randrange(16**6):06x}"
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("NEGO_BENCH_REDIS_URL") or DEFAULT_REDIS_URL,
        "REDIS_KEY_PREFIX": prefix,
        # Offer notifications queue an email task: keep them off any running worker's queue.
        "CELERY_TASK_DEFAULT_QUEUE": f"{prefix}-celery",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "LOG_FORMAT": "json",
    }


def child_env(env: dict[str, str], settings_module: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    return {**base, **env, "DJANGO_SETTINGS_MODULE": settings_module}


def setup_django(env: dict[str, str]) -> None:
    """This process: local settings (DEBUG off) on the bench database and Redis."""
    for key in SCRUBBED:
        os.environ.pop(key, None)
    os.environ.update(child_env(env, "config.settings.local"))
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    log("migrate")
    call_command("migrate", interactive=False, verbosity=0)


def empty_database() -> None:
    from django.db import connection

    from accounts.models import User

    with connection.cursor() as cursor:  # the bench database only (checked in bench_env)
        cursor.execute(f'TRUNCATE "{User._meta.db_table}" CASCADE')


def cleanup_redis(env: dict[str, str]) -> int:
    """Delete the run's keys: cache entries, channel-layer keys, the Celery queue."""
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    prefix = env["REDIS_KEY_PREFIX"]
    queue = env["CELERY_TASK_DEFAULT_QUEUE"]
    keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
    keys += [k for k in (queue, f"_kombu.binding.{queue}") if client.exists(k)]
    if keys:
        client.delete(*keys)
    client.close()
    return len(keys)


def issue_tokens(users) -> dict[int, str]:
    from rest_framework_simplejwt.tokens import AccessToken

    return {user.pk: str(AccessToken.for_user(user)) for user in users}


def create_users(prefix: str, count: int, *, hosts: bool):
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import User

    now = timezone.now()
    unusable = make_password(None)  # no hashing: the sockets authenticate with tokens
    return User.objects.bulk_create(
        User(
            email=f"{prefix}{i}@bench.example",
            first_name="Hana" if hosts else "Gabriel",
            is_host=hosts,
            became_host_at=now if hosts else None,
            email_verified_at=now,
            password=unusable,
        )
        for i in range(count)
    )


def create_properties(hosts) -> list:
    from decimal import Decimal

    from django.utils import timezone

    from properties.models import Property, StayType

    now = timezone.now()
    props = Property.objects.bulk_create(
        Property(
            host=host,
            status="published",
            title=f"Sunny flat {i}",
            description="A bright flat near the old town, with a balcony and fast Wi-Fi.",
            address="1 Harbour Street",
            city="Lisbon",
            country="PT",
            latitude=Decimal("38.722252"),
            longitude=Decimal("-9.139337"),
            timezone="Europe/Lisbon",
            max_guests=4,
            currency="EUR",
            cleaning_fee=Decimal("30.00"),
            base_nightly_price=Decimal("100.00"),
            accepts_offers=True,  # no floor, no auto-accept: offers never end a negotiation
            published_at=now,
        )
        for i, host in enumerate(hosts)
    )
    StayType.objects.bulk_create(
        StayType(property=p, kind="standard", nightly_price=Decimal("100.00")) for p in props
    )
    return props


def open_negotiations(props, guests) -> list:
    from datetime import timedelta

    from django.utils import timezone

    from negotiation import services

    today = timezone.now().date()
    return [
        services.negotiation_open(
            guest=guest,
            property_id=prop.pk,
            check_in=today + timedelta(days=30),
            check_out=today + timedelta(days=33),
            guests=2,
            stay_type="standard",
        ).negotiation
        for prop, guest in zip(props, guests, strict=True)
    ]


PROBE_NEGOTIATIONS = 10


def service_probe(negotiations, calls: int = 200) -> dict:
    """``negotiation_message`` called in this process (in a thread of its own, on negotiations
    that no socket watches), its publishing switched off: the database part of one chat
    action, which a server runs on an executor thread. Wall and CPU time per call."""
    from unittest import mock

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from negotiation import services

    times, cpu = [], []
    with mock.patch("notifications.events._send_batch", lambda sends: None):
        x = negotiations[0]
        with CaptureQueriesContext(connection) as queries:
            services.negotiation_message(negotiation_id=x.pk, user=x.guest, body="probe")
        for i in range(calls):
            x = negotiations[i % len(negotiations)]
            start, start_cpu = time.perf_counter(), time.thread_time()
            services.negotiation_message(negotiation_id=x.pk, user=x.guest, body=f"probe {i}")
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
    connection.close()
    times.sort()
    cpu.sort()
    return {
        "statements": len(queries.captured_queries),
        "p50": percentile(times, 50),
        "p90": percentile(times, 90),
        "cpu_p50": percentile(cpu, 50),
    }


# --- servers and processes --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Daphne:
    """One daphne process as deployed (``daphne --proxy-headers config.asgi:application``)."""

    def __init__(self, env: dict[str, str], name: str, logdir: Path):
        self.name, self.port = name, free_port()
        self.log_path = logdir / f"daphne-{name}.log"
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "--proxy-headers",
                    "config.asgi:application",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.process.pid
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne {self.name} exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if json.load(response).get("status") == "ok":
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"daphne {self.name} did not become healthy")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.process.wait()

    def rss_kb(self) -> int:
        return rss_kb(self.pid)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _pids(match) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if match(comm, cmdline):
            found.append(int(entry))
    return found


def machine_busy_seconds() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK


class CpuMeter:
    """CPU seconds of the processes of interest, to report cores used over an interval."""

    def __init__(self, servers: list[Daphne], database: str):
        self.servers = servers
        self.redis = _pids(lambda comm, cmd: comm.startswith("redis-server"))
        self.database = database

    def _postgres(self) -> dict[int, float]:
        pids = _pids(lambda comm, cmd: comm == "postgres" and f" {self.database} " in cmd)
        return {p: cpu_seconds(p) for p in pids}

    def snapshot(self) -> dict[str, float]:
        snap = {"wall": time.monotonic(), "client": cpu_seconds(os.getpid())}
        for server in self.servers:
            snap[f"server {server.name}"] = cpu_seconds(server.pid)
        snap["postgres"] = self._postgres()
        snap["redis"] = sum(cpu_seconds(p) for p in self.redis)
        snap["machine"] = machine_busy_seconds()
        return snap

    @staticmethod
    def cores(before: dict, after: dict) -> dict[str, float]:
        wall = after["wall"] - before["wall"]
        used = {}
        for k in before:
            if k == "postgres":  # per backend: backends come and go
                old = before[k]
                used[k] = sum(v - old.get(p, 0.0) for p, v in after[k].items()) / wall
            elif k != "wall":
                used[k] = (after[k] - before[k]) / wall
        used["other"] = max(
            0.0, used["machine"] - sum(v for k, v in used.items() if k != "machine")
        )
        return used


def format_cores(cores: dict[str, float]) -> str:
    order = [k for k in cores if k not in {"machine", "other"}] + ["other", "machine"]
    return ", ".join(f"{k} {cores[k]:.2f}" for k in order) + f" (of {os.cpu_count()})"


def raise_fd_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = hard if hard == resource.RLIM_INFINITY else min(hard, max(needed, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < needed:
        sys.exit(f"need {needed} file descriptors, the hard limit is {hard}")
    return soft


# --- the client -------------------------------------------------------------------------------


class Party:
    """One socket: a negotiation's guest (on server A) or host (on server B)."""

    __slots__ = ("closed", "nego", "pong", "seqs", "side", "ws")

    def __init__(self, nego, side):
        self.nego, self.side = nego, side
        self.ws = None
        self.seqs: list[int] = []
        self.pong: asyncio.Future | None = None
        self.closed = None


class Nego:
    __slots__ = (
        "guest",
        "host",
        "id",
        "inflight",
        "last",
        "list_total",
        "rounds",
        "start_seq",
        "state_seq",
        "turn",
    )

    def __init__(self, id, list_total, start_seq):
        self.id, self.list_total, self.start_seq = id, float(list_total), start_seq
        self.turn = "host"  # opened without an amount: the host may make a special offer
        self.last = {"guest": None, "host": None}
        self.rounds = {"guest": 0, "host": 0}
        self.inflight: tuple[str, float] | None = None  # (side, amount) of the offer in flight
        self.state_seq = start_seq

    def offer_amount(self, side: str, max_rounds: int) -> str | None:
        """Amounts that the services accept: the guest climbs from half the list total, the
        host comes down from 95 % of it, and they never cross."""
        if self.inflight or self.turn != side or self.rounds[side] >= max_rounds:
            return None
        k = self.rounds[side]
        amount = self.list_total * 0.5 + k if side == "guest" else self.list_total * 0.95 - k
        return f"{amount:.2f}"

    def apply_offer(self, seq: int, side: str, amount: float) -> None:
        """The offer with ``seq`` was made (seen on a socket, or acknowledged): apply once."""
        if seq > self.state_seq:
            self.state_seq = seq
            self.turn = "host" if side == "guest" else "guest"
            self.last[side] = amount
            self.rounds[side] += 1


class Step:
    def __init__(self, label: str, rate: float, seconds: float):
        self.label, self.rate, self.seconds = label, rate, seconds
        self.sent = {"message": 0, "offer": 0}
        self.latencies: list[float] = []  # ms, send -> counterpart's event frame
        self.offer_latencies: list[float] = []  # the same, offers only
        self.own: list[float] = []  # ms, send -> the sender's own socket's event frame
        self.acks: list[float] = []  # ms, send -> ack
        self.errors: dict[str, int] = {}
        self.lag: list[float] = []  # ms, the client's event-loop lateness
        self.cores: dict[str, float] = {}
        self.send_seconds = 0.0
        self.undelivered = 0
        self.drain_seconds = 0.0

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    def held(self) -> bool:
        lat = sorted(self.latencies)
        return (
            bool(lat)
            and percentile(lat, 99) < HOLD_P99_MS
            and self.undelivered == 0
            and not self.errors
            and self.total_sent >= 0.97 * self.rate * self.seconds
        )

    def line(self) -> str:
        lat, acks, own, lag, offers = (
            sorted(x) for x in (self.latencies, self.acks, self.own, self.lag, self.offer_latencies)
        )
        achieved = self.total_sent / self.send_seconds if self.send_seconds else 0.0
        return (
            f"{self.label}: offered {self.rate:g}/s for {self.seconds:g} s, sent "
            f"{self.total_sent} ({achieved:.0f}/s; {self.sent['message']} messages, "
            f"{self.sent['offer']} offers)\n"
            f"    counterpart delivery  n={len(lat)}  p50={percentile(lat, 50):.1f} ms  "
            f"p90={percentile(lat, 90):.1f} ms  p99={percentile(lat, 99):.1f} ms  "
            f"max={lat[-1] if lat else math.nan:.1f} ms  (offers alone: p50="
            f"{percentile(offers, 50):.1f} ms, p99={percentile(offers, 99):.1f} ms)\n"
            f"    sender's own frame    p50={percentile(own, 50):.1f} ms  "
            f"p99={percentile(own, 99):.1f} ms;  ack p50={percentile(acks, 50):.1f} ms  "
            f"p99={percentile(acks, 99):.1f} ms\n"
            f"    undelivered after drain={self.undelivered} (drain {self.drain_seconds:.1f} s), "
            f"errors={self.errors or 0}, client loop lag p99={percentile(lag, 99):.1f} ms "
            f"max={lag[-1] if lag else math.nan:.1f} ms\n"
            f"    CPU cores while sending: {format_cores(self.cores)}\n"
            f"    held (p99 < {HOLD_P99_MS:g} ms, none lost, no error, rate kept): "
            f"{'yes' if self.held() else 'NO'}"
        )


class Client:
    def __init__(
        self,
        negos: list[Nego],
        tokens: dict,
        users: dict,
        sides: tuple,
        max_rounds: int,
        offer_share: float,
        meter: CpuMeter,
    ):
        self.negos, self.tokens = negos, tokens
        self.guest_of, self.host_of = users["guest"], users["host"]
        self.guest_servers, self.host_servers = sides  # guests on A (A1, A2...), hosts on B
        self.max_rounds, self.offer_share = max_rounds, offer_share
        self.meter = meter
        self.parties: list[Party] = []
        self.pending: dict[str, tuple] = {}  # client_id -> (nego, kind): counterpart not reached
        self.sent_at: dict[str, int] = {}  # client_id -> perf_counter_ns, until the ack
        self.step: Step | None = None
        self.counter = 0
        self.rng = random.Random(20240611)
        self.readers: list[asyncio.Task] = []
        self.last_frame = time.perf_counter()
        self.frames = 0
        self.stray = 0

    # connection

    async def connect_all(self, concurrency: int = 50) -> None:
        import websockets

        gate = asyncio.Semaphore(concurrency)

        async def open_one(party: Party, server: Daphne, user_id: int):
            url = (
                f"ws://127.0.0.1:{server.port}/ws/negotiations/{party.nego.id}/"
                f"?after={party.nego.start_seq}"
            )
            async with gate:
                for attempt in range(5):  # HTTP 500 when PostgreSQL is out of connections
                    try:
                        party.ws = await websockets.connect(
                            url,
                            origin=server.base,
                            open_timeout=60,
                            ping_interval=None,
                            additional_headers={"Authorization": f"Bearer {self.tokens[user_id]}"},
                        )
                        break
                    except websockets.InvalidStatus:
                        if attempt == 4:
                            raise
                        await asyncio.sleep(0.5 * (attempt + 1))
                party.pong = asyncio.get_running_loop().create_future()
                self.readers.append(asyncio.create_task(self.read(party)))
                await party.ws.send('{"type":"ping"}')
                await asyncio.wait_for(party.pong, 30)  # connect() done: in the group

        jobs = []
        for i, nego in enumerate(self.negos):
            nego.guest, nego.host = Party(nego, "guest"), Party(nego, "host")
            self.parties += [nego.guest, nego.host]
            guest_server = self.guest_servers[i % len(self.guest_servers)]
            host_server = self.host_servers[i % len(self.host_servers)]
            jobs.append(open_one(nego.guest, guest_server, self.guest_of[nego.id]))
            jobs.append(open_one(nego.host, host_server, self.host_of[nego.id]))
        await asyncio.gather(*jobs)

    async def close_all(self) -> None:
        await asyncio.gather(*(p.ws.close() for p in self.parties), return_exceptions=True)
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)

    # frames in

    async def read(self, party: Party) -> None:
        import websockets

        try:
            async for raw in party.ws:
                now = time.perf_counter_ns()
                self.frames += 1
                self.last_frame = time.perf_counter()
                self.handle(party, json.loads(raw), now)
        except websockets.ConnectionClosed as exc:
            party.closed = exc.rcvd.code if exc.rcvd else "no close frame"
        else:
            party.closed = party.ws.close_code

    def handle(self, party: Party, frame: dict, now: int) -> None:
        kind = frame.get("type")
        step = self.step
        if kind == "event":
            party.seqs.append(frame["seq"])
            data = frame["data"]
            event = frame["event"]
            if event == "message.created":
                text = data.get("body", "")
            elif event == "offer.created":
                text = data.get("message", "")
                party.nego.apply_offer(frame["seq"], data["side"], float(data["amount"]))
            else:
                return
            if not text.startswith("bench "):
                return
            _, client_id, stamp = text.split(" ", 2)
            latency = (now - int(stamp[2:])) / 1e6
            if data.get("side") == party.side:
                if step:
                    step.own.append(latency)
            elif self.pending.pop(client_id, None) is not None:
                if step:
                    step.latencies.append(latency)
                    if event == "offer.created":
                        step.offer_latencies.append(latency)
            else:
                self.stray += 1  # a duplicate, or delivered after its step's drain gave up
        elif kind == "ack":
            sent = self.sent_at.pop(frame.get("client_id"), None)
            if sent is not None and step:
                step.acks.append((now - sent) / 1e6)
            nego = party.nego
            if frame.get("client_id", "").endswith("o") and nego.inflight:
                nego.apply_offer(frame["seq"], *nego.inflight)  # the ack may beat the event
                nego.inflight = None
        elif kind == "error":
            client_id = frame.get("client_id") or ""
            if step:
                step.errors[frame.get("code")] = step.errors.get(frame.get("code"), 0) + 1
            self.pending.pop(client_id, None)
            self.sent_at.pop(client_id, None)
            if client_id.endswith("o"):
                party.nego.inflight = None
        elif kind == "pong" and party.pong is not None and not party.pong.done():
            party.pong.set_result(True)
        # presence, typing, read: not measured

    # frames out

    async def send_one(self, step: Step) -> None:
        """Guest and host actions alternate, so both servers get an even share at every
        moment; each negotiation gets a guest action, then half a round later a host one."""
        n = len(self.negos)
        tick, odd = divmod(self.counter, 2)
        self.counter += 1
        side = "host" if odd else "guest"
        nego = self.negos[(tick + (n // 2 if odd else 0)) % n]
        party = nego.guest if side == "guest" else nego.host
        amount = None
        if self.rng.random() < self.offer_share:
            amount = nego.offer_amount(side, self.max_rounds)
        kind = "offer" if amount else "message"
        client_id = f"{self.counter}{'o' if amount else 'm'}"
        stamp = time.perf_counter_ns()
        text = f"bench {client_id} t={stamp}"
        if amount:
            nego.inflight = (side, float(amount))
            frame = {"type": "offer", "amount": amount, "message": text, "client_id": client_id}
        else:
            frame = {"type": "message", "body": text, "client_id": client_id}
        self.pending[client_id] = (nego, kind)
        self.sent_at[client_id] = stamp
        step.sent[kind] += 1
        await party.ws.send(json.dumps(frame, separators=(",", ":")))

    async def run_step(self, step: Step, drain_timeout: float) -> Step:
        self.step = step
        before = self.meter.snapshot()
        start = time.perf_counter()
        sent = 0
        while True:
            elapsed = time.perf_counter() - start
            if elapsed >= step.seconds:
                break
            due = min(int(step.rate * elapsed) + 1, int(step.rate * step.seconds)) - sent
            for _ in range(due):
                await self.send_one(step)
                sent += 1
            tick = time.perf_counter()
            await asyncio.sleep(0.002)
            step.lag.append(max(0.0, (time.perf_counter() - tick - 0.002) * 1000))
        step.send_seconds = time.perf_counter() - start
        step.cores = CpuMeter.cores(before, self.meter.snapshot())
        # Drain: until every action of the step reached its counterpart (or the timeout).
        drain_start = time.perf_counter()
        while self.pending and time.perf_counter() - drain_start < drain_timeout:
            await asyncio.sleep(0.05)
        step.undelivered = len(self.pending)
        step.drain_seconds = time.perf_counter() - drain_start
        self.pending.clear()
        self.sent_at.clear()
        for nego in self.negos:
            nego.inflight = None
        await self.quiet(1.0, 30)
        self.step = None
        return step

    async def quiet(self, seconds: float, limit: float) -> None:
        """Wait until no frame arrived for ``seconds`` (at most ``limit``)."""
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            if time.perf_counter() - self.last_frame >= seconds:
                return
            await asyncio.sleep(0.1)


def check_seqs(client: Client) -> dict[str, int]:
    """Every socket's received seqs against the stored event log (after its start seq)."""
    from negotiation.models import Event

    stored: dict[int, list[int]] = {}
    ids = [n.id for n in client.negos]
    for nid, seq in Event.objects.filter(negotiation_id__in=ids).values_list(
        "negotiation_id", "seq"
    ):
        stored.setdefault(nid, []).append(seq)
    result = {
        "events": 0,
        "missed_by_counterpart": 0,
        "missed_by_sender": 0,
        "missed_total": 0,
        "duplicates": 0,
        "out_of_order": 0,
        "unexpected": 0,
    }
    sides = {
        (nid, seq): (data or {}).get("side")
        for nid, seq, data in Event.objects.filter(negotiation_id__in=ids).values_list(
            "negotiation_id", "seq", "data"
        )
    }
    for nego in client.negos:
        expected = sorted(s for s in stored.get(nego.id, []) if s > nego.start_seq)
        result["events"] += len(expected)
        for party in (nego.guest, nego.host):
            got = party.seqs
            result["duplicates"] += len(got) - len(set(got))
            result["out_of_order"] += sum(1 for a, b in itertools.pairwise(got) if b <= a)
            received = set(got)
            result["unexpected"] += len(received - set(expected))
            for seq in expected:
                if seq in received:
                    continue
                result["missed_total"] += 1
                if sides.get((nego.id, seq)) == party.side:
                    result["missed_by_sender"] += 1
                else:
                    result["missed_by_counterpart"] += 1
    return result


# --- main -------------------------------------------------------------------------------------


def other_benchmarks() -> list[int]:
    """Other benchmark scripts running (they may be idle now, waiting for a quiet machine
    too, and start at the same moment as this one)."""
    me = os.getpid()
    return [
        pid
        for pid in _pids(
            lambda comm, cmd: "python" in cmd and (" -m bench." in cmd or "bench/" in cmd)
        )
        if pid != me and os.getppid() != pid
    ]


def wait_quiet(limit: float, threshold: float = 0.3, window: float = 3.0) -> float:
    """Wait (at most ``limit`` s) until the machine has been nearly idle (below ``threshold``
    cores busy) for three windows in a row and no other benchmark script runs: other work on
    a 2-core machine would be measured as our latency. Returns the busy cores of the last
    window."""
    deadline = time.monotonic() + limit
    calm, busy = 0, math.nan
    while True:
        before = machine_busy_seconds()
        time.sleep(window)
        busy = (machine_busy_seconds() - before) / window
        calm = calm + 1 if busy < threshold and not other_benchmarks() else 0
        if calm >= 3 or time.monotonic() > deadline:
            return busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--negotiations", type=int, default=200)
    parser.add_argument("--rate", type=float, default=200, help="actions/s of the main run")
    parser.add_argument("--duration", type=float, default=30, help="seconds of the main run")
    parser.add_argument(
        "--steps",
        default="300,400,500,600,800,1000,1200,1600,2000,2400,3200",
        help="rates tried after the main run, in order, until one is not held",
    )
    parser.add_argument(
        "--down-steps",
        default="150,120,100,80,60,40,20",
        help="if the main run is not held: lower rates tried, in order, until one is held",
    )
    parser.add_argument("--step-seconds", type=float, default=15)
    parser.add_argument("--probe-rate", type=float, default=20, help="light load first (0: no)")
    parser.add_argument("--probe-seconds", type=float, default=10)
    parser.add_argument("--offer-share", type=float, default=0.05)
    parser.add_argument("--drain-timeout", type=float, default=60)
    parser.add_argument(
        "--processes-per-side",
        type=int,
        default=1,
        help="daphne processes for the guests (A...) and for the hosts (B...)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=300,
        help="wait up to this many seconds for an idle machine first",
    )
    args = parser.parse_args()

    # SIGTERM (e.g. from make or a CI timeout) unwinds like Ctrl-C: the servers are stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    raise_fd_limit(2 * args.negotiations + 256)
    env = bench_env("nego")
    try:
        run(args, env)
    finally:
        log(f"{cleanup_redis(env)} Redis keys of the run removed")


def run(args, env: dict[str, str]) -> None:
    database = urlsplit(env["DATABASE_URL"]).path.lstrip("/")
    ensure_database(env["DATABASE_URL"])
    setup_django(env)
    from django.conf import settings

    log(f"machine: {os.cpu_count()} CPUs, {cpu_model()}; Python {sys.version.split()[0]}")
    log(f"database {database}, Redis {env['REDIS_URL']} (prefix {env['REDIS_KEY_PREFIX']})")
    started = time.perf_counter()
    empty_database()
    n = args.negotiations
    m = n + PROBE_NEGOTIATIONS
    hosts = create_users("nego-host", m, hosts=True)
    guests = create_users("nego-guest", m, hosts=False)
    props = create_properties(hosts)
    negotiations = open_negotiations(props, guests)
    negotiations, probed = negotiations[:n], negotiations[n:]
    log(
        f"data: {n} hosts, {n} published properties, {n} guests, {n} open negotiations, "
        f"plus {PROBE_NEGOTIATIONS} of each for the in-process probe "
        f"({time.perf_counter() - started:.1f} s)"
    )
    if args.wait_quiet > 0:
        log(f"waiting (at most {args.wait_quiet:g} s) for an idle machine, no other benchmark")
        log(f"machine busy: {wait_quiet(args.wait_quiet):.2f} cores")
    tokens = issue_tokens([*hosts[:n], *guests[:n]])  # access tokens live 5 minutes
    negos = [Nego(x.pk, x.list_total, x.last_seq) for x in negotiations]
    users = {
        "guest": {x.pk: x.guest_id for x in negotiations},
        "host": {x.pk: x.host_id for x in negotiations},
    }

    logdir = Path(tempfile.mkdtemp(prefix="parley-bench-nego-"))
    server_env = child_env(env, "config.settings.production")
    servers: list[Daphne] = []
    steps: list[Step] = []
    k = args.processes_per_side
    names = ["A", "B"] if k == 1 else [f"{s}{i + 1}" for s in "AB" for i in range(k)]
    try:
        servers = [Daphne(server_env, name, logdir) for name in names]
        for server in servers:
            server.wait_healthy()
        log(
            "daphne "
            + ", ".join(f"{s.name} pid {s.pid} port {s.port}" for s in servers)
            + f" (config.settings.production, DEBUG off; logs in {logdir})"
        )
        meter = CpuMeter(servers, database)
        client = Client(
            negos,
            tokens,
            users,
            (servers[:k], servers[k:]),
            settings.NEGOTIATION_MAX_ROUNDS,
            args.offer_share,
            meter,
        )

        async def drive() -> dict:
            t0 = time.perf_counter()
            await client.connect_all()
            extensions = [type(e).__name__ for e in client.parties[0].ws.protocol.extensions]
            log(
                f"{len(client.parties)} sockets open in {time.perf_counter() - t0:.1f} s "
                f"(guests on {'/'.join(names[:k])}, hosts on {'/'.join(names[k:])}; "
                f"WebSocket extensions: {extensions or 'none'})"
            )
            await client.quiet(1.0, 10)
            if args.wait_quiet > 0:
                busy = await asyncio.to_thread(wait_quiet, min(60.0, args.wait_quiet))
                log(f"machine busy before the run: {busy:.2f} cores")
            probe = await asyncio.to_thread(service_probe, probed)
            log(
                f"one chat action's database work, called in this process with publishing "
                f"off: {probe['statements']} SQL statement(s) sent (BEGIN/COMMIT count), wall "
                f"p50 {probe['p50']:.2f} ms p90 {probe['p90']:.2f} ms, CPU p50 "
                f"{probe['cpu_p50']:.2f} ms"
            )
            plan = []
            if args.probe_rate > 0:
                light = f"light load {args.probe_rate:g}/s"
                plan.append((light, args.probe_rate, args.probe_seconds))
            plan.append((f"main run {args.rate:g}/s", args.rate, args.duration))
            for label, rate, seconds in plan:
                step = await client.run_step(Step(label, rate, seconds), args.drain_timeout)
                steps.append(step)
                print(step.line(), flush=True)
            # Up from the main rate while it holds; down from it until one holds.
            up = steps[-1].held()
            rates = [float(r) for r in (args.steps if up else args.down_steps).split(",") if r]
            for rate in rates:
                if (rate <= args.rate) if up else (rate >= args.rate):
                    continue
                step = await client.run_step(
                    Step(f"step {rate:g}/s", rate, args.step_seconds), args.drain_timeout
                )
                steps.append(step)
                print(step.line(), flush=True)
                if step.held() != up:
                    break
            await client.quiet(2.0, 60)
            closed = [p.closed for p in client.parties if p.closed is not None]
            await client.close_all()
            return {"closed_early": closed}

        outcome = asyncio.run(drive())
        seqs = check_seqs(client)
    finally:
        for server in servers:
            server.stop()
        log("servers stopped")

    print()
    print("=== negotiation sockets: summary ===")
    print(
        f"client: one asyncio process (websockets {websockets_version()}), "
        f"{cpu_seconds(os.getpid()):.1f} CPU s in all (setup included)"
    )
    print(
        f"events checked against the log: {seqs['events']} (each expected on 2 sockets); "
        f"never received by the counterpart: {seqs['missed_by_counterpart']}, by the sender's "
        f"own socket: {seqs['missed_by_sender']}; duplicates: {seqs['duplicates']}; out of "
        f"order: {seqs['out_of_order']}; delivered after their step's drain: {client.stray}; "
        f"sockets closed early: {len(outcome['closed_early'])}"
    )
    main_run = next((s for s in steps if s.label.startswith("main")), None)
    if main_run:
        lat = sorted(main_run.latencies)
        p50, p99 = percentile(lat, 50), percentile(lat, 99)
        lost = seqs["missed_by_counterpart"]
        ok = p50 <= 5 and p99 <= 30 and lost == 0 and main_run.undelivered == 0
        print(
            f"target at {main_run.rate:g}/s (p50 <= 5 ms, p99 <= 30 ms, none lost): "
            f"p50={p50:.1f} ms, p99={p99:.1f} ms, lost={lost}, late={main_run.undelivered} "
            f"-> {'MET' if ok else 'MISSED'}"
        )
    held = [s.rate for s in steps if s.held() and not s.label.startswith("light")]
    tried = [s for s in steps if not s.label.startswith("light")]
    missed = [s.rate for s in tried if not s.held() and (not held or s.rate > max(held))]
    print(
        f"highest rate held with p99 < {HOLD_P99_MS:g} ms: "
        + (f"{max(held):g} actions/s" if held else "none of the rates tried")
        + (f" (lowest rate above it not held: {min(missed):g}/s)" if missed else "")
    )


def websockets_version() -> str:
    import websockets

    return websockets.__version__


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


if __name__ == "__main__":
    main()

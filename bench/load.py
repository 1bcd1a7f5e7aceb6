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

The workload is in ``bench/load_workload.py``, the invariants and the SMTP counter in
``bench/load_invariants.py``; this module sets up, runs them and reports.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):  # `python bench/load.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.common import log
from bench.load_invariants import SmtpCounter, check_invariants, wait_for_emails
from bench.load_workload import CITY, Stats, workload
from bench.measure import load_line, machine_line, postgres_line, summary_ms
from bench.servers import start_daphne

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/parley_bench_load"
PRODUCTION = "config.settings.production"


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
        machine_line(),
        postgres_line(),
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
    load_before = load_line()
    servers = start_daphne(env, "config.settings.production", args.processes)
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
    load_after = load_line()
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

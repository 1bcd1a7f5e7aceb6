"""Booking benchmark (`make bench-bookings`): ``POST /api/v1/bookings/`` through daphne on
PostgreSQL, 50 concurrent verified guests authenticated with Bearer tokens.

    .venv/bin/python -m bench.bookings [--clients 50] [--requests 3000] [--rounds 20]

Throughput: every request books distinct dates (one night each; each client books its own
listing, night after night, so no two requests wait on each other's row lock); all must
be 201. Contention: in each round all clients ask for the same dates of the same
listing at the same instant; exactly one may get 201, every other answer must be a clean
``409 dates_unavailable``; anything else is counted as an error. Floor: the same bursts
against a plain JSON view that does nothing, the least any view of this server needs.

Instant-book listings and the test token ``tok_ok``: each booking is confirmed at once
(authorize + capture through the database gateway, history row, events after commit).
The listings are created for the run and archived at the end, so the search dataset
in the same database is unaffected.
"""

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal

from bench import common
from bench.common import log
from bench.http_client import Connection, HttpError
from bench.measure import (
    CpuMeter,
    format_summary,
    load_line,
    machine_line,
    postgres_line,
    summary_ms,
    wait_for_quiet,
)
from bench.servers import start_daphne

NIGHTS_AHEAD = 700  # bookable one-night slots per listing (BOOKING_MAX_ADVANCE_DAYS = 730)
CONTENDED_TARGET_MS = 50.0
STALL_MS = 500.0


def make_fixtures(run: str, clients: int, listings: int):
    from django.utils import timezone

    from accounts.models import User
    from properties.models import Property, StayType

    now = timezone.now()
    host = User.objects.create_user(
        f"bench-host-{run}@bench.parley.invalid",
        None,
        is_host=True,
        became_host_at=now,
        email_verified_at=now,
    )
    guests = [
        User.objects.create_user(
            f"bench-guest-{run}-{i}@bench.parley.invalid", None, email_verified_at=now
        )
        for i in range(clients)
    ]
    props = []
    for i in range(listings):
        prop = Property.objects.create(
            host=host,
            status=Property.Status.PUBLISHED,
            title=f"Bookings bench {run} #{i}",
            property_type="apartment",
            city=f"Benchbook {run}",
            country="FR",
            latitude=Decimal("48.85"),
            longitude=Decimal("2.35"),
            timezone="Europe/Paris",
            max_guests=4,
            instant_book=True,
            cleaning_fee=Decimal("20.00"),
            base_nightly_price=Decimal("100.00"),
            published_at=now,
        )
        StayType.objects.create(property=prop, kind="standard", nightly_price=Decimal("100.00"))
        props.append(prop.pk)
    return host, guests, props


def bearer_tokens(guests) -> list[str]:
    from rest_framework_simplejwt.tokens import AccessToken

    return [str(AccessToken.for_user(guest)) for guest in guests]


def archive(run: str) -> None:
    from properties.models import Property

    Property.objects.filter(city=f"Benchbook {run}").update(status=Property.Status.ARCHIVED)


def _body(prop: int, check_in, nights: int) -> bytes:
    return json.dumps(
        {
            "property": prop,
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=nights)).isoformat(),
            "guests": 2,
            "stay_type": "standard",
            "payment_token": "tok_ok",
        }
    ).encode()


def _headers(token: str) -> dict:
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": uuid.uuid4().hex,
    }


async def _open(port: int, count: int) -> list[Connection]:
    conns = [Connection(port) for _ in range(count)]
    for conn in conns:  # one request each, so the connection (and its process) is warm
        status, _ = await conn.request("GET", "/healthz")
        assert status == 200
    return conns


async def throughput(port: int, tokens: list[str], props: list[int], total: int, today) -> dict:
    conns = await _open(port, len(tokens))
    latencies: list[float] = []
    errors: list[str] = []
    next_index = 0

    async def client(index: int) -> None:
        nonlocal next_index
        conn = conns[index]
        night = 0
        while next_index < total:
            next_index += 1
            night += 1
            prop = props[index]
            check_in = today + timedelta(days=night % NIGHTS_AHEAD)
            started = time.perf_counter()
            status, body = await conn.request(
                "POST",
                "/api/v1/bookings/",
                headers=_headers(tokens[index]),
                body=_body(prop, check_in, 1),
            )
            latencies.append(time.perf_counter() - started)
            if status != 201:
                errors.append(f"{status} {body[:200]!r}")

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(len(tokens))))
    elapsed = time.perf_counter() - started
    for conn in conns:
        await conn.close()
    return {"elapsed": elapsed, "n": len(latencies), "latencies": latencies, "errors": errors}


def _is_dates_unavailable(status: int, body: bytes) -> bool:
    if status != 409:
        return False
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    return [e.get("code") for e in payload.get("errors", [])] == ["dates_unavailable"]


async def contention(port: int, tokens: list[str], prop: int, rounds: int, today) -> dict:
    conns = await _open(port, len(tokens))
    latencies: list[float] = []
    winners: list[float] = []
    makespans: list[float] = []
    errors: list[str] = []
    bad_rounds = 0

    for r in range(rounds):
        check_in = today + timedelta(days=1 + 3 * r)
        body = _body(prop, check_in, 2)
        go = asyncio.Event()

        async def one(index: int, body=body, go=go):
            await go.wait()
            started = time.perf_counter()
            status, answer = await conns[index].request(
                "POST", "/api/v1/bookings/", headers=_headers(tokens[index]), body=body
            )
            return status, answer, time.perf_counter() - started

        tasks = [asyncio.create_task(one(i)) for i in range(len(tokens))]
        await asyncio.sleep(0.05)  # every task is waiting on the event
        started = time.perf_counter()
        go.set()
        results = await asyncio.gather(*tasks)
        makespans.append(time.perf_counter() - started)
        created = [r for r in results if r[0] == 201]
        if len(created) != 1:
            bad_rounds += 1
        for status, answer, elapsed in results:
            latencies.append(elapsed)
            if status == 201:
                winners.append(elapsed)
            elif not _is_dates_unavailable(status, answer):
                errors.append(f"{status} {answer[:200]!r}")
        await asyncio.sleep(0.2)  # rounds do not overlap
    for conn in conns:
        await conn.close()
    return {
        "latencies": latencies,
        "winners": winners,
        "makespans": makespans,
        "errors": errors,
        "bad_rounds": bad_rounds,
    }


async def plain_bursts(port: int, clients: int, rounds: int) -> list[float]:
    """The floor under the contention figure: the same bursts (``clients`` requests let go
    at the same instant) against the plain JSON view of ``bench.urls``, which does no work.
    No view on the same server can answer a burst faster than this one."""
    conns = await _open(port, clients)
    latencies: list[float] = []
    for _ in range(rounds):
        go = asyncio.Event()

        async def one(conn, go=go):
            await go.wait()
            started = time.perf_counter()
            status, _ = await conn.request("GET", "/bench/plain/")
            if status != 200:
                raise HttpError(f"plain view answered {status}")
            return time.perf_counter() - started

        tasks = [asyncio.create_task(one(conn)) for conn in conns]
        await asyncio.sleep(0.05)
        go.set()
        latencies.extend(await asyncio.gather(*tasks))
        await asyncio.sleep(0.2)
    for conn in conns:
        await conn.close()
    return latencies


def deadlocks() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def check_database(props: list[int]) -> list[str]:
    """No two holding bookings overlap on the bench listings (the constraint's promise)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
              ON a.property_id = b.property_id AND a.id < b.id
             AND daterange(a.check_in, a.check_out) && daterange(b.check_in, b.check_out)
             WHERE a.property_id = ANY(%s)
               AND a.status IN ('pending_host', 'awaiting_payment', 'confirmed')
               AND b.status IN ('pending_host', 'awaiting_payment', 'confirmed')
            """,
            [props],
        )
        overlaps = cursor.fetchone()[0]
    return [f"{overlaps} overlapping holding bookings"] if overlaps else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=3000, help="throughput phase")
    parser.add_argument("--rounds", type=int, default=20, help="contention phase")
    common.add_server_options(parser)
    args = parser.parse_args(argv)

    env = common.bench_env(args)
    common.ensure_database(env["DATABASE_URL"])
    common.setup_django(env, "config.settings.production")
    common.migrate()
    from django.db import connection
    from django.utils import timezone

    from bookings.models import Booking

    run = uuid.uuid4().hex[:8]
    _host, guests, props = make_fixtures(run, args.clients, args.clients + 1)
    contended = props[-1]
    today = timezone.now().date()
    bookings_in_db = Booking.objects.count()
    deadlocks_before = deadlocks()
    connection.close()

    wait_for_quiet(args.wait_quiet)
    load_before = load_line()
    # bench.settings: production plus the plain JSON view of the floor phase
    servers = start_daphne(env, "bench.settings", args.processes)
    try:
        log(f"throughput: {args.requests} bookings, {args.clients} clients, distinct dates")
        meter = CpuMeter(servers)
        tp = asyncio.run(
            throughput(servers.port, bearer_tokens(guests), props[:-1], args.requests, today)
        )
        tp["cpu"] = meter.per_request(tp["n"])
        log(f"contention: {args.rounds} rounds of {args.clients} clients on the same dates")
        meter = CpuMeter(servers)
        ct = asyncio.run(
            contention(servers.port, bearer_tokens(guests), contended, args.rounds, today)
        )
        ct["cpu"] = meter.per_request(len(ct["latencies"]))
        log(f"floor: {args.rounds} rounds of {args.clients} requests to a plain JSON view")
        floor = asyncio.run(plain_bursts(servers.port, args.clients, args.rounds))
    finally:
        servers.stop()
        log("daphne stopped")
    load_after = load_line()
    deadlocks_during = deadlocks() - deadlocks_before
    problems = check_database(props)
    archive(run)
    common.flush_bench_redis(env["REDIS_URL"])

    lines = [
        "=== bookings benchmark",
        machine_line(),
        postgres_line(),
        f"server: daphne x{args.processes} (SO_REUSEPORT, no proxy), production settings, "
        + common.connection_line(env),
        f"before: {load_before}",
        f"after: {load_after}",
        f"database: {bookings_in_db:,} bookings already in the table",
        f"clients: {args.clients} verified guests, Bearer tokens, keep-alive connections",
        "",
        f"--- throughput: {tp['n']} bookings on distinct dates, one listing per client "
        "(instant book, confirmed)",
        f"bookings created per second: {len(tp['latencies']) - len(tp['errors'])} created in "
        f"{tp['elapsed']:.1f} s = {(tp['n'] - len(tp['errors'])) / tp['elapsed']:.1f}/s",
        format_summary("latency", tp["latencies"]),
        tp["cpu"],
        f"errors (not 201): {len(tp['errors'])}"
        + (f"; first: {tp['errors'][0]}" if tp["errors"] else ""),
        "",
        f"--- contention: {args.rounds} rounds x {args.clients} clients, same listing and dates",
        f"rounds with exactly one 201: {args.rounds - ct['bad_rounds']}/{args.rounds}",
        f"errors (neither 201 nor 409 dates_unavailable): {len(ct['errors'])}"
        + (f"; first: {ct['errors'][0]}" if ct["errors"] else ""),
        format_summary("latency, all requests", ct["latencies"], CONTENDED_TARGET_MS),
        format_summary("latency, the winning request", ct["winners"]),
        format_summary("round makespan (first sent to last answered)", ct["makespans"]),
        ct["cpu"],
        "",
        f"--- floor: the same {args.rounds} bursts of {args.clients} requests to a plain JSON "
        "view (no database, no throttle, no authentication)",
        format_summary("latency, plain view", floor, CONTENDED_TARGET_MS),
    ]
    worst = summary_ms(ct["latencies"] + tp["latencies"])["max"]
    lines.append(
        f"max latency over both phases: {worst:.1f} ms"
        + ("  (a stall: over 500 ms)" if worst >= STALL_MS else "  (no stall near one second)")
    )
    lines.append(f"PostgreSQL deadlocks detected during the run: {deadlocks_during}")
    lines.append(
        "double bookings on the bench listings: "
        + ("; ".join(problems) if problems else "none (checked in the database)")
    )
    print()
    print("\n".join(lines), flush=True)
    return 1 if problems or ct["errors"] or ct["bad_rounds"] else 0


if __name__ == "__main__":
    os.chdir(common.ROOT)
    sys.exit(main())

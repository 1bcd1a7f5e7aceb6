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

The data and environment are set up in ``bench/negotiation_setup.py``, the servers and CPU
meters are in ``bench/negotiation_processes.py``, the sockets' client in
``bench/negotiation_client.py``; this module runs the steps and prints the summary.
"""

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import ensure_database, log
from bench.measure import percentile
from bench.negotiation_client import HOLD_P99_MS, Client, Nego, Step, check_seqs
from bench.negotiation_processes import (
    CpuMeter,
    Daphne,
    cpu_model,
    cpu_seconds,
    interrupt,
    raise_fd_limit,
    wait_quiet,
)
from bench.negotiation_setup import (
    PROBE_NEGOTIATIONS,
    bench_env,
    child_env,
    cleanup_redis,
    create_properties,
    create_users,
    empty_database,
    issue_tokens,
    open_negotiations,
    service_probe,
    setup_django,
)


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
    signal.signal(signal.SIGTERM, interrupt)
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


if __name__ == "__main__":
    main()

"""Memory of idle sockets: 5,000 authenticated WebSockets held open on one daphne process.

Not a test: it prints figures (see docs/benchmarks-negotiation.md). Run it alone, with
PostgreSQL and Redis up, after (not during) ``bench/negotiation.py``; it uses the same
database, ``parley_bench_nego``, and empties it first:

    .venv/bin/python bench/negotiation_idle.py                          # /ws/notifications/
    .venv/bin/python bench/negotiation_idle.py --endpoint negotiations  # /ws/negotiations/{id}/

The server is started as deployed (``config.settings.production``, DEBUG off, Redis
channel layer). Its resident memory (``VmRSS`` in ``/proc/<pid>/status``) is read once it
is healthy, again after a warm-up (50 sockets opened, answered and closed: lazily imported
code and first-use caches are not per-socket costs), then with every socket open and
idle, and once more after they are closed. Each socket is counted only once the server
answered a ``ping`` on it, i.e. its ``connect()`` (authentication, party check, group
subscription) is complete.

Notifications: one user per socket (5,000 users, 5,000 groups). Negotiations: one
negotiation per two sockets, its guest and its host (2,500 negotiations).
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ensure_database, log
from bench.negotiation_processes import Daphne, cpu_model, interrupt, raise_fd_limit, rss_kb
from bench.negotiation_setup import (
    bench_env,
    child_env,
    cleanup_redis,
    create_properties,
    create_users,
    empty_database,
    issue_tokens,
    open_negotiations,
    setup_django,
)

TARGET_KB = 70
WARM_UP = 50


async def open_socket(port: int, path: str, token: str, timeout: float = 120):
    import websockets

    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}{path}",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=timeout,
        ping_interval=None,  # the server pings every 20 s; the client answers
    )
    await ws.send('{"type":"ping"}')
    while True:  # presence frames of the other party may come first
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame.get("type") == "pong":
            return ws


RETRIES = {"count": 0}


async def open_many(port: int, targets: list[tuple[str, str]], concurrency: int) -> list:
    """Open every socket, ``concurrency`` at a time. A refused handshake (e.g. HTTP 500 when
    PostgreSQL is out of connections because of other work on the machine) is retried."""
    import websockets

    gate = asyncio.Semaphore(concurrency)

    async def one(path, token):
        async with gate:
            for attempt in range(5):
                try:
                    return await open_socket(port, path, token)
                except (websockets.InvalidStatus, OSError):
                    if attempt == 4:
                        raise
                    RETRIES["count"] += 1
                    await asyncio.sleep(0.5 * (attempt + 1))
        return None

    return await asyncio.gather(*(one(path, token) for path, token in targets))


async def alive(sockets: list, sample: int) -> int:
    """Ping a sample of the open sockets; how many answered."""
    step = max(1, len(sockets) // sample)

    async def check(ws):
        try:
            await ws.send('{"type":"ping"}')
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if frame.get("type") == "pong":
                    return 1
        except Exception:
            return 0

    return sum(await asyncio.gather(*(check(ws) for ws in sockets[::step])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument(
        "--endpoint", choices=["notifications", "negotiations"], default="notifications"
    )
    parser.add_argument("--concurrency", type=int, default=100, help="connects in flight")
    parser.add_argument("--settle", type=float, default=5, help="seconds idle before measuring")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, interrupt)
    limit = raise_fd_limit(args.sockets + WARM_UP + 256)
    env = bench_env("idle")
    try:
        run(args, env, limit)
    finally:
        log(f"{cleanup_redis(env)} Redis keys of the run removed")


def run(args, env: dict[str, str], limit: int) -> None:
    ensure_database(env["DATABASE_URL"])
    setup_django(env)
    log(f"machine: {os.cpu_count()} CPUs, {cpu_model()}; Python {sys.version.split()[0]}")
    log(f"client file-descriptor limit: {limit}")
    started = time.perf_counter()
    empty_database()
    n = args.sockets
    if args.endpoint == "notifications":
        users = create_users("idle-user", n + WARM_UP, hosts=False)
        tokens = issue_tokens(users)
        targets = [("/ws/notifications/", tokens[u.pk]) for u in users]
        data = f"{n + WARM_UP} users"
    else:
        pairs = (n + WARM_UP + 1) // 2
        hosts = create_users("idle-host", pairs, hosts=True)
        guests = create_users("idle-guest", pairs, hosts=False)
        negotiations = open_negotiations(create_properties(hosts), guests)
        tokens = issue_tokens([*hosts, *guests])
        targets = []
        for x in negotiations:
            path = f"/ws/negotiations/{x.pk}/?after={x.last_seq}"
            targets += [(path, tokens[x.guest_id]), (path, tokens[x.host_id])]
        data = f"{pairs} hosts, properties, guests and open negotiations"
    warm, targets = targets[:WARM_UP], targets[WARM_UP : WARM_UP + n]
    log(f"data: {data} ({time.perf_counter() - started:.1f} s)")

    logdir = Path(tempfile.mkdtemp(prefix="parley-bench-idle-"))
    server = None
    try:
        server = Daphne(child_env(env, "config.settings.production"), "idle", logdir)
        server.wait_healthy()
        log(f"daphne pid {server.pid} port {server.port} (logs in {logdir})")
        rss_cold = server.rss_kb()

        async def scenario() -> dict:
            figures = {"cold": rss_cold}
            sockets = await open_many(server.port, warm, args.concurrency)
            await asyncio.gather(*(ws.close() for ws in sockets))
            await asyncio.sleep(args.settle)
            figures["base"] = server.rss_kb()
            figures["base_fds"] = len(os.listdir(f"/proc/{server.pid}/fd"))
            t0 = time.perf_counter()
            sockets = await open_many(server.port, targets, args.concurrency)
            figures["connect_seconds"] = time.perf_counter() - t0
            await asyncio.sleep(args.settle)
            figures["open"] = server.rss_kb()
            figures["open_fds"] = len(os.listdir(f"/proc/{server.pid}/fd"))
            figures["client_rss"] = rss_kb(os.getpid())
            figures["alive"] = await alive(sockets, 100)
            figures["alive_sample"] = len(sockets[:: max(1, len(sockets) // 100)])
            figures["open_after_ping"] = server.rss_kb()
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
            await asyncio.sleep(args.settle)
            figures["closed"] = server.rss_kb()
            figures["closed_fds"] = len(os.listdir(f"/proc/{server.pid}/fd"))
            return figures

        f = asyncio.run(scenario())
    finally:
        if server is not None:
            server.stop()
            log("server stopped")

    per_socket = (f["open"] - f["base"]) / n
    per_socket_cold = (f["open"] - f["cold"]) / n
    print()
    print(f"=== idle sockets: {n} on /ws/{args.endpoint}/, one daphne process ===")
    print(
        f"opened in {f['connect_seconds']:.1f} s ({n / f['connect_seconds']:.0f}/s, "
        f"{args.concurrency} in flight); {f['alive']}/{f['alive_sample']} sampled sockets "
        f"answered a ping afterwards; {RETRIES['count']} handshakes retried"
    )
    print(
        f"server file descriptors: {f['base_fds']} before, {f['open_fds']} open, "
        f"{f['closed_fds']} after closing"
    )
    print(
        f"server VmRSS: {f['cold']} KB healthy, {f['base']} KB after warm-up, "
        f"{f['open']} KB with {n} idle sockets, {f['open_after_ping']} KB after the pings, "
        f"{f['closed']} KB after closing them"
    )
    print(f"client VmRSS with {n} sockets: {f['client_rss']} KB")
    verdict = "MET" if per_socket <= TARGET_KB else "MISSED"
    print(
        f"per idle socket: {per_socket:.1f} KB (from the warm-up baseline; "
        f"{per_socket_cold:.1f} KB from the cold one) -> target <= {TARGET_KB} KB: {verdict}"
    )


if __name__ == "__main__":
    main()

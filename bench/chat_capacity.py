"""Chat capacity of the embedded default: how many negotiation rooms one daphne process
holds on SQLite (issue 16), and the same figures on PostgreSQL + Redis.

Not a test: it prints figures (see docs/benchmarks.md, "Chat capacity of the embedded
default"). Run it alone on the machine if you can:

    .venv/bin/python -m bench.chat_capacity            # or: make bench-chat

For each mode it starts ONE daphne process (tests/live_server.py's ``running_server``):

- embedded: ``make run``'s settings on a SQLite file in a temporary directory (in-memory
  channel layer, eager tasks, the embedded scheduler), ``embedded_env``;
- services: its own PostgreSQL database ``parley_bench_chat`` (dropped, created and
  migrated by this script) and Redis db 0 under a key prefix and Celery queue unique to the
  run (the keys are deleted afterwards). Skipped with a message if either is unreachable.

It seeds the rooms through ``manage.py shell`` (a property, its host and a verified guest
each, opened with a message), warms the server up on two rooms, then steps the number of
rooms up (``--rooms``). In each step both parties of every room chat for ``--duration``
seconds: a message every 2 s each (random phase, open loop), a typing frame before every
third message, a read frame for each message received, as the browser client does. A step
holds when no frame is refused (no error frame), every message is acknowledged and
delivered, and the p99 acknowledgement latency (send -> ack) is at most 100 ms. Stepping
stops after a step that refuses or loses a message or has a p99 over 1 s (``--keep-going``
runs them all).
"""

import argparse
import asyncio
import json
import os
import random
import resource
import secrets
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import drop_database, ensure_database, log
from bench.measure import load_line, machine_cpu_seconds, machine_line, percentile
from tests.live_server import embedded_env, manage, running_server

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/parley_bench_chat"
REDIS_URL = "redis://127.0.0.1:6379/0"
PERIOD = 2.0  # seconds between two messages of one party
HOLD_P99_MS = 100.0
GIVE_UP_MS = 1000.0  # a step this slow (p99), or refusing or losing anything, ends the stepping
FLOOR = 20  # rooms the embedded default must hold (issue 16)
THROTTLES = {
    f"THROTTLE_{name}": "100000/min" for name in ("USER", "ANON", "BOOKINGS", "NEGOTIATION")
}
SEED = """
import json
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # tokens only
from datetime import timedelta
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken
from bookings.tests.factories import bookable_property, verified_guest
from negotiation import services

def token(user):
    access = AccessToken.for_user(user)
    access.set_exp(lifetime=timedelta(hours=3))  # outlives every step of the run
    return str(access)

day = timezone.now().date() + timedelta(days=40)
rooms = []
for n in range(%d):
    prop = bookable_property(nightly="100.00", title=f"Chat room {n}")
    guest = verified_guest()
    nego = services.negotiation_open(guest=guest, property_id=prop.pk, check_in=day,
        check_out=day + timedelta(days=3), guests=1, stay_type="standard", message="Hi!",
    ).negotiation
    nego.refresh_from_db()
    rooms.append({"id": nego.pk, "seq": nego.last_seq, "guest": token(guest),
                  "host": token(prop.host)})
print(json.dumps(rooms))
"""


@dataclass
class Step:
    mode: str
    rooms: int
    sent: int = 0
    acked: int = 0
    delivered: int = 0
    errors: Counter = field(default_factory=Counter)
    answered: set = field(default_factory=set)
    ack_s: list = field(default_factory=list)
    deliver_s: list = field(default_factory=list)
    daphne_cpu: float = 0.0  # share of one core
    machine_busy: float = 0.0  # share of all cores
    client_cpu: float = 0.0  # share of one core

    @property
    def refused(self) -> int:
        return sum(self.errors.values())

    def ms(self, samples: list, p: float) -> float:
        return percentile(sorted(samples), p) * 1000

    @property
    def lost(self) -> bool:
        return self.refused > 0 or not self.acked == self.sent == self.delivered

    @property
    def held(self) -> bool:
        return not self.lost and self.ms(self.ack_s, 99) <= HOLD_P99_MS

    def row(self) -> str:
        codes = ", ".join(f"{code} {n}" for code, n in self.errors.most_common()) or "0"
        cells = [
            self.mode, self.rooms, self.sent, self.acked, self.delivered, codes,
            f"{self.ms(self.ack_s, 50):.1f}", f"{self.ms(self.ack_s, 99):.1f}",
            f"{self.ms(self.deliver_s, 99):.1f}", f"{self.daphne_cpu:.0%}",
            f"{self.client_cpu:.0%}", f"{self.machine_busy:.0%}",
            "yes" if self.held else "**no**",
        ]  # fmt: skip
        return "| " + " | ".join(str(c) for c in cells) + " |"


HEADER = (
    "| mode | rooms | messages sent | acked | delivered | refused frames | ack p50 ms "
    "| ack p99 ms | delivery p99 ms | daphne CPU (1 core) | client CPU | machine busy | held |\n"
    "|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|---|"
)


# --- modes -----------------------------------------------------------------------------------


def embedded_mode(tmp: Path) -> dict:
    env = {**embedded_env(tmp), **THROTTLES}
    manage("migrate", "--noinput", env=env)
    return env


def services_mode(tmp: Path) -> dict | None:
    """The services environment, or None (with a message) if PostgreSQL or Redis is down."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        drop_database(DATABASE_URL)  # a fresh database each run, as the embedded one is
        ensure_database(DATABASE_URL)
    except Exception as exc:
        log(f"services mode skipped: PostgreSQL or Redis unreachable ({exc})")
        return None
    prefix = f"parley-bench-chat-{os.getpid()}-{secrets.token_hex(3)}"
    env = {**embedded_env(tmp), **THROTTLES, "DJANGO_SECRET_KEY": secrets.token_hex(32)}
    env.pop("CELERY_BROKER_URL", None)  # Celery uses REDIS_URL
    env.update(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=prefix)
    env["CELERY_TASK_DEFAULT_QUEUE"] = f"{prefix}-celery"  # never a running worker's queue
    manage("migrate", "--noinput", env=env)
    return env


def cleanup_redis(env: dict) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{env['REDIS_KEY_PREFIX']}*", count=1000))
    if keys:
        client.delete(*keys)
    log(f"deleted {len(keys)} Redis keys of the run")


def seed(env: dict, count: int) -> list[dict]:
    started = time.monotonic()
    out = manage("shell", "-c", SEED % count, env=env)
    rooms = json.loads(out.strip().splitlines()[-1])
    log(f"seeded {count} rooms in {time.monotonic() - started:.1f} s")
    return rooms


def daphne_pid(port: str) -> int | None:
    """The daphne process serving ``port`` (running_server does not hand out its pid)."""
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"daphne" in argv and port.encode() in argv:
            return int(proc.name)
    return None


def cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def snapshot(pid: int | None) -> tuple[float, float, float, float]:
    """CPU seconds so far: daphne, the machine (busy, total), this client process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (cpu_seconds(pid), *machine_cpu_seconds(), usage.ru_utime + usage.ru_stime)


# --- the client ------------------------------------------------------------------------------


async def connect(base: str, room: dict, side: str):
    import websockets

    url = f"{base.replace('http://', 'ws://')}/ws/negotiations/{room['id']}/?after={room['seq']}"
    headers = {"Authorization": f"Bearer {room[side]}"}
    return await websockets.connect(url, origin=base, additional_headers=headers, open_timeout=60)


async def read(ws, room: dict, side: str, step: Step, sent_at: dict) -> None:
    import websockets

    try:
        async for raw in ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind, cid = frame.get("type"), frame.get("client_id")
            if kind == "ack" and cid in sent_at:
                step.acked += 1
                step.answered.add(cid)
                step.ack_s.append(now - sent_at[cid])
            elif kind == "error":
                step.errors[frame.get("code")] += 1
                step.answered.add(cid)
            elif kind == "event":
                room["seq"] = max(room["seq"], frame["seq"])
                data = frame.get("data") or {}
                if frame.get("event") == "message.created" and data.get("side") != side:
                    cid = str(data.get("body", "")).rpartition(" ")[2]
                    if cid in sent_at:
                        step.delivered += 1
                        step.deliver_s.append(now - sent_at[cid])
                    await ws.send(json.dumps({"type": "read", "seq": frame["seq"]}))
    except websockets.ConnectionClosed as exc:
        if exc.rcvd is None or exc.rcvd.code != 1000:
            step.errors["socket closed"] += 1


async def chat(ws, tag: str, step: Step, sent_at: dict, t0: float, end: float) -> None:
    phase = random.uniform(0, PERIOD)
    n = 0
    while (at := t0 + phase + n * PERIOD) < end:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        if n % 3 == 0:
            await ws.send(json.dumps({"type": "typing"}))
        cid = f"{tag}-{n}"
        body = f"Would you take a little less? {cid}"
        sent_at[cid] = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "body": body, "client_id": cid}))
        step.sent += 1
        n += 1


async def run_step(base: str, rooms: list[dict], step: Step, duration: float, pid) -> Step:
    gate = asyncio.Semaphore(10)

    async def open_one(room, side):
        async with gate:
            return await connect(base, room, side)

    parties = [(room, side) for room in rooms for side in ("guest", "host")]
    sockets = await asyncio.gather(*(open_one(room, side) for room, side in parties))
    await asyncio.sleep(1)  # presence frames settle
    sent_at: dict[str, float] = {}
    readers = [
        asyncio.create_task(read(ws, room, side, step, sent_at))
        for ws, (room, side) in zip(sockets, parties, strict=True)
    ]
    before = snapshot(pid)
    t0 = time.perf_counter()
    run = f"r{random.randrange(16**6):06x}"
    await asyncio.gather(
        *(
            chat(ws, f"{run}-{room['id']}-{side[0]}", step, sent_at, t0, t0 + duration)
            for ws, (room, side) in zip(sockets, parties, strict=True)
        )
    )
    drain_until = time.perf_counter() + 10
    while time.perf_counter() < drain_until and (
        len(step.answered & sent_at.keys()) < step.sent or step.delivered < step.sent
    ):
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - t0
    daphne, busy, total, client = (b - a for a, b in zip(before, snapshot(pid), strict=True))
    step.daphne_cpu, step.client_cpu = daphne / elapsed, client / elapsed
    step.machine_busy = busy / max(total, 1e-9)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    await asyncio.gather(*readers, return_exceptions=True)
    return step


def run_mode(mode: str, env: dict, tmp: Path, args) -> list[Step]:
    rooms = seed(env, max(args.rooms))
    log_path = tmp / f"daphne-{mode}.log"
    steps: list[Step] = []
    with running_server(env, log_path=log_path) as base:
        pid = daphne_pid(base.rsplit(":", 1)[1])
        log(f"{mode}: one daphne process at {base} (pid {pid}, log {log_path}); warm-up")
        asyncio.run(run_step(base, rooms[:2], Step(mode, 2), 4, pid))
        for count in args.rooms:
            log(f"{mode}: {count} rooms, {2 * count} sockets, {args.duration:g} s")
            step = asyncio.run(run_step(base, rooms[:count], Step(mode, count), args.duration, pid))
            log(step.row())
            steps.append(step)
            if not args.keep_going and (step.lost or step.ms(step.ack_s, 99) > GIVE_UP_MS):
                break
            time.sleep(2)  # the previous step's sockets close (presence) before the next
    lines = log_path.read_text(errors="replace").splitlines()
    errors = Counter(line[:160] for line in lines if "Error" in line and not line[:1].isspace())
    for line, n in errors.most_common(5):
        log(f"{mode}: server log, {n}x: {line}")
    return steps


def verdict(mode: str, steps: list[Step]) -> str:
    held = [s.rooms for s in steps if s.held]
    limit = max(held, default=0)
    line = f"- {mode}: largest number of rooms held: **{limit}**"
    if missed := [s.rooms for s in steps if not s.held and s.rooms < limit]:
        line += f" (smaller steps that missed: {', '.join(map(str, missed))})"
    if limit == steps[-1].rooms:
        line += " (the largest step tried)"
    if mode == "embedded":
        line += f"; floor {FLOOR}: {'MET' if limit >= FLOOR else 'MISSED'}"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30, help="seconds of chat per step")
    parser.add_argument(
        "--rooms",
        type=lambda s: sorted({int(x) for x in s.split(",")}),
        default=[10, 20, 30, 40, 60, 80, 120],
        help="comma-separated room counts to step through (default 10,20,30,40,60,80,120)",
    )
    parser.add_argument("--keep-going", action="store_true", help="run every step")
    parser.add_argument("--skip-services", action="store_true", help="embedded mode only")
    args = parser.parse_args()
    log(machine_line())
    log(load_line())
    results: dict[str, list[Step]] = {}
    with tempfile.TemporaryDirectory(prefix="parley-bench-chat-") as tmpdir:
        tmp = Path(tmpdir)
        results["embedded"] = run_mode("embedded", embedded_mode(tmp), tmp, args)
        env = None if args.skip_services else services_mode(tmp)
        if env is not None:
            try:
                results["services"] = run_mode("services", env, tmp, args)
            finally:
                cleanup_redis(env)
        log(load_line())
    print()
    print(
        f"Rooms of two parties, a message every {PERIOD:g} s per party (typing every third, "
        f"a read per message received), {args.duration:g} s per step, one daphne process. "
        f"Held: no refused frame, all acked and delivered, ack p99 <= {HOLD_P99_MS:g} ms."
    )
    print()
    print(HEADER)
    for steps in results.values():
        for step in steps:
            print(step.row())
    print()
    for mode, steps in results.items():
        print(verdict(mode, steps))
    if "services" not in results:
        print("- services: skipped (PostgreSQL or Redis unreachable, or --skip-services)")


if __name__ == "__main__":
    main()

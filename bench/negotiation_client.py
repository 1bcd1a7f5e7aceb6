"""The negotiation benchmark's client (``bench/negotiation.py``): one asyncio process holding
both parties' sockets of every negotiation, driving chat messages and offers open-loop at a
given rate, timing each until the counterpart's socket receives it, and checking every
socket's received ``seq`` list against the event log."""

import asyncio
import itertools
import json
import math
import random
import time

from bench.measure import percentile
from bench.negotiation_processes import CpuMeter, Daphne, format_cores

HOLD_P99_MS = 100.0


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

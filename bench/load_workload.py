"""The load test's workload (``bench/load.py``): HTTP clients looping over a mix of search,
quotes, bookings and their booking list, and guest/host pairs negotiating over sockets, each
operation's latency and outcome recorded."""

import asyncio
import json
import random
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from bench.http_client import Connection

CITY = "Loadville"
HTTP_MIX = [("search", 35), ("quote", 30), ("book", 20), ("my_bookings", 15)]


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
    conn = Connection(port)
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

    conn = Connection(port)
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

"""Ordinary concurrency through a real daphne process, in both runtime modes (issue 16):
the embedded default (SQLite, in-memory channel layer, eager tasks: what `make run`
serves) and services (the test's PostgreSQL and Redis). Nothing here may answer 503:

(a) 20 rounds of 16 simultaneous booking requests for the same dates: one 201 and fifteen
    409 ``dates_unavailable`` in every round;
(b) 50 negotiations in a row where the guest accepts over the socket the instant the
    host's counter arrives: 50 bookings;
(c) host and guest chatting in one room (a message every 0.5 s each, typing and read
    frames as the browser client sends them): every message acknowledged and delivered,
    no error frame;
(d) two guests accepting counters for overlapping dates at the same moment: one booking,
    and a clean ``dates_unavailable`` for the other.
"""

import asyncio
import json
import os
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import websockets
from django.conf import settings
from django.db import connection

from tests.live_seed import seed
from tests.live_server import embedded_env, manage, running_server, services_env

pytestmark = pytest.mark.django_db(transaction=True)

CHAT_SECONDS = float(os.environ.get("LIVE_CHAT_SECONDS", "60"))


@pytest.fixture(params=["embedded", "services"])
def live(request, tmp_path):
    """``(base URL, seeded data)`` of a daphne process in the given mode."""
    if request.param == "embedded":
        env = embedded_env(tmp_path)
        manage("migrate", "--noinput", env=env)
        script = "import json\nfrom tests.live_seed import seed\nprint(json.dumps(seed()))"
        data = json.loads(manage("shell", "-c", script, env=env).strip().splitlines()[-1])
    else:
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            pytest.skip("services mode needs DATABASE_URL and REDIS_URL")
        env = services_env(
            settings=settings,
            connection=connection,
            REDIS_KEY_PREFIX=settings.REDIS_KEY_PREFIX + "-live",
            THROTTLE_USER="100000/min",
            THROTTLE_BOOKINGS="100000/min",
            THROTTLE_NEGOTIATION="100000/min",
        )
        data = seed()
    env["THROTTLE_BOOKINGS"] = env["THROTTLE_NEGOTIATION"] = "100000/min"
    with running_server(env, log_path=tmp_path / "server.log") as base:
        yield base, data


def _post(base, path, token, body, barrier=None):
    request = urllib.request.Request(
        f"{base}/api/v1/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    if barrier is not None:
        barrier.wait(timeout=10)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


async def _socket(base, negotiation_id, token):
    url = base.replace("http://", "ws://") + f"/ws/negotiations/{negotiation_id}/"
    return await websockets.connect(
        url, origin=base, additional_headers={"Authorization": f"Bearer {token}"}
    )


async def _until(ws, predicate, timeout=30):
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if predicate(frame):
            return frame


def _answer(client_id):
    return lambda f: f.get("client_id") == client_id and f["type"] in {"ack", "error"}


def test_simultaneous_bookings_of_the_same_dates_one_201_and_fifteen_409(live):
    base, data = live
    first = date.fromisoformat(data["first_check_in"])
    for round_ in range(20):
        check_in = first + timedelta(days=4 * round_)
        body = {
            "property": data["instant_property"],
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=3)).isoformat(),
            "guests": 1,
            "stay_type": "standard",
            "payment_token": "tok_ok",
        }
        barrier = threading.Barrier(len(data["racer_tokens"]))
        with ThreadPoolExecutor(len(data["racer_tokens"])) as pool:
            jobs = [
                pool.submit(_post, base, "bookings/", token, body, barrier)
                for token in data["racer_tokens"]
            ]
            results = [job.result() for job in jobs]
        statuses = sorted(status for status, _ in results)
        assert statuses == [201] + [409] * 15, (round_, results)
        codes = {payload["errors"][0]["code"] for status, payload in results if status == 409}
        assert codes == {"dates_unavailable"}, (round_, results)


def test_guest_accepts_the_instant_the_counter_arrives_fifty_times(live):
    base, data = live

    async def scenario():
        booked = 0
        for n, negotiation_id in enumerate(data["accept_ids"]):
            host = await _socket(base, negotiation_id, data["host_token"])
            guest = await _socket(base, negotiation_id, data["haggler_token"])
            await host.send(json.dumps({"type": "offer", "amount": "180.00", "client_id": f"c{n}"}))
            await _until(
                guest,
                lambda f: f.get("event") == "offer.created" and f["data"]["side"] == "host",
            )
            await guest.send(json.dumps({"type": "accept", "client_id": f"a{n}"}))
            answer = await _until(guest, _answer(f"a{n}"))
            assert answer["type"] == "ack", (n, answer)
            await _until(guest, lambda f: f.get("event") == "booking.created")
            booked += 1
            await host.close()
            await guest.close()
        return booked

    assert asyncio.run(scenario()) == 50


def test_host_and_guest_chat_for_a_minute_nothing_refused_or_lost(live):
    base, data = live
    rounds = int(CHAT_SECONDS / 0.5)

    async def party(token, side, report):
        ws = await _socket(base, data["chat_id"], token)
        acked, received, errors = set(), set(), []

        async def reader():
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "error":
                    errors.append(frame)
                elif frame["type"] == "ack":
                    acked.add(frame["client_id"])
                elif frame.get("event") == "message.created" and frame["data"]["side"] != side:
                    received.add(frame["data"]["body"])  # the opening "Hello!" is replayed too
                    await ws.send(json.dumps({"type": "read", "seq": frame["seq"]}))

        reading = asyncio.create_task(reader())
        for n in range(rounds):
            if n % 3 == 0:
                await ws.send(json.dumps({"type": "typing"}))
            body = f"{side} says {n}"
            await ws.send(json.dumps({"type": "message", "body": body, "client_id": f"{side}{n}"}))
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)
        reading.cancel()
        await ws.close()
        report[side] = (acked, received, errors)

    async def scenario():
        report = {}
        await asyncio.gather(
            party(data["chatter_token"], "guest", report),
            party(data["chat_host_token"], "host", report),
        )
        return report

    report = asyncio.run(scenario())
    for side, other in (("guest", "host"), ("host", "guest")):
        acked, received, errors = report[side]
        assert errors == [], errors[:5]
        assert acked == {f"{side}{n}" for n in range(rounds)}
        assert received - {"Hello!"} == {f"{other} says {n}" for n in range(rounds)}


def test_simultaneous_acceptances_of_overlapping_dates_one_booking(live):
    base, data = live

    async def round_(pair, n):
        host_sockets = [await _socket(base, nid, data["overlap_host_token"]) for nid in pair]
        guests = [
            await _socket(base, nid, token)
            for nid, token in zip(pair, data["rival_tokens"], strict=True)
        ]
        for k, ws in enumerate(host_sockets):
            await ws.send(json.dumps({"type": "offer", "amount": "250.00", "client_id": f"h{k}"}))
            await _until(ws, _answer(f"h{k}"))
        for ws in guests:
            await _until(
                ws, lambda f: f.get("event") == "offer.created" and f["data"]["side"] == "host"
            )
        await asyncio.gather(
            *[ws.send(json.dumps({"type": "accept", "client_id": f"a{n}"})) for ws in guests]
        )
        answers = [await _until(ws, _answer(f"a{n}")) for ws in guests]
        for ws in [*host_sockets, *guests]:
            await ws.close()
        return answers

    async def scenario():
        return [await round_(pair, n) for n, pair in enumerate(data["overlap_pairs"])]

    for answers in asyncio.run(scenario()):
        kinds = sorted((a["type"], a.get("code")) for a in answers)
        assert kinds == [("ack", None), ("error", "dates_unavailable")], answers

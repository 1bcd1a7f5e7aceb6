"""Two real ASGI server processes sharing PostgreSQL and Redis: the guest on one, the host
on the other, negotiate to a booking; one process is killed mid-negotiation and the host
reconnects to the other with ``after`` and misses nothing. Real WebSocket client library."""

import asyncio
import json
import os
import signal
from datetime import timedelta
from decimal import Decimal

import pytest
import websockets
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from bookings.tests.factories import bookable_property, verified_guest
from negotiation import services
from tests.live_server import free_port, running_server, services_env

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="needs the real PostgreSQL and Redis (DATABASE_URL, REDIS_URL)",
    ),
]


def _server_env():
    return services_env(
        settings=settings, connection=connection, REDIS_KEY_PREFIX=settings.REDIS_KEY_PREFIX + "-x"
    )


async def _connect(base, nid, token, after):
    url = base.replace("http://", "ws://") + f"/ws/negotiations/{nid}/?after={after}"
    return await websockets.connect(
        url, origin=base, additional_headers={"Authorization": f"Bearer {token}"}
    )


async def _until(ws, predicate, timeout=10):
    frames = []
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        frames.append(frame)
        if predicate(frame):
            return frames


def _seqs(frames):
    return [f["seq"] for f in frames if f.get("type") == "event"]


def test_parties_on_different_processes_negotiate_to_a_booking_across_a_crash(tmp_path):
    prop = bookable_property(nightly="100.00")
    guest = verified_guest()
    today = timezone.now().date()
    negotiation = services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=today + timedelta(days=30),
        check_out=today + timedelta(days=33), guests=2, stay_type="standard", amount=Decimal("300.00"),
    ).negotiation  # fmt: skip
    guest_token, host_token = str(AccessToken.for_user(guest)), str(AccessToken.for_user(prop.host))
    env = _server_env()
    with (
        running_server(env, port=free_port(), log_path=tmp_path / "a.log") as server_a,
        running_server(env, port=free_port(), log_path=tmp_path / "b.log") as server_b,
    ):

        async def scenario():
            guest_ws = await _connect(server_a, negotiation.pk, guest_token, 0)
            host_ws = await _connect(server_b, negotiation.pk, host_token, 0)
            start = negotiation.last_seq
            guest_seen = _seqs(await _until(guest_ws, lambda f: f.get("seq") == start))
            host_seen = _seqs(await _until(host_ws, lambda f: f.get("seq") == start))
            assert guest_seen == host_seen == list(range(1, start + 1))

            await host_ws.send(json.dumps({"type": "offer", "amount": "350.00", "client_id": "h1"}))
            frames = await _until(guest_ws, lambda f: f.get("event") == "offer.created")
            assert frames[-1]["data"]["amount"] == "350.00"
            await guest_ws.send(
                json.dumps({"type": "offer", "amount": "320.00", "client_id": "g1"})
            )
            frames = await _until(
                host_ws,
                lambda f: f.get("event") == "offer.created" and f["data"]["side"] == "guest",
            )
            assert _seqs(frames) == [start + 1, start + 2]  # its own offer, then the guest's
            last_seen_by_host = frames[-1]["seq"]
            return guest_ws, host_ws, last_seen_by_host

        loop = asyncio.new_event_loop()
        try:
            guest_ws, _host_ws, last_seen = loop.run_until_complete(scenario())
            # Kill server B (the host's process) without warning.
            kill_server(server_b)

            async def after_crash():
                await guest_ws.send(
                    json.dumps({"type": "message", "body": "Still there?", "client_id": "g2"})
                )
                await _until(
                    guest_ws, lambda f: f.get("type") == "ack" and f.get("client_id") == "g2"
                )
                host_again = await _connect(server_a, negotiation.pk, host_token, last_seen)
                missed = await _until(host_again, lambda f: f.get("event") == "message.created")
                assert _seqs(missed) == [last_seen + 1]
                await host_again.send(json.dumps({"type": "accept", "client_id": "h2"}))
                frames = await _until(guest_ws, lambda f: f.get("event") == "booking.created")
                events = [f["event"] for f in frames if f.get("type") == "event"]
                assert events[-2:] == ["offer.accepted", "booking.created"]
                assert frames[-1]["data"]["total"] == "320.00"
                await host_again.close()
                await guest_ws.close()

            loop.run_until_complete(after_crash())
        finally:
            loop.close()
    negotiation.refresh_from_db()
    assert negotiation.status == "accepted" and negotiation.booking.total == Decimal("320.00")


def kill_server(base: str) -> None:
    """SIGKILL the daphne process listening on ``base``'s port."""
    port = base.rsplit(":", 1)[1]
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")  # noqa: SIM115
        except OSError:
            continue
        if b"daphne" in b" ".join(cmdline) and port.encode() in cmdline:
            os.kill(int(pid), signal.SIGKILL)
            return
    raise AssertionError(f"no server on port {port}")

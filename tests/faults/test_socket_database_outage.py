"""Scenario 2 for sockets: PostgreSQL goes down while both parties are connected.

An action sent during the outage is answered ``error service_unavailable`` and not stored,
on a socket that stays open; once the database is back the same socket carries on, and
the other party replays everything, with no gap."""

import asyncio
import json

from tests.faults.conftest import call
from tests.faults.private import migrate_and_seed, negotiation_last_seq, server_env
from tests.faults.test_redis_outage import _answer, _connect, _events_until
from tests.live_server import running_server


async def _pong(ws, timeout=10):
    await ws.send(json.dumps({"type": "ping"}))
    while json.loads(await asyncio.wait_for(ws.recv(), timeout)).get("type") != "pong":
        pass


def test_socket_action_during_a_database_outage_is_never_acked_unstored(private, tmp_path):
    redis, postgres = private
    env = server_env(redis, postgres)
    seed = migrate_and_seed(env, negotiation=True)
    nego = seed["negotiation"]
    nid, guest, host = nego["id"], nego["guest"], nego["host"]
    start = nego["last_seq"]

    def last_seq() -> int:
        return negotiation_last_seq(postgres, nid)

    loop = asyncio.new_event_loop()
    try:
        with running_server(env, log_path=tmp_path / "daphne.log") as base:
            host_ws = loop.run_until_complete(_connect(base, nid, host, start))
            loop.run_until_complete(_pong(host_ws))  # the socket is set up, replay done
            offer = {"type": "offer", "amount": "290.00", "client_id": "down"}
            postgres.stop("immediate")
            loop.run_until_complete(host_ws.send(json.dumps(offer)))
            during = loop.run_until_complete(_answer(host_ws, "down"))
            status, ready, _ = call(base, "GET", "/readyz", timeout=6)
            assert status == 503 and ready["down"] == ["database"], ready
            postgres.start()
            stored = last_seq() - start
            # told in words, nothing stored, and the socket stays usable
            assert (during, stored) == ("error:service_unavailable", 0)
            offer["client_id"] = "again"  # the host tries again once the database is back
            loop.run_until_complete(host_ws.send(json.dumps(offer)))
            assert loop.run_until_complete(_answer(host_ws, "again")) == "ack"
            assert last_seq() == start + 1
            guest_ws = loop.run_until_complete(_connect(base, nid, guest, 0))
            seen = loop.run_until_complete(_events_until(guest_ws, start + 1))
            assert seen == list(range(1, start + 2))
            loop.run_until_complete(guest_ws.close())
            loop.run_until_complete(host_ws.close())
    finally:
        loop.close()
    print(f"\nSOCKET DURING DATABASE OUTAGE: offer -> {during} (stored: {bool(stored)})")

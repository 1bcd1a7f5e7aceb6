"""Smoke test of a running Parley: /healthz, login, one WebSocket ping/pong."""

import asyncio
import json
import os
import sys
import time
import urllib.request

import websockets


def wait_for_health(base: str, server_pid: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            raise SystemExit("the server process exited before it became healthy") from None
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                body = json.load(response)
                if response.status == 200 and body.get("status") == "ok":
                    print(f"healthz ok: {body}")
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("server did not become healthy in time")
        time.sleep(0.5)


def login(base: str) -> str:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token/",
        data=json.dumps({"email": "guest@parley.local", "password": "parley-demo-guest"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["access"]


async def ping_pong(base: str, access: str) -> None:
    ws_url = base.replace("http://", "ws://") + "/ws/notifications/"
    async with websockets.connect(
        ws_url,
        origin=base,
        additional_headers={"Authorization": f"Bearer {access}"},
        open_timeout=10,
    ) as socket:
        # The socket opens with the inbox's unread count, then answers the ping.
        greeting = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        if greeting.get("type") != "unread" or not isinstance(greeting.get("count"), int):
            raise SystemExit(f"unexpected greeting: {greeting}")
        await socket.send(json.dumps({"type": "ping"}))
        reply = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        if reply != {"type": "pong"}:
            raise SystemExit(f"unexpected reply: {reply}")
        print(f"websocket ok: unread count {greeting['count']}, ping/pong")


def main() -> None:
    base, server_pid = sys.argv[1].rstrip("/"), int(sys.argv[2])
    wait_for_health(base, server_pid)
    asyncio.run(ping_pong(base, login(base)))


if __name__ == "__main__":
    main()

"""Daphne servers as deployed, for the HTTP benchmarks: ``processes`` processes sharing one
port through SO_REUSEPORT (no proxy in front), started on a free port and stopped."""

import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT, log


@dataclass
class Servers:
    """``processes`` daphne processes sharing one port through SO_REUSEPORT (no proxy)."""

    port: int
    procs: list[subprocess.Popen] = field(default_factory=list)
    logdir: str = ""

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server processes have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for proc in self.procs:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _reuseport_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def start_daphne(env: dict[str, str], settings_module: str, processes: int) -> Servers:
    """Start daphne as deployed (docker-compose's command line) on a free port.

    With more than one process each gets its own listening socket on the same port
    (SO_REUSEPORT): the kernel spreads connections over them, no proxy in front.
    """
    first = _reuseport_socket(0)
    port = first.getsockname()[1]
    sockets = [first] + [_reuseport_socket(port) for _ in range(processes - 1)]
    logdir = tempfile.mkdtemp(prefix="parley-bench-daphne-")
    servers = Servers(port=port, logdir=logdir)
    child_env = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": settings_module}
    child_env.pop("LOG_LEVEL", None)  # production default (INFO), as deployed
    try:
        for index, sock in enumerate(sockets):
            out = open(Path(logdir) / f"daphne-{index}.log", "ab")  # noqa: SIM115
            proc = subprocess.Popen(
                [
                    str(ROOT / ".venv" / "bin" / "daphne"),
                    "--fd",
                    str(sock.fileno()),
                    "--proxy-headers",
                    "config.asgi:application",
                ],
                cwd=ROOT,
                env=child_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),),
            )
            out.close()
            servers.procs.append(proc)
    finally:
        for sock in sockets:
            sock.close()  # the children hold their own copies
    try:
        _wait_ready(servers)
    except BaseException:
        servers.stop()
        raise
    log(
        f"daphne: {processes} process(es) on 127.0.0.1:{port} "
        f"(pids {', '.join(str(p.pid) for p in servers.procs)}; logs in {logdir})"
    )
    return servers


def _wait_ready(servers: Servers, timeout: float = 60) -> None:
    """Wait until every process answers /healthz (a new connection each time, so the
    kernel hands them to all the processes)."""
    import http.client

    deadline = time.monotonic() + timeout
    ok = 0
    while time.monotonic() < deadline:
        for proc in servers.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"daphne exited with {proc.returncode}; see {servers.logdir}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", servers.port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                ok += 1
            conn.close()
        except OSError:
            ok = 0
            time.sleep(0.2)
            continue
        if ok >= 20 * len(servers.procs):
            return
    raise RuntimeError(f"daphne did not become ready; see {servers.logdir}")

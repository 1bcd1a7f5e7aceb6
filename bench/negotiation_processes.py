"""Processes for the negotiation benchmarks (``bench/negotiation.py``,
``bench/negotiation_idle.py``): daphne servers as deployed, their memory and CPU, the CPU of
PostgreSQL, Redis and the whole machine, file-descriptor limits, and a quiet machine to
measure on."""

import contextlib
import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.common import ROOT

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Daphne:
    """One daphne process as deployed (``daphne --proxy-headers config.asgi:application``)."""

    def __init__(self, env: dict[str, str], name: str, logdir: Path):
        self.name, self.port = name, free_port()
        self.log_path = logdir / f"daphne-{name}.log"
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "--proxy-headers",
                    "config.asgi:application",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.process.pid
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne {self.name} exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if json.load(response).get("status") == "ok":
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"daphne {self.name} did not become healthy")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.process.wait()

    def rss_kb(self) -> int:
        return rss_kb(self.pid)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _pids(match) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if match(comm, cmdline):
            found.append(int(entry))
    return found


def machine_busy_seconds() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK


class CpuMeter:
    """CPU seconds of the processes of interest, to report cores used over an interval."""

    def __init__(self, servers: list[Daphne], database: str):
        self.servers = servers
        self.redis = _pids(lambda comm, cmd: comm.startswith("redis-server"))
        self.database = database

    def _postgres(self) -> dict[int, float]:
        pids = _pids(lambda comm, cmd: comm == "postgres" and f" {self.database} " in cmd)
        return {p: cpu_seconds(p) for p in pids}

    def snapshot(self) -> dict[str, float]:
        snap = {"wall": time.monotonic(), "client": cpu_seconds(os.getpid())}
        for server in self.servers:
            snap[f"server {server.name}"] = cpu_seconds(server.pid)
        snap["postgres"] = self._postgres()
        snap["redis"] = sum(cpu_seconds(p) for p in self.redis)
        snap["machine"] = machine_busy_seconds()
        return snap

    @staticmethod
    def cores(before: dict, after: dict) -> dict[str, float]:
        wall = after["wall"] - before["wall"]
        used = {}
        for k in before:
            if k == "postgres":  # per backend: backends come and go
                old = before[k]
                used[k] = sum(v - old.get(p, 0.0) for p, v in after[k].items()) / wall
            elif k != "wall":
                used[k] = (after[k] - before[k]) / wall
        used["other"] = max(
            0.0, used["machine"] - sum(v for k, v in used.items() if k != "machine")
        )
        return used


def format_cores(cores: dict[str, float]) -> str:
    order = [k for k in cores if k not in {"machine", "other"}] + ["other", "machine"]
    return ", ".join(f"{k} {cores[k]:.2f}" for k in order) + f" (of {os.cpu_count()})"


def raise_fd_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = hard if hard == resource.RLIM_INFINITY else min(hard, max(needed, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < needed:
        sys.exit(f"need {needed} file descriptors, the hard limit is {hard}")
    return soft


def other_benchmarks() -> list[int]:
    """Other benchmark scripts running (they may be idle now, waiting for a quiet machine
    too, and start at the same moment as this one)."""
    me = os.getpid()
    return [
        pid
        for pid in _pids(
            lambda comm, cmd: "python" in cmd and (" -m bench." in cmd or "bench/" in cmd)
        )
        if pid != me and os.getppid() != pid
    ]


def wait_quiet(limit: float, threshold: float = 0.3, window: float = 3.0) -> float:
    """Wait (at most ``limit`` s) until the machine has been nearly idle (below ``threshold``
    cores busy) for three windows in a row and no other benchmark script runs: other work on
    a 2-core machine would be measured as our latency. Returns the busy cores of the last
    window."""
    deadline = time.monotonic() + limit
    calm, busy = 0, math.nan
    while True:
        before = machine_busy_seconds()
        time.sleep(window)
        busy = (machine_busy_seconds() - before) / window
        calm = calm + 1 if busy < threshold and not other_benchmarks() else 0
        if calm >= 3 or time.monotonic() > deadline:
            return busy


def interrupt(signum, frame):
    raise KeyboardInterrupt


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"

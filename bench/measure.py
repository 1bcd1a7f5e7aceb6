"""Figures for the benchmarks: percentiles and latency summaries, CPU used by the servers and
the machine, a quiet machine to measure on, and one-line descriptions of the machine, its load
and PostgreSQL."""

import math
import os
import sys
import time
from pathlib import Path

from bench.common import log
from bench.servers import Servers


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summary_ms(samples: list[float]) -> dict[str, float]:
    values = sorted(s * 1000 for s in samples)
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": values[-1] if values else math.nan,
    }


def format_summary(label: str, samples: list[float], target_ms: float | None = None) -> str:
    s = summary_ms(samples)
    line = (
        f"{label:<44} n={s['n']:<5} p50={s['p50']:7.1f} ms  p95={s['p95']:7.1f} ms  "
        f"p99={s['p99']:7.1f} ms  max={s['max']:7.1f} ms"
    )
    if target_ms is not None:
        verdict = "MET" if s["p99"] <= target_ms else "MISSED"
        line += f"   target p99 <= {target_ms:g} ms: {verdict}"
    return line


def wait_for_quiet(max_wait: float, threshold: float = 1.0) -> None:
    """Wait (up to ``max_wait`` seconds) until the 1-minute load average is under
    ``threshold``: other work on a 2-core machine moves every figure."""
    if max_wait <= 0:
        return
    deadline = time.monotonic() + max_wait
    while (load := os.getloadavg()[0]) >= threshold:
        if time.monotonic() > deadline:
            log(f"load average still {load:.2f} after {max_wait:g} s: measuring anyway")
            return
        log(f"waiting for a quiet machine (load average {load:.2f})")
        time.sleep(15)


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / ticks, sum(values) / ticks


class CpuMeter:
    """CPU used during a phase: by the servers, and by the whole machine."""

    def __init__(self, servers: Servers):
        self.servers = servers
        self.server_start = servers.cpu_seconds()
        self.machine_start = machine_cpu_seconds()

    def per_request(self, requests: int) -> str:
        server = self.servers.cpu_seconds() - self.server_start
        busy, total = (
            b - a for a, b in zip(self.machine_start, machine_cpu_seconds(), strict=True)
        )
        n = max(requests, 1)
        return (
            f"CPU per request: daphne {server / n * 1000:.1f} ms, whole machine "
            f"{busy / n * 1000:.1f} ms (machine busy {busy / max(total, 1e-9):.0%})"
        )


def load_line() -> str:
    return "load average (1, 5, 15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_line() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"machine: {os.cpu_count()} CPUs ({cpu}), Python {sys.version.split()[0]}"


def postgres_line() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        settings = []
        for name in ("shared_buffers", "work_mem", "effective_cache_size", "jit"):
            cursor.execute(f"SHOW {name}")
            settings.append(f"{name}={cursor.fetchone()[0]}")
    return f"PostgreSQL {version} ({', '.join(settings)})"

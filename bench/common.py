"""Shared plumbing for the benchmarks: database, Django setup, daphne servers, a small
HTTP/1.1 client and percentiles.

The bench database (``DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/parley_bench``)
is created when missing and belongs to the benchmarks alone: the dataset generator truncates it.
The database named ``test`` (the test suite's) is refused outright.
"""

import asyncio
import contextlib
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/parley_bench"
# A Redis database of its own, so the benchmark's throttle counters, channel groups and
# queued Celery messages never mix with a dev server's or the test suite's (db 0).
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
REFUSED_DATABASES = {"test", "postgres", "template0", "template1"}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- environment and database -------------------------------------------------------------


def add_server_options(parser) -> None:
    """The options every HTTP benchmark has: servers, connections, a quiet machine."""
    parser.add_argument("--processes", type=int, default=2, help="daphne processes")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="first wait up to this long for a 1-minute load average under 1",
    )
    parser.add_argument(
        "--conn-max-age",
        default=None,
        help="DB_CONN_MAX_AGE for the servers (default: unset, the deployed 0)",
    )
    parser.add_argument(
        "--pool",
        default=None,
        help="DB_POOL_MAX_SIZE for the servers (default: unset, the deployed 10; 0: no pool)",
    )


def bench_env(args=None) -> dict[str, str]:
    """The environment shared by this process and the servers it starts; ``args`` of
    :func:`add_server_options` override how the servers connect to PostgreSQL."""
    env = _base_env()
    if getattr(args, "conn_max_age", None) is not None:
        env["DB_CONN_MAX_AGE"] = str(args.conn_max_age)
    if getattr(args, "pool", None) is not None:
        env["DB_POOL_MAX_SIZE"] = str(args.pool)
    return env


def _base_env() -> dict[str, str]:
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    name = urlsplit(database_url).path.lstrip("/")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"DATABASE_URL must be PostgreSQL, got {database_url!r}")
    if name in REFUSED_DATABASES:
        sys.exit(f"refusing to benchmark in the database {name!r}: use a database of its own")
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        "REDIS_KEY_PREFIX": "parley-bench",
        # One key per run; the servers and this process must agree (JWTs are signed with it).
        "DJANGO_SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_hex(32),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "JWT_COOKIE_SECURE": "false",
        # The throttles stay on (each request still reads and writes its counter in Redis),
        # with rates a benchmark from one address cannot reach.
        "THROTTLE_ANON": "10000000/min",
        "THROTTLE_USER": "10000000/min",
        "THROTTLE_BOOKINGS": "10000000/min",
        "THROTTLE_NEGOTIATION": "10000000/min",
        "LOG_FORMAT": "json",
    }


def connection_line(env: dict[str, str]) -> str:
    """How the servers connect to PostgreSQL (production settings: a pool of 10 a process)."""
    pool = env.get("DB_POOL_MAX_SIZE", "10")
    if pool != "0":
        return f"psycopg pool, max {pool} connections a process"
    return f"no pool, DB_CONN_MAX_AGE={env.get('DB_CONN_MAX_AGE', '0')}"


def ensure_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if name in REFUSED_DATABASES:
        sys.exit(f"refusing to drop {name!r}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        log(f"dropping database {name}")
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(env: dict[str, str], settings_module: str) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    log("migrate")
    call_command("migrate", interactive=False, verbosity=0)


def flush_bench_redis(redis_url: str) -> None:
    """Empty the benchmark's own Redis database (only the default one, never a shared one)."""
    if redis_url != DEFAULT_REDIS_URL:
        return
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


# --- servers -------------------------------------------------------------------------------


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


# --- a minimal HTTP/1.1 keep-alive client ---------------------------------------------------


class HttpError(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection (asyncio streams). Much cheaper per request than
    a general-purpose client, which matters when client and server share two cores."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = self.reader = None

    async def request(
        self, method: str, path: str, *, headers: dict | None = None, body: bytes = b""
    ) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, chunked, close = None, False, False
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        if chunked:
            payload = bytearray()
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                payload += await self.reader.readexactly(size + 2)
                del payload[-2:]
            data = bytes(payload)
        elif length is not None:
            data = await self.reader.readexactly(length)
        else:
            data = await self.reader.read()
            close = True
        if close:
            await self.close()
        return status, data


# --- figures --------------------------------------------------------------------------------


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

    def __init__(self, servers: "Servers"):
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

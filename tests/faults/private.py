"""Private PostgreSQL and Redis instances for fault injection.

The machine's shared PostgreSQL (5432) and Redis (6379) are never stopped: each fault
test starts its own ``redis-server`` and its own PostgreSQL cluster (``initdb`` into a
temporary directory, run as the ``postgres`` user because ``initdb`` refuses root) on
free ports, breaks them at will, and removes them afterwards.
"""

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.live_server import ROOT, free_port


def _as_postgres() -> list[str]:
    """Command prefix to run a PostgreSQL binary as the ``postgres`` user when root."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def postgres_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def missing_tools() -> str | None:
    """Why the private instances cannot run here, or None."""
    if not shutil.which("redis-server"):
        return "redis-server is not installed"
    if postgres_bin() is None:
        return "PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) are not installed"
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            return "running as root without runuser (initdb refuses root)"
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user (initdb refuses root)"
    return None


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


class PrivateRedis:
    """``redis-server`` on a free port, no persistence; ``stop``/``start`` keep the port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        _wait_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()  # an outage, not a shutdown
            self.process.wait(timeout=10)
        self.process = None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (trust auth on loopback) owned by ``postgres``."""

    def __init__(self):
        self.bin = postgres_bin()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="parley-fault-pg-"))
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/parley"

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            [*_as_postgres(), *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}")

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--no-sync", "-E", "UTF8", "--locale=C",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str = "parley") -> None:
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def query(self, sql: str, params=()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as conn:
            return conn.execute(sql, params).fetchall()

    def remove(self) -> None:
        if self.is_running():
            with suppress(RuntimeError):
                self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def private_services():
    """A migrated private PostgreSQL database and a private Redis, removed afterwards."""
    redis, postgres = PrivateRedis(), PrivatePostgres()
    try:
        redis.start()
        postgres.init()
        postgres.start()
        postgres.create_database()
        yield redis, postgres
    finally:
        redis.stop()
        postgres.remove()


def server_env(redis: PrivateRedis, postgres: PrivatePostgres, **extra) -> dict:
    """Environment of a daphne/Celery/manage.py process on the private services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="fault-injection-" + "k" * 40,
        DATABASE_URL=postgres.url,
        REDIS_URL=redis.url,
        REDIS_KEY_PREFIX="parley-faults",
        THROTTLE_USER="100000/min",
        THROTTLE_ANON="100000/min",
        # The load loops book continuously: a fast machine passed 30 bookings a minute.
        THROTTLE_BOOKINGS="100000/min",
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env


SEED = """
import json
from datetime import timedelta
from decimal import Decimal
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken
from bookings.tests.factories import bookable_property, verified_guest
from negotiation import services

today = timezone.now().date()
out = {"properties": [], "guests": []}
for i in range(PROPERTIES):
    prop = bookable_property(nightly="100.00", instant_book=True)
    out["properties"].append(prop.pk)
    out["host_token"] = str(AccessToken.for_user(prop.host))
for i in range(GUESTS):
    out["guests"].append(str(AccessToken.for_user(verified_guest())))
if NEGOTIATION:
    prop = bookable_property(nightly="100.00")
    guest = verified_guest()
    n = services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=today + timedelta(days=30),
        check_out=today + timedelta(days=33), guests=2, stay_type="standard",
        amount=Decimal("250.00"),
    ).negotiation
    out["negotiation"] = {"id": n.pk, "last_seq": n.last_seq,
        "guest": str(AccessToken.for_user(guest)), "host": str(AccessToken.for_user(prop.host))}
print("SEED" + json.dumps(out))
"""


def migrate_and_seed(env: dict, *, properties=0, guests=0, negotiation=False) -> dict:
    """Migrate the private database, then create data through the project's factories
    (tokens are valid in the servers: same secret key). ``timeout`` bounds a hung start."""
    for args in (["migrate", "--noinput", "-v", "0"],):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
            capture_output=True, timeout=300,
        )  # fmt: skip
    code = (
        SEED.replace("PROPERTIES", str(properties))
        .replace("GUESTS", str(guests))
        .replace("NEGOTIATION", str(bool(negotiation)))
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT,
        env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    line = next(li for li in result.stdout.splitlines() if li.startswith("SEED"))
    return json.loads(line[4:])


def negotiation_last_seq(postgres: PrivatePostgres, negotiation_id: int) -> int:
    """The negotiation's last event ``seq``, read straight from the private database."""
    rows = postgres.query(
        "SELECT last_seq FROM negotiation_negotiation WHERE id = %s", (negotiation_id,)
    )
    return rows[0][0]

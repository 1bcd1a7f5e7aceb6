"""The beat schedule run inside the ASGI server, for the embedded default (DESIGN.md 2, 6).

``make run`` has no worker and no beat (SQLite, in-memory channel layer, eager tasks), so
the periodic work of ``CELERY_BEAT_SCHEDULE`` (expire lapsed holds and negotiations,
reminders, review publishing, ...) runs here, in the server process: the in-memory
channel layer lives in that process, so a sweep's events reach the sockets open on it.

How it runs: an asyncio task on the server's own event loop checks each entry with
Celery's schedule objects (``is_due(last_run_at)`` -> ``(due, next_in)``, as beat does,
the first run one interval after start) and runs the due tasks one at a time, eagerly
(the task called by name), each in a worker thread through ``sync_to_async``. Each run is an
ordinary service call with its own transactions, so on SQLite it queues for the write
lock like a request does; and because the thread comes from ``sync_to_async``, the
``async_to_sync(group_send)`` of its on-commit publishing runs on the server's loop,
where the sockets are. An exception is logged and the schedule goes on.

When: only in the embedded mode (eager Celery, no ``REDIS_URL``), only in a process that
serves the ASGI application, and never in services mode (beat runs the schedule there).
``EMBEDDED_SCHEDULER=false`` turns it off; under pytest it is off unless the environment
sets ``EMBEDDED_SCHEDULER`` explicitly. Daphne has no ASGI lifespan, so on daphne it
starts when the reactor starts (``callWhenRunning``); on servers with lifespan
(uvicorn, hypercorn) at ``lifespan.startup``; failing both, on the first connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from celery import current_app
from celery.schedules import maybe_schedule
from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

ENV_FLAG = "EMBEDDED_SCHEDULER"
# The longest sleep between two checks: a clock change or a crontab entry is noticed
# within this, and a stop never waits for a sleep.
MAX_SLEEP_SECONDS = 30.0


@dataclass
class Entry:
    """One beat schedule entry: ``schedule`` is a Celery schedule object."""

    name: str
    task: str
    schedule: Any
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    last_run_at: datetime | None = None
    runs: int = 0

    def is_due(self) -> tuple[bool, float]:
        if self.last_run_at is None:  # as a fresh beat: the first run one interval from now
            self.last_run_at = self.schedule.now()
        return self.schedule.is_due(self.last_run_at)


def entries_from(beat_schedule: dict, *, app=None) -> list[Entry]:
    """Entries of a ``beat_schedule`` dict, their schedules bound to the Celery ``app``."""
    return [
        Entry(
            name=name,
            task=spec["task"],
            schedule=maybe_schedule(spec["schedule"], app=app),
            args=tuple(spec.get("args", ())),
            kwargs=dict(spec.get("kwargs", {})),
        )
        for name, spec in beat_schedule.items()
    ]


class EmbeddedScheduler:
    """Runs due entries one at a time with ``run(entry)`` (a blocking call, made in a
    worker thread) until :meth:`stop`. An exception in one run is logged, not raised."""

    def __init__(
        self,
        entries: list[Entry],
        run: Callable[[Entry], Any],
        *,
        max_sleep: float = MAX_SLEEP_SECONDS,
    ):
        self.entries = entries
        self._run = run
        self.max_sleep = max_sleep
        self._stopping = asyncio.Event()
        self.task: asyncio.Task | None = None

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Task:
        """Start on ``loop`` (the server's), by default the running one; idempotent."""
        if self.task is None:
            loop = loop or asyncio.get_running_loop()
            self.task = loop.create_task(self.run_forever(), name="embedded-scheduler")
        return self.task

    def stop(self) -> None:
        """Stop after the run in progress, if any; no new run starts."""
        self._stopping.set()

    async def run_forever(self) -> None:
        logger.info(
            "embedded scheduler: running %d periodic task(s) in this process",
            len(self.entries),
        )
        while not self._stopping.is_set():
            wait = await self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=wait)
        logger.info("embedded scheduler: stopped")

    async def tick(self) -> float:
        """Run every entry that is due, one at a time; return the seconds to the next
        check (none after a run: another entry may have come due meanwhile)."""
        wait = self.max_sleep
        ran = False
        for entry in self.entries:
            if self._stopping.is_set():
                break
            try:
                due, next_in = entry.is_due()
            except Exception:
                logger.exception("embedded scheduler: cannot tell when %s is due", entry.name)
                continue
            if due:
                entry.last_run_at = entry.schedule.now()
                entry.runs += 1
                await self._run_one(entry)
                ran = True
            wait = min(wait, max(float(next_in), 0.0))
        return 0.0 if ran else wait

    async def _run_one(self, entry: Entry) -> None:
        started = time.monotonic()
        try:
            result = await sync_to_async(self._run, thread_sensitive=False)(entry)
        except Exception:
            logger.exception("embedded scheduler: %s (%s) failed", entry.name, entry.task)
            return
        elapsed = time.monotonic() - started
        level = logging.INFO if result else logging.DEBUG
        logger.log(level, "embedded scheduler: %s -> %r in %.2fs", entry.name, result, elapsed)


def run_task(entry: Entry) -> Any:
    """Run the entry's task in this thread, with fresh database connections; the task is
    looked up by name in the Celery app. Its exceptions propagate (the caller logs)."""
    app = current_app  # the project's Celery app (config/celery_app.py), whichever it is
    close_old_connections()
    try:
        if entry.task not in app.tasks:
            app.loader.import_default_modules()  # autodiscovery registers every task
        task = app.tasks[entry.task]
        # Called as a function (as ``apply()`` would, without a trace log line a minute):
        # what it sends with ``delay()`` runs eagerly too, in this thread.
        return task(*entry.args, **entry.kwargs)
    finally:
        connections.close_all()  # this thread may not run another job: leave nothing open


# --- when, and the hooks ---------------------------------------------------------------


def enabled() -> bool:
    """True in the embedded mode unless ``EMBEDDED_SCHEDULER=false``; never in services
    mode; under pytest only when the environment sets ``EMBEDDED_SCHEDULER`` itself."""
    if "pytest" in sys.modules and ENV_FLAG not in os.environ:
        return False
    if os.environ.get(ENV_FLAG, "true").strip().lower() in {"0", "false", "no", "off"}:
        return False
    return bool(settings.CELERY_TASK_ALWAYS_EAGER) and not getattr(settings, "REDIS_URL", "")


_scheduler: EmbeddedScheduler | None = None


def _default_scheduler() -> EmbeddedScheduler:
    global _scheduler
    if _scheduler is None:
        app = current_app
        _scheduler = EmbeddedScheduler(entries_from(app.conf.beat_schedule, app=app), run_task)
    return _scheduler


_failed = False


def _start(loop: asyncio.AbstractEventLoop | None = None) -> None:
    """Start the scheduler once; a failure to start is logged once and serving goes on."""
    global _failed
    if _failed:
        return
    try:
        _default_scheduler().start(loop)
    except Exception:
        _failed = True
        logger.exception("embedded scheduler: could not start; no periodic work will run")


def _stop() -> None:
    if _scheduler is not None:
        _scheduler.stop()


def _hook_daphne() -> bool:
    """Start with daphne's reactor (daphne implements no ASGI lifespan). Only where
    daphne installed its asyncio reactor already: importing the reactor otherwise would
    install Twisted's default one."""
    if "daphne.server" not in sys.modules:
        return False
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None or not hasattr(reactor, "_asyncioEventloop"):
        return False
    # Startup triggers fire before the loop runs: hand it the loop the server will run.
    reactor.callWhenRunning(_start, reactor._asyncioEventloop)
    reactor.addSystemEventTrigger("before", "shutdown", _stop)
    return True


def with_embedded_scheduler(application):
    """The ASGI ``application``, started with the embedded scheduler where it applies
    (:func:`enabled`); unchanged otherwise."""
    if not enabled():
        return application
    _hook_daphne()

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    _start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    _stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        _start()  # idempotent: a server that started it already, or has no hook at all
        return await application(scope, receive, send)

    return app

"""Row locks taken in a stable order, with a lock timeout (DESIGN.md section 1).

Every writer that needs rows to itself locks them here: ``select_for_update`` over the
rows ordered by primary key, so two writers locking the same rows take them in the same
order and cannot deadlock each other over them. Writers that lock rows of several
tables take them in the order the apps document (a property, then its bookings or
negotiations, then payment rows).

On PostgreSQL every session has a ``lock_timeout`` (``DB_LOCK_TIMEOUT_MS``, set when it
connects: ``config.settings.services.postgres_session_settings``): a writer that waits
longer than that for a row gives up with :class:`LockTimeout`, a ``503
service_unavailable`` with ``Retry-After``, instead of holding a request (and a
connection) until a proxy's timeout or answering 500. Waiting that long means something
is stuck: an ordinary race waits milliseconds. A connection opened with another value
(the setting changed at run time, as tests do) gets ``SET LOCAL lock_timeout`` before its
lock, for the rest of the transaction.

On SQLite (the embedded default) ``select_for_update`` is a no-op and so is the timeout:
the IMMEDIATE transaction already holds the database's one write lock, and its busy
timeout bounds the wait for it.
"""

from django.conf import settings
from django.db import OperationalError, connections
from django.db.models import Model, QuerySet

from core.errors import ServiceUnavailable

LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a lock_timeout (and of NOWAIT)


class LockTimeout(ServiceUnavailable):
    """A row stayed locked by another writer past ``DB_LOCK_TIMEOUT_MS``."""

    default_detail = "Someone else is changing this right now; try again in a moment."
    retry_after = 2


def sqlstate(exc: Exception) -> str | None:
    """The SQLSTATE of a database error Django wrapped (PostgreSQL), else None."""
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def is_lock_timeout(exc: BaseException | None) -> bool:
    """A statement gave up waiting for a lock (``lock_timeout``), wherever it was taken:
    the API answers it as :class:`LockTimeout` too (``core.api.errors``)."""
    return isinstance(exc, OperationalError) and sqlstate(exc) == LOCK_NOT_AVAILABLE


def lock_rows(
    queryset: QuerySet, *, of: tuple[str, ...] = (), timeout_already_set: bool = False
) -> list:
    """Lock every row of ``queryset`` in primary-key order; returns them in that order.

    ``of`` names the tables to lock when the query joins others (``("self",)``: only the
    queryset's own model), as for ``select_for_update``. ``timeout_already_set``: the
    caller took another lock through this module earlier in the same transaction, so a
    ``SET LOCAL`` it needed is not sent twice.
    """
    if not timeout_already_set:
        _set_lock_timeout(queryset.db)
    try:
        return list(queryset.select_for_update(of=of).order_by("pk"))
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise LockTimeout() from exc
        raise


def lock_one(
    queryset: QuerySet, *, of: tuple[str, ...] = (), timeout_already_set: bool = False
) -> Model:
    """Lock the one row of ``queryset`` (as ``.get()``: ``DoesNotExist`` if there is none)."""
    rows = lock_rows(queryset, of=of, timeout_already_set=timeout_already_set)
    if not rows:
        raise queryset.model.DoesNotExist(f"No {queryset.model._meta.object_name} to lock.")
    return rows[0]


def _set_lock_timeout(alias: str) -> None:
    connection = connections[alias]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    startup_options = connection.settings_dict.get("OPTIONS", {}).get("options", "")
    if f"lock_timeout={settings.DB_LOCK_TIMEOUT_MS}ms" in startup_options.split():
        return  # the session's own (the usual case): nothing to send
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)", [f"{settings.DB_LOCK_TIMEOUT_MS}ms"]
        )

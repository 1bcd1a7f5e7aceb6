"""Django's PostgreSQL backend whose connection pool skips the health check of a
connection given back moments ago.

With ``CONN_HEALTH_CHECKS`` Django makes the psycopg pool check every connection it
lends (``ConnectionPool.check_connection``: an empty query, one round trip to the
server), so every request and every socket action paid a round trip before its first
query. A connection returned less than ``ALIVE_BYPASS_SECONDS`` ago was working then, so
it is lent unchecked, as HikariCP does by default (``aliveBypassWindowMs``, 500 ms).
Under load nearly every loan is such a reuse; an idle connection, or one after an outage
(the pool drops connections that failed), is still checked. The price: if the server
restarts within that half second, a connection it dropped can be lent once more, and
that request fails with a 503 like those during the outage itself.

Used through ``ENGINE = "config.postgresql"`` when the pool is on
(``config.settings.base.use_connection_pool``).
"""

import time

from django.db.backends.postgresql.base import DatabaseWrapper as PostgresDatabaseWrapper
from psycopg_pool import ConnectionPool

ALIVE_BYPASS_SECONDS = 0.5
_RETURNED_AT = "_parley_returned_at"


def check_unless_just_returned(conn) -> None:
    """The pool's ``check`` callback: raise if ``conn`` is broken, unless it was given
    back to the pool less than ``ALIVE_BYPASS_SECONDS`` ago."""
    returned_at = getattr(conn, _RETURNED_AT, None)
    if returned_at is not None and time.monotonic() - returned_at < ALIVE_BYPASS_SECONDS:
        return
    ConnectionPool.check_connection(conn)


class DatabaseWrapper(PostgresDatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        # Django builds the pool with check=ConnectionPool.check_connection and has no
        # setting for another check; psycopg_pool keeps it in ``_check``.
        if pool is not None and pool._check is ConnectionPool.check_connection:
            pool._check = check_unless_just_returned
        return pool

    def _close(self):
        if self.connection is not None and self.pool:
            setattr(self.connection, _RETURNED_AT, time.monotonic())
        return super()._close()

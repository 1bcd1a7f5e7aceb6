"""SQLite for the embedded default: every write waits its turn for the one write lock.

SQLite has a single writer. A transaction that starts as a read (a plain ``BEGIN``) and
later writes must upgrade its lock; if another connection committed in the meantime, the
upgrade fails at once with "database is locked" (``SQLITE_BUSY_SNAPSHOT`` in WAL mode):
the busy timeout is never consulted, and the API answered 503 within milliseconds under
ordinary use. Taking the write lock at ``BEGIN IMMEDIATE`` instead makes a writer wait in
the busy handler, in turn, for up to the busy timeout.

This backend makes that the only way a transaction starts, however the database is
configured (``DATABASE_URL=sqlite:///…`` included, which carries no options):

- ``atomic()`` (every service's transaction) begins with ``BEGIN IMMEDIATE``;
- every connection runs in WAL mode (readers never wait for the writer) with a busy
  timeout (``timeout``, default 20 s) and ``synchronous=NORMAL``.

A statement outside a transaction (autocommit) is its own transaction and waits in the
busy handler too. What is left to fail with ``OperationalError`` is a real outage: a
file that cannot be written, a full disk, or a write lock held past the busy timeout;
those are answered 503 (core.errors.is_outage).
"""

from django.db.backends.sqlite3 import base

BUSY_TIMEOUT_SECONDS = 20
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        options = self.settings_dict.setdefault("OPTIONS", {})
        mode = options.get("transaction_mode")
        if mode and mode.upper() != "IMMEDIATE":
            raise ValueError(f"core.sqlite takes its write lock at BEGIN; not {mode!r}")
        options["transaction_mode"] = "IMMEDIATE"
        options.setdefault("timeout", BUSY_TIMEOUT_SECONDS)
        commands = [c for c in options.get("init_command", "").split(";") if c.strip()]
        for pragma in PRAGMAS:
            if not any(c.strip().upper() == pragma.upper() for c in commands):
                commands.append(pragma)
        options["init_command"] = "; ".join(commands)
        return super().get_connection_params()

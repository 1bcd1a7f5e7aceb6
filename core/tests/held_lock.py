"""A row held locked by another connection, for tests of what waits on it."""

import threading

from django.db import connections, transaction
from django.db.models import QuerySet

from core import locks


class HeldLock:
    """Another thread, with its own connection, holds the lock on the one row of
    ``queryset`` from the start of the ``with`` block to its end."""

    def __init__(self, queryset: QuerySet):
        self.queryset = queryset
        self.locked, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self):
        try:
            with transaction.atomic():
                locks.lock_one(self.queryset)
                self.locked.set()
                self.release.wait(timeout=30)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(timeout=10)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(timeout=10)

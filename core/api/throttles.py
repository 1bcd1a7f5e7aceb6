"""Throttles of the API: the general per-client rates and the per-user write scopes.

``ScopedWriteThrottle``: a view names its scope (``throttle_scope = "bookings"``); only
unsafe requests count, so reading lists and details stays under the general ``user``
rate alone. Rates come from ``DEFAULT_THROTTLE_RATES`` (``THROTTLE_BOOKINGS``,
``THROTTLE_NEGOTIATION``).

They count with a **sliding window counter** instead of DRF's sliding log. DRF reads the
list of a client's request times from the cache, appends and writes it back: two round
trips and a pickled list as long as the rate on every request, and two concurrent
requests can both read the same list so that one of them is not counted. Here a client
has a counter per window of the rate's period (``INCR``, atomic), and the count of the
last period is estimated as this window's count plus the previous window's count scaled
by the part of it still inside the period (the previous window's requests taken as evenly
spread). One round trip, whatever the rate; no burst of twice the rate across a window
boundary as with plain fixed windows. A refused request is taken back off the count.

These three **fail open**: their counters live in Redis, and when Redis is unreachable a
request is let through (and a warning logged) rather than refused, so bookings and
negotiations go on through a Redis outage (docs/robustness.md). The auth throttles of
``accounts.throttles`` (login, registration, password reset) deliberately do not: without
their counters those endpoints answer 503 instead of opening the door to credential
stuffing; they are rare enough to keep DRF's exact sliding log.
"""

import contextlib
import logging

from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import (
    AnonRateThrottle,
    ScopedRateThrottle,
    SimpleRateThrottle,
    UserRateThrottle,
)

from core.cache import count_in_window

logger = logging.getLogger(__name__)


def seconds_until_allowed(
    previous: int, current: int, limit: int, elapsed: float, period: float
) -> float:
    """How long until one more request fits, if no other comes: ``previous`` and
    ``current`` are the counts of the last and this window, ``elapsed`` the seconds into
    this window. The estimate ``previous * (1 - elapsed / period) + current`` only falls
    as the previous window's weight runs out, then (in the next window) as this one's."""
    if current + 1 <= limit:
        # within this window, once the previous window's weight is small enough
        needed = 1 - (limit - current - 1) / previous if previous else 0.0
        seconds = max(needed * period - elapsed, 0.0)
    else:
        needed_next = 1 - (limit - 1) / current if current else 0.0
        seconds = (period - elapsed) + max(needed_next, 0.0) * period
    return round(seconds, 3)  # no 25.000000004 s (a Retry-After of 26)


class WindowCounterThrottle(SimpleRateThrottle):
    """Counts with a sliding window counter (see the module docstring). Listed after
    DRF's throttle classes in the bases, so that their ``allow_request`` (the scoped one
    picks its rate there) runs first and hands over to this one instead of DRF's log."""

    retry_after = 0.0

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        window, elapsed = divmod(self.timer(), self.duration)
        current_key = f"{self.key}:{int(window)}"
        current, previous = count_in_window(
            current_key, f"{self.key}:{int(window) - 1}", timeout=2 * self.duration
        )
        if previous * (1 - elapsed / self.duration) + current <= self.num_requests:
            return True
        with contextlib.suppress(ValueError):  # ValueError: the counter expired meanwhile
            cache.decr(current_key)  # a refused request does not count
        self.retry_after = seconds_until_allowed(
            previous, current - 1, self.num_requests, elapsed, self.duration
        )
        return False

    def wait(self) -> float:
        return self.retry_after


class FailOpenMixin:
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            logger.warning("throttle %s skipped, cache unavailable: %s", self.scope, exc)
            return True


class AnonThrottle(FailOpenMixin, AnonRateThrottle, WindowCounterThrottle):
    pass


class UserThrottle(FailOpenMixin, UserRateThrottle, WindowCounterThrottle):
    """Signed-in users only. DRF's counts anonymous clients by address too, a second
    counter (and round trip) beside the stricter anonymous rate that already limits them."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class ScopedWriteThrottle(FailOpenMixin, ScopedRateThrottle, WindowCounterThrottle):
    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)

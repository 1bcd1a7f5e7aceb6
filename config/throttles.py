"""Throttles of the API: the general per-client rates and the per-user write scopes.

``ScopedWriteThrottle``: a view names its scope (``throttle_scope = "bookings"``); only
unsafe requests count, so reading lists and details stays under the general ``user``
rate alone. Rates come from ``DEFAULT_THROTTLE_RATES`` (``THROTTLE_BOOKINGS``,
``THROTTLE_NEGOTIATION``).

These three **fail open**: their counters live in Redis, and when Redis is unreachable a
request is let through (and a warning logged) rather than refused, so bookings and
negotiations go on through a Redis outage (docs/robustness.md). The auth throttles of
``accounts.throttles`` (login, registration, password reset) deliberately do not: without
their counters those endpoints answer 503 instead of opening the door to credential
stuffing.
"""

import logging

from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)


class FailOpenMixin:
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            logger.warning("throttle %s skipped, cache unavailable: %s", self.scope, exc)
            return True


class AnonThrottle(FailOpenMixin, AnonRateThrottle):
    pass


class UserThrottle(FailOpenMixin, UserRateThrottle):
    pass


class ScopedWriteThrottle(FailOpenMixin, ScopedRateThrottle):
    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)

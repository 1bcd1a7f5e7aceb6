"""Per-user limits on the abuse-prone writes: booking creation and negotiation actions.

A view names its scope (``throttle_scope = "bookings"``); only unsafe requests count, so
reading lists and details stays under the general ``user`` rate alone. Rates come from
``DEFAULT_THROTTLE_RATES`` (``THROTTLE_BOOKINGS``, ``THROTTLE_NEGOTIATION``).
"""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import ScopedRateThrottle


class ScopedWriteThrottle(ScopedRateThrottle):
    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)

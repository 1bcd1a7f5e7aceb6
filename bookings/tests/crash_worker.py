"""A process that runs one booking service and dies (``os._exit``) at a chosen point of a
payment step, as a crash would: bookings/tests/test_crash_recovery.py runs it against the
test database, then checks what the sweep makes of what it left.

    python -m bookings.tests.crash_worker <scenario> '<json kwargs>'

Each scenario wraps one method of the built-in gateway: ``after`` dies once the gateway
has carried the call out (our row still pending), ``before`` dies before the call is
made (the step's transition already committed).
"""

import json
import os
import sys
from datetime import date

import django

CRASHED = 3  # the exit status of a deliberate crash

SCENARIOS = {
    # scenario: (gateway method, die "before" or "after" the call, service)
    "create_dies_after_authorizing": ("authorize", "after", "booking_create"),
    "create_dies_before_capturing": ("capture", "before", "booking_create"),
    "approve_dies_after_capturing": ("capture", "after", "booking_approve"),
    "decline_dies_before_voiding": ("void", "before", "booking_decline"),
    "cancel_dies_before_refunding": ("refund", "before", "booking_cancel"),
    "pay_dies_after_authorizing": ("authorize", "after", "booking_pay"),
}


def _dying(original, when: str):
    def method(self, **kwargs):
        if when == "before":
            os._exit(CRASHED)
        result = original(self, **kwargs)
        os._exit(CRASHED)
        return result  # pragma: no cover

    return method


def main() -> None:
    scenario, raw = sys.argv[1], sys.argv[2]
    method, when, service = SCENARIOS[scenario]
    django.setup()
    from accounts.models import User
    from bookings import services
    from bookings.payments import DatabaseGateway

    setattr(DatabaseGateway, method, _dying(getattr(DatabaseGateway, method), when))
    kwargs = json.loads(raw)
    for role in ("guest", "host", "user"):
        if role in kwargs:
            kwargs[role] = User.objects.get(pk=kwargs[role])
    for day in ("check_in", "check_out"):
        if day in kwargs:
            kwargs[day] = date.fromisoformat(kwargs[day])
    getattr(services, service)(**kwargs)
    sys.exit(0)  # the service finished: the scenario did not crash where it should


if __name__ == "__main__":
    main()

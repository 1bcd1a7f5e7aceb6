"""The double-booking race against the embedded default: a real daphne process on SQLite
(IMMEDIATE transactions), 16 clients posting the same dates at the same moment."""

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from tests.live_server import embedded_env, manage, running_server

SETUP = """
from datetime import timedelta
from decimal import Decimal
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken
from accounts.models import User
from properties.models import Property, StayType
host = User.objects.create_user("race-host@example.com", "x", is_host=True, email_verified_at=timezone.now())
prop = Property.objects.create(host=host, status="published", title="Race", currency="EUR",
    max_guests=2, instant_book=True, base_nightly_price=Decimal("90"))
StayType.objects.create(property=prop, kind="standard", nightly_price=Decimal("90"))
tokens = []
for n in range(16):
    guest = User.objects.create_user(f"race{n}@example.com", "x", email_verified_at=timezone.now())
    tokens.append(str(AccessToken.for_user(guest)))
check_in = timezone.now().date() + timedelta(days=20)
print(json.dumps({"property": prop.pk, "tokens": tokens, "check_in": check_in.isoformat(),
    "check_out": (check_in + timedelta(days=3)).isoformat()}))
"""


def _post(base, token, body, barrier):
    request = urllib.request.Request(
        f"{base}/api/v1/bookings/",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    barrier.wait(timeout=10)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_sixteen_concurrent_bookings_on_sqlite_yield_exactly_one(tmp_path):
    env = embedded_env(tmp_path)
    manage("migrate", "--noinput", env=env)
    data = json.loads(
        manage("shell", "-c", "import json\n" + SETUP, env=env).strip().splitlines()[-1]
    )
    body = {
        "property": data["property"],
        "check_in": data["check_in"],
        "check_out": data["check_out"],
        "guests": 1,
        "stay_type": "standard",
        "payment_token": "tok_ok",
    }
    with running_server(env, log_path=tmp_path / "server.log") as base:
        for _round in range(3):
            barrier = threading.Barrier(16)
            with ThreadPoolExecutor(16) as pool:
                jobs = [pool.submit(_post, base, token, body, barrier) for token in data["tokens"]]
                results = [job.result() for job in jobs]
            statuses = sorted(status for status, _ in results)
            if _round == 0:
                assert statuses == [201] + [409] * 15, results
            else:
                assert statuses == [409] * 16, results
            for status, payload in results:
                if status == 409:
                    assert payload["errors"][0]["code"] == "dates_unavailable"
    # Every card touched for nothing was released: one authorization claimed, the others
    # (requests that looked before any other had begun) voided, none left pending.
    payments = json.loads(manage("shell", "-c", PAYMENTS, env=env).strip().splitlines()[-1])
    assert payments["pending"] == 0, payments
    assert payments["claimed"] == 1 and payments["unclaimed"] == payments["voids"], payments


PAYMENTS = """
import json
from bookings.models import Payment
authorizations = Payment.objects.filter(kind="authorize")
print(json.dumps({
    "pending": Payment.objects.filter(status="pending").count(),
    "claimed": authorizations.filter(booking__isnull=False).count(),
    "unclaimed": authorizations.filter(booking__isnull=True).count(),
    "voids": Payment.objects.filter(kind="void", status="succeeded").count(),
}))
"""

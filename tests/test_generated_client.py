"""A client generated from the OpenAPI schema works (issue 20).

A real daphne process serves ``/api/schema/``; openapi-python-client (pinned in
requirements-dev.txt) generates a Python client from it into the test's tmp dir, and the
test imports that client and runs a guest's and a host's journey with nothing else:
search anonymously, quote, log in, book with an ``Idempotency-Key`` (twice: one booking),
open a negotiation with an offer, the host counters, the guest accepts and pays
(``tok_ok``), the host reads analytics. Every write goes through the generated models, so a
schema that offered form or multipart bodies of the same shape (the generated code then
sent the last of them, and every create answered "This field is required") fails here.
"""

import datetime
import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.live_server import ROOT, embedded_env, free_port, manage, running_server, services_env

pytestmark = pytest.mark.django_db(transaction=True)

GENERATOR = Path(sys.executable).with_name("openapi-python-client")

SEED = """
import json
from datetime import timedelta
from django.utils import timezone
from bookings.tests.factories import bookable_property, verified_guest
from properties.tests.factories import HostFactory

host = HostFactory(email="client-host@example.com")
instant = bookable_property(host=host, nightly="90.00", instant_book=True, title="Client flat")
offers = bookable_property(
    host=host, nightly="100.00", accepts_offers=True, title="Client house"
)
guest = verified_guest()
print("SEED=" + json.dumps({
    "guest": guest.email, "host": host.email, "password": "correct-horse-battery",
    "instant": instant.pk, "offers": offers.pk, "city": instant.city,
}))
"""


def _uses_services() -> bool:
    return connection.vendor == "postgresql" and bool(settings.REDIS_URL)


@pytest.fixture
def server_env(tmp_path):
    if not _uses_services():
        env = embedded_env(tmp_path)
        manage("migrate", "--noinput", env=env)
        yield env
        return
    prefix = settings.REDIS_KEY_PREFIX + "-client"
    yield services_env(
        settings=settings,
        connection=connection,
        REDIS_KEY_PREFIX=prefix,
        MEDIA_ROOT=str(tmp_path / "media"),
        PRIVATE_MEDIA_ROOT=str(tmp_path / "private"),
    )
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*", count=500):
        client.delete(key)


def _seed(env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    for line in result.stdout.splitlines():
        if line.startswith("SEED="):
            return json.loads(line[5:])
    raise RuntimeError(f"seeding failed:\n{result.stdout}\n{result.stderr}")


def _generate(base: str, tmp_path: Path):
    """Fetch the schema, generate the client package, import it."""
    import urllib.request

    with urllib.request.urlopen(f"{base}/api/schema/?format=json", timeout=30) as response:
        schema_path = tmp_path / "schema.json"
        schema_path.write_bytes(response.read())
    out = tmp_path / "parley_client"
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(schema_path), "--output-path", str(out),
         "--meta", "none", "--overwrite"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # The generator warns about operations it had to skip: there must be none.
    assert "Unable to" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module("parley_client")
        yield package
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "parley_client" or n.startswith("parley_")]:
            del sys.modules[name]


def _operation(package_dir: Path, operation_id: str):
    """The generated module of one operation (``api/<tag>/<operation_id>.py``)."""
    matches = sorted(package_dir.glob(f"api/*/{operation_id}.py"))
    assert len(matches) == 1, (operation_id, matches)
    tag = matches[0].parent.name
    return importlib.import_module(f"parley_client.api.{tag}.{operation_id}")


def _ok(response, status: int):
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response.parsed is not None, response.content[:500]
    return response.parsed


def test_a_generated_client_searches_quotes_books_negotiates_pays_and_reads_analytics(
    server_env, tmp_path
):
    seeded = _seed(server_env)
    with running_server(server_env, port=free_port(), log_path=tmp_path / "server.log") as base:
        generated = _generate(base, tmp_path)
        client_pkg = next(generated)
        try:
            _journey(client_pkg, Path(client_pkg.__file__).parent, base, seeded)
        finally:
            generated.close()


def _journey(pkg, package_dir: Path, base: str, seeded: dict) -> None:
    models = importlib.import_module("parley_client.models")
    op = lambda name: _operation(package_dir, name)  # noqa: E731
    anonymous = pkg.Client(base_url=base, raise_on_unexpected_status=False)

    # Search anonymously: public reads take a client without credentials.
    page = _ok(op("properties_search").sync_detailed(client=anonymous, city=seeded["city"]), 200)
    found = {card.id for card in page.results}
    assert {seeded["instant"], seeded["offers"]} <= found

    check_in = datetime.date.today() + datetime.timedelta(days=20)
    check_out = check_in + datetime.timedelta(days=3)
    stay_type = models.StayTypeEnum("standard")
    quote = _ok(
        op("properties_quote_retrieve").sync_detailed(
            seeded["instant"], client=anonymous, check_in=check_in, check_out=check_out,
            guests=2, stay_type=stay_type,
        ),
        200,
    )  # fmt: skip
    assert quote.total

    guest = _login(pkg, op, models, base, seeded["guest"], seeded["password"])
    host = _login(pkg, op, models, base, seeded["host"], seeded["password"])

    # Book the instant listing, paying at once; the same Idempotency-Key books once.
    key = str(uuid.uuid4())
    body = models.BookingCreateRequest(
        property_=seeded["instant"], check_in=check_in, check_out=check_out, guests=2,
        stay_type=stay_type, payment_token="tok_ok",
    )  # fmt: skip
    first = op("bookings_create").sync_detailed(client=guest, body=body, idempotency_key=key)
    assert first.status_code == 201, first.content[:500]
    booking_id = json.loads(first.content)["id"]
    again = op("bookings_create").sync_detailed(client=guest, body=body, idempotency_key=key)
    assert again.status_code in {200, 201}, again.content[:500]
    assert json.loads(again.content)["id"] == booking_id
    assert json.loads(first.content)["status"] == "confirmed"

    # Negotiate on the other listing: open with an offer, the host counters, the guest accepts.
    nego_in = check_in + datetime.timedelta(days=10)
    opened = _ok(
        op("negotiations_create").sync_detailed(
            client=guest,
            body=models.NegotiationOpenRequest(
                property_=seeded["offers"], check_in=nego_in,
                check_out=nego_in + datetime.timedelta(days=3), guests=2,
                stay_type=stay_type, amount="280.00", message="Three nights, flexible.",
            ),
        ),
        201,
    )  # fmt: skip
    list_total = float(opened.list_total)
    counter = f"{(280 + list_total) / 2:.2f}"
    countered = op("negotiations_offers_create").sync_detailed(
        opened.id, client=host, body=models.OfferInRequest(amount=counter, message="Meet me")
    )
    assert countered.status_code in {200, 201}, countered.content[:500]
    accepted = op("negotiations_accept_create").sync_detailed(opened.id, client=guest)
    assert accepted.status_code == 200, accepted.content[:500]
    negotiation = json.loads(accepted.content)
    assert negotiation["status"] == "accepted"
    agreed_id = (
        negotiation["booking"]
        if isinstance(negotiation["booking"], int)
        else (negotiation["booking"]["id"])
    )

    paid = _ok(
        op("bookings_pay_create").sync_detailed(
            agreed_id, client=guest, body=models.PayRequest(payment_token="tok_ok")
        ),
        200,
    )
    assert paid.status.value == "confirmed" if hasattr(paid.status, "value") else paid.status
    assert paid.total == counter

    today = datetime.date.today()
    analytics = op("host_analytics_retrieve").sync_detailed(
        client=host, start=today, end=today + datetime.timedelta(days=60)
    )
    assert analytics.status_code == 200, analytics.content[:500]
    assert analytics.parsed is not None


def _login(pkg, op, models, base: str, email: str, password: str):
    anonymous = pkg.Client(base_url=base, raise_on_unexpected_status=False)
    response = op("auth_token_create").sync_detailed(
        client=anonymous, body=models.TokenObtainRequest(email=email, password=password)
    )
    assert response.status_code == 200, response.content[:500]
    access = json.loads(response.content)["access"]
    return pkg.AuthenticatedClient(base_url=base, token=access, raise_on_unexpected_status=False)

"""Fault tests start private PostgreSQL and Redis instances (``tests/faults/private.py``);
they run in services mode (``DATABASE_URL`` set, as in CI) and are skipped in the embedded
default, where a 3-minute detour through private database servers is not wanted."""

import json
import os
import urllib.error
import urllib.request

import pytest

from tests.faults.private import missing_tools, private_services


def pytest_collection_modifyitems(config, items):
    required = os.environ.get("REQUIRE_SERVICES") == "1"
    reason = None
    if not os.environ.get("DATABASE_URL") and not required:
        reason = "fault tests run in services mode (DATABASE_URL set or REQUIRE_SERVICES=1)"
    elif (missing := missing_tools()) and not required:
        reason = f"cannot start private PostgreSQL/Redis: {missing}"
    for item in items:
        if "tests/faults/" in str(item.fspath) and reason and "private" in item.fixturenames:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def private():
    """(redis, postgres): private instances on free ports, removed after the test."""
    if missing := missing_tools():
        pytest.fail(f"REQUIRE_SERVICES=1 but {missing}")
    with private_services() as services:
        yield services


def call(base, method, path, token=None, body=None, *, timeout=10, headers=None):
    """(status, parsed JSON body or the raw text, headers); never raises on HTTP errors."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, answer_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, raw, answer_headers = exc.code, exc.read(), exc.headers
    try:
        return status, json.loads(raw), answer_headers
    except ValueError:
        return status, raw.decode(errors="replace"), answer_headers

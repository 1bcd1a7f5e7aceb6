"""Hostile bodies on a real daphne (issue 20): an empty multipart body (``--XYZ--``) or a
truncated one to any ``POST`` endpoint is answered by Parley in the documented error
shape, with a request id. Daphne's HTTP layer (Twisted) used to answer the empty one with
a bare ``400`` before Django saw the request (config/asgi.py), which the in-process test
client cannot show."""

import json
import urllib.error
import urllib.request

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests import fuzz_runner
from tests.live_server import embedded_env, free_port, manage, running_server, services_env

pytestmark = pytest.mark.django_db(transaction=True)

MULTIPART = "multipart/form-data; boundary=XYZ"
BODIES = {
    "empty": b"--XYZ--",
    "empty-crlf": b"--XYZ--\r\n",
    "truncated": b'--XYZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nLoft',
}


@pytest.fixture
def server(tmp_path):
    """A daphne over PostgreSQL and Redis when the run has them (sharing the test
    database, flushed after the test), else over its own SQLite file; seeded."""
    prefix = settings.REDIS_KEY_PREFIX + "-hostile"
    uses_services = connection.vendor == "postgresql" and bool(settings.REDIS_URL)
    if uses_services:
        env = services_env(
            settings=settings,
            connection=connection,
            REDIS_KEY_PREFIX=prefix,
            MEDIA_ROOT=str(tmp_path / "media"),
            PRIVATE_MEDIA_ROOT=str(tmp_path / "private"),
            **fuzz_runner.UNTHROTTLED,
        )
    else:
        env = {**embedded_env(tmp_path), **fuzz_runner.UNTHROTTLED}
        manage("migrate", "--noinput", env=env)
    seeded = fuzz_runner.seed(env)
    with running_server(env, port=free_port(), log_path=tmp_path / "server.log") as base:
        yield base, seeded
    if uses_services:
        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}:*", count=500):
            client.delete(key)


def _request(base, path, *, body=None, content_type=None, token=None, method="POST"):
    headers = {"Content-Type": content_type} if content_type else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _token(base, seeded, user):
    body = json.dumps({"email": seeded[user], "password": seeded["password"]}).encode()
    status, _, content = _request(
        base, "/api/v1/auth/token/", body=body, content_type="application/json"
    )
    assert status == 200, content
    return json.loads(content)["access"]


def _post_paths(base, seeded):
    status, _, content = _request(base, "/api/schema/?format=json", method="GET")
    assert status == 200
    paths = []
    ids = seeded["ids"]
    for path, operations in json.loads(content)["paths"].items():
        if "post" not in operations:
            continue
        concrete = (
            path.replace("{id}", str(ids["properties"][0] if "/properties/" in path else 1))
            .replace("{photo_id}", str(ids["photos"][0]))
            .replace("{block_id}", str(ids["blocks"][0]))
            .replace("{feed_id}", "1")
        )
        paths.append(concrete)
    return paths


def _assert_documented(status, headers, content, what):
    """Parley's own answer: a request id and JSON; an error in the documented shape. An
    endpoint that reads no body (``become-host``, ``publish``) ignores it and succeeds."""
    assert status < 500, (what, status, content)
    assert headers.get("X-Request-ID"), what
    if status < 400:
        return
    assert headers.get("Content-Type", "").startswith("application/json"), (what, headers)
    body = json.loads(content)
    assert set(body) == {"type", "errors"}, (what, body)
    assert body["errors"] and all(set(e) == {"code", "detail", "attr"} for e in body["errors"])


def test_hostile_multipart_bodies_to_every_post_endpoint_get_a_documented_error(server):
    base, seeded = server
    token = _token(base, seeded, "host")
    paths = _post_paths(base, seeded)
    assert len(paths) >= 14
    for body_name, body in BODIES.items():
        for path in paths:
            for auth in (None, token):
                status, headers, content = _request(
                    base, path, body=body, content_type=MULTIPART, token=auth
                )
                _assert_documented(status, headers, content, (path, bool(auth), body_name))
        # A photo upload parses multipart: this body is refused as malformed. A JSON
        # endpoint refuses any multipart body as such (415).
        photos = f"/api/v1/properties/{seeded['ids']['properties'][0]}/photos/"
        status, headers, content = _request(
            base, photos, body=body, content_type=MULTIPART, token=token
        )
        assert status == 400 and json.loads(content)["errors"][0]["code"] == "parse_error"
        status, headers, content = _request(
            base, "/api/v1/properties/", body=body, content_type=MULTIPART, token=token
        )
        code = json.loads(content)["errors"][0]["code"]
        assert status == 415 and code == "unsupported_media_type", content

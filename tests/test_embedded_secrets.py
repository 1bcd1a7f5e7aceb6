"""The embedded default (`make run`) has its own secret and no debug pages for strangers
(issue 18): a token signed with the key that used to be in the repository is refused, the
generated key lives beside the database and survives a restart, a foreign Host gets a
plain 400, DEBUG needs DJANGO_DEBUG and a loopback address, and error pages mask secrets."""

import json
import os
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request

import jwt
import pytest
from django.core import signing

from tests.live_server import ROOT, embedded_env, manage, running_server

OLD_REPOSITORY_KEY = "local-dev-only-not-secret-" + "x" * 40

SETUP = """
from django.utils import timezone
from accounts.models import User
user = User.objects.create_user("owner@example.com", "x", email_verified_at=timezone.now())
other = User.objects.create_user("unverified@example.com", "x")
print(user.pk, other.pk)
"""


def _env(tmp_path, **extra) -> dict:
    env = embedded_env(tmp_path)
    env.pop("DJANGO_SECRET_KEY", None)
    env.pop("PARLEY_BIND_HOST", None)
    env.update(extra)
    return env


def _access_token(user_id: int, key: str) -> str:
    now = int(time.time())
    claims = {"token_type": "access", "exp": now + 300, "iat": now, "jti": "f" * 32}
    return jwt.encode({**claims, "user_id": str(user_id)}, key, algorithm="HS256")


def _get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _settings(env: dict, *names: str) -> dict:
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_token_forged_with_the_old_repository_key_is_refused(tmp_path):
    env = _env(tmp_path)
    manage("migrate", "--noinput", env=env)
    user_id, unverified_id = map(int, manage("shell", "-c", SETUP, env=env).split()[-2:])
    forged_link = signing.dumps(
        {"uid": unverified_id, "email": "unverified@example.com"},
        key=OLD_REPOSITORY_KEY,
        salt="accounts.verify-email",
    )
    key_file = tmp_path / ".secret_key"
    key = key_file.read_text().strip()

    with running_server(env) as base:
        forged = _get(
            f"{base}/api/v1/auth/me/",
            Authorization=f"Bearer {_access_token(user_id, OLD_REPOSITORY_KEY)}",
        )
        own = _get(f"{base}/api/v1/auth/me/", Authorization=f"Bearer {_access_token(user_id, key)}")  # fmt: skip
        verify = urllib.request.Request(
            f"{base}/api/v1/auth/verify-email/",
            data=json.dumps({"token": forged_link}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(verify, timeout=10)
            verified_status = 200
        except urllib.error.HTTPError as error:
            verified_status = error.code

    assert forged[0] == 401
    assert verified_status == 400  # a verification link signed with the old key
    assert own[0] == 200 and json.loads(own[2])["email"] == "owner@example.com"
    assert key != OLD_REPOSITORY_KEY and len(key) >= 50
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_secret_key_is_made_once_and_reused_and_the_environment_wins(tmp_path):
    first = _settings(_env(tmp_path), "SECRET_KEY")["SECRET_KEY"]
    second = _settings(_env(tmp_path), "SECRET_KEY")["SECRET_KEY"]
    other_db = _settings(_env(tmp_path / "other"), "SECRET_KEY")["SECRET_KEY"]
    explicit = _settings(_env(tmp_path, DJANGO_SECRET_KEY="k" * 60), "SECRET_KEY")["SECRET_KEY"]

    assert first == second == (tmp_path / ".secret_key").read_text().strip()
    assert other_db != first
    assert explicit == "k" * 60


def test_secret_key_file_is_ignored_by_git():
    result = subprocess.run(
        ["git", "check-ignore", "-q", ".secret_key"], cwd=ROOT, capture_output=True, check=False
    )
    assert result.returncode == 0


@pytest.mark.parametrize(
    ("debug", "bind", "expected"),
    [
        (None, None, False),  # off unless asked for
        ("1", None, True),
        ("true", "127.0.0.1", True),
        ("1", "::1", True),
        ("1", "0.0.0.0", False),  # noqa: S104 -- reachable from other machines: never
        ("1", "192.168.1.20", False),
        ("0", "127.0.0.1", False),
    ],
)
def test_debug_only_when_asked_for_and_bound_to_loopback(tmp_path, debug, bind, expected):
    env = _env(tmp_path)
    env.pop("DJANGO_DEBUG", None)
    if debug is not None:
        env["DJANGO_DEBUG"] = debug
    if bind is not None:
        env["PARLEY_BIND_HOST"] = bind

    assert _settings(env, "DEBUG")["DEBUG"] is expected


def test_foreign_host_is_a_plain_400_and_no_debug_page_but_media_is_served(tmp_path):
    env = _env(tmp_path, CLOUDINARY_URL="")
    env.pop("DJANGO_DEBUG")  # the embedded default as `make run` starts it
    manage("migrate", "--noinput", env=env)
    (tmp_path / "media" / "photos").mkdir(parents=True)
    (tmp_path / "media" / "photos" / "p.png").write_bytes(b"\x89PNG-bytes")
    with running_server(env) as base:
        photo = _get(f"{base}/media/photos/p.png")
        static = _get(f"{base}/static/web/app.js")
        foreign = _get(f"{base}/api/v1/properties/", Host="evil.example")
        unknown = _get(f"{base}/no-such-page/")
        local = _get(f"{base}/healthz", Host="localhost")
        client = _get(f"{base}/")

    for _status, headers, body in (foreign, unknown):
        assert b"Traceback" not in body and b"DJANGO_SETTINGS_MODULE" not in body
        assert b"SECRET" not in body.upper()
        assert headers["Content-Type"] == "application/json"
    assert foreign[0] == 400 and json.loads(foreign[2])["errors"][0]["code"] == "bad_request"
    assert unknown[0] == 404
    assert local[0] == 200 and client[0] == 200
    # without DEBUG the embedded default still serves its uploads and the client's files
    assert photo[0] == 200 and photo[2] == b"\x89PNG-bytes"
    assert static[0] == 200


def test_error_pages_mask_credentials_in_url_settings(settings):
    from django.views.debug import get_default_exception_reporter_filter

    settings.CLOUDINARY_URL = "cloudinary://123:cloud-secret@demo"
    settings.EMAIL_URL = "smtp://user:mail-secret@mail.example:587"
    settings.DATABASE_URL = "postgres://app:db-secret@db/parley"
    settings.REDIS_URL = "redis://:redis-secret@redis:6379/0"
    settings.CHANNEL_LAYERS = {"default": {"CONFIG": {"hosts": ["redis://:redis-secret@redis"]}}}
    settings.CACHES = {**settings.CACHES, "x": {"LOCATION": "redis://:redis-secret@redis"}}

    shown = json.dumps(get_default_exception_reporter_filter().get_safe_settings(), default=str)

    for secret in ("cloud-secret", "mail-secret", "db-secret", "redis-secret", settings.SECRET_KEY):
        assert secret not in shown


def test_make_run_tells_the_settings_which_address_it_listens_on():
    makefile = (ROOT / "Makefile").read_text()

    assert "LOCAL := DJANGO_SETTINGS_MODULE=config.settings.local PARLEY_BIND_HOST=$(HOST)" in (
        makefile
    )
    assert "$(LOCAL) exec $(BIN)/daphne -b $(HOST)" in makefile

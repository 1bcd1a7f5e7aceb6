"""Production settings (OWASP API8, security misconfiguration): TLS-only cookies and HSTS
behind the proxy, strict CORS with credentials, strong password hashing, secrets required.
Imported in a subprocess with only the required environment, as a deployment would."""

import json
import os
import secrets
import subprocess
import sys

import pytest

from tests.live_server import ROOT

REQUIRED = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "parley.example.com",
    "CORS_ALLOWED_ORIGINS": "https://app.parley.example.com",
}
NAMES = [
    "DEBUG", "ALLOWED_HOSTS", "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SECURE", "JWT_COOKIE_SECURE", "JWT_COOKIE_SAMESITE", "X_FRAME_OPTIONS",
    "CORS_ALLOWED_ORIGINS", "CORS_ALLOW_CREDENTIALS", "CORS_ALLOW_ALL_ORIGINS",
    "CORS_ALLOWED_ORIGIN_REGEXES", "PASSWORD_HASHERS", "DATA_UPLOAD_MAX_MEMORY_SIZE",
]  # fmt: skip
SCRIPT = f"""
import json
from django.conf import settings
print(json.dumps({{name: getattr(settings, name, None) for name in {NAMES!r}}}))
"""


def _environment(**overrides) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CORS_", "CSRF_", "JWT_", "SECURE_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", **REQUIRED)
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def _run(*args, **overrides) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=_environment(**overrides),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def production() -> dict:
    result = _run("-c", "import django; django.setup()\n" + SCRIPT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_https_only_behind_the_tls_proxy(production):
    assert production["DEBUG"] is False
    assert production["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_HSTS_PRELOAD"] is True
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production["X_FRAME_OPTIONS"] == "DENY"


def test_cookies_are_secure(production):
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["JWT_COOKIE_SECURE"] is True
    assert production["JWT_COOKIE_SAMESITE"] in {"Lax", "Strict"}


@pytest.mark.parametrize(("value", "secure"), [("false", False), ("0", False), ("true", True)])
def test_jwt_cookie_secure_can_be_set_in_production_as_the_readme_says(value, secure):
    """README: ``JWT_COOKIE_SECURE`` is ``true`` in production unless set (issue 20: it was
    hard-coded). The CSRF cookie follows it: the browser client needs both."""
    result = _run("-c", "import django; django.setup()\n" + SCRIPT, JWT_COOKIE_SECURE=value)
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout.strip().splitlines()[-1])
    assert settings["JWT_COOKIE_SECURE"] is secure
    assert settings["CSRF_COOKIE_SECURE"] is secure
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_cors_allows_credentials_only_from_the_listed_origins(production):
    assert production["CORS_ALLOWED_ORIGINS"] == ["https://app.parley.example.com"]
    assert production["CORS_ALLOW_CREDENTIALS"] is True
    assert not production["CORS_ALLOW_ALL_ORIGINS"]
    assert not production["CORS_ALLOWED_ORIGIN_REGEXES"]
    assert production["ALLOWED_HOSTS"] == ["parley.example.com"]


def test_passwords_are_hashed_with_pbkdf2_or_argon2(production):
    assert production["PASSWORD_HASHERS"][0] in {
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    }
    assert production["DATA_UPLOAD_MAX_MEMORY_SIZE"] <= 5 * 1024 * 1024


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_secrets_and_hosts_are_required(missing):
    result = _run("-c", "import django; django.setup()", **{missing: None})

    assert result.returncode != 0
    assert missing in result.stderr


def test_check_deploy_passes_with_production_settings():
    result = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr

"""End-to-end tests of the browser client: a real daphne process, headless Chromium
(Debian's ``/usr/bin/chromium``, driven by Playwright) and the test database.

The server shares the test's database (PostgreSQL with ``DATABASE_URL``, otherwise the
SQLite test file), so tests seed with the factories. Playwright's sync API keeps an event
loop running in this thread, where Django refuses ORM calls: seed before opening the
browser (``browser()``), check rows after closing it.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.live_server import free_port, running_server, services_env

CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
HAVE_CHROMIUM = Path(CHROMIUM).exists()
REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"

SKIP_REASON = f"{CHROMIUM} is absent (apt-get install chromium); set REQUIRE_SERVICES=1 to fail"

PASSWORD = "correct-horse-battery"


def usable_password(user):
    """The test settings hash with MD5, which the server does not accept: store a PBKDF2
    hash (few iterations, so logging in stays fast) that any Django can check."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "e2e-salt-0123", iterations=1000)
    user.save(update_fields=["password"])
    return user


def _server_env(tmp_path: Path) -> dict:
    throttles = {
        "THROTTLE_USER": "100000/min",
        "THROTTLE_ANON": "100000/min",
        "THROTTLE_LOGIN_IP": "100000/min",
        "THROTTLE_LOGIN_EMAIL": "100000/min",
        "THROTTLE_REGISTER_IP": "100000/hour",
        "THROTTLE_WS_TICKET": "100000/min",
        # DEBUG serves uploaded photos from MEDIA_ROOT (production uses the CDN)
        "DJANGO_DEBUG": "true",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    if connection.vendor == "postgresql":
        env = services_env(
            settings=settings,
            connection=connection,
            REDIS_KEY_PREFIX=settings.REDIS_KEY_PREFIX + "-e2e",
        )
        env.update(throttles)
        return env
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        SQLITE_PATH=str(connection.settings_dict["NAME"]),
        PRIVATE_MEDIA_ROOT=str(tmp_path / "private"),
        **throttles,
    )
    return env


@pytest.fixture(scope="module")
def live_server_url(django_db_setup, django_db_blocker, tmp_path_factory):
    """One daphne process per module, on a free port, over the test database."""
    if not HAVE_CHROMIUM:
        if REQUIRED:
            pytest.fail(SKIP_REASON)
        pytest.skip(SKIP_REASON)
    tmp = tmp_path_factory.mktemp("e2e-server")
    with django_db_blocker.unblock():
        env = _server_env(tmp)
    with running_server(env, port=free_port(), log_path=tmp / "server.log") as base:
        yield base


@pytest.fixture
def shots(request, tmp_path_factory):
    """Folder for this test's screenshots, under pytest's tmp output folder."""
    folder = tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def new_page(chromium, base, *, errors, viewport=None):
    """A fresh context (own cookies) whose page records console errors and CSP reports."""
    context = chromium.new_context(
        base_url=base, viewport=viewport or {"width": 1200, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def login(page, email, password=PASSWORD):
    page.goto("/#/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.locator(f'#nav a[data-user="{email}"]').wait_for()

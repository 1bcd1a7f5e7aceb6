"""Links in emails point where ``make run`` serves (issue 20: under ``PORT=8123 make run``
every link pointed at port 8000)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _frontend_url(*args: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "FRONTEND_URL"} | env
    done = subprocess.run(
        ["make", "--no-print-directory", "--eval", "show-frontend: ; @echo $$FRONTEND_URL",
         "show-frontend", *args],
        cwd=ROOT, env=environ, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return done.stdout.strip()


def test_make_run_sets_frontend_url_to_the_host_and_port_it_serves():
    assert _frontend_url() == "http://127.0.0.1:8000"
    assert _frontend_url("PORT=8123") == "http://127.0.0.1:8123"
    assert _frontend_url("HOST=0.0.0.0", "PORT=9000") == "http://0.0.0.0:9000"


def test_make_run_keeps_a_frontend_url_that_is_set():
    assert _frontend_url("PORT=8123", FRONTEND_URL="https://parley.example") == (
        "https://parley.example"
    )

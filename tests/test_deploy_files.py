"""docker-compose.yml and the Dockerfile name only things that exist in the project.

No Docker engine is needed: the files are parsed and every command they run is
resolved against the code (management commands, the Celery app, the ASGI app,
the health URL, the settings module and the environment variables it reads).
"""

import importlib
import json
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = {name: spec for name, spec in SERVICES.items() if spec.get("build")}


def _dockerfile_cmd() -> list[str]:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            return json.loads(line[4:])
    raise AssertionError("Dockerfile has no CMD")


def _assert_command_exists(command: list[str]) -> None:
    program = command[0]
    if program == "python":
        assert command[1] == "manage.py"
        assert command[2] in get_commands(), f"unknown management command {command[2]}"
    elif program == "celery":
        module = command[command.index("-A") + 1]
        app = importlib.import_module(module).app
        assert app.main == "parley"
        assert command[command.index("-A") + 2] in {"worker", "beat"}
    elif program == "daphne":
        module, attr = command[-1].split(":")
        assert callable(getattr(importlib.import_module(module), attr))
    else:
        raise AssertionError(f"unexpected program {program!r} in {command}")


def test_compose_has_the_documented_services():
    assert {"postgres", "redis", "web", "worker", "beat", "mailpit"} <= set(SERVICES)
    for name in ("postgres", "redis", "web", "worker", "mailpit"):
        assert "healthcheck" in SERVICES[name], f"{name} has no health check"


@pytest.mark.parametrize("service", sorted(APP_SERVICES))
def test_compose_commands_exist(service):
    _assert_command_exists(APP_SERVICES[service]["command"])


def test_dockerfile_command_exists():
    _assert_command_exists(_dockerfile_cmd())


def test_compose_settings_module_and_env_are_read_by_settings(monkeypatch):
    environment = APP_SERVICES["web"]["environment"]
    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 50)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "localhost")
    importlib.import_module(environment["DJANGO_SETTINGS_MODULE"])
    settings_source = "".join(p.read_text() for p in (ROOT / "config" / "settings").glob("*.py"))
    for variable in environment:
        if variable == "DJANGO_SETTINGS_MODULE":
            continue
        assert re.search(rf'["\']{variable}["\']', settings_source), f"{variable} is never read"


def test_web_healthcheck_url_resolves():
    test = " ".join(APP_SERVICES["web"]["healthcheck"]["test"])
    path = re.search(r"http://127\.0\.0\.1:8000(/\S*?)['\"]", test).group(1)
    assert resolve(path).url_name == "healthz"

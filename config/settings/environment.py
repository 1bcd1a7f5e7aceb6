"""The environment every settings module reads: the project's root, and django-environ's
``env`` with a ``.env`` file at the root read first (it never overrides a variable already
set)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

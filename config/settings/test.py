"""Settings for pytest. Uses PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set.

Isolation: pytest-django creates its own test database; Redis keys get a prefix
unique to this test process, so parallel runs and a running dev server never
see each other's cache keys or channel groups.
"""

import os
import tempfile
import uuid

from .base import *  # noqa: F403
from .base import CACHES, CHANNEL_LAYERS, REDIS_URL, STORAGES, env

SECRET_KEY = "test-only-secret-key-" + "x" * 40
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True  # tests that need a real worker start one themselves
ICAL_ALLOW_PRIVATE_URLS = True  # feed tests run a local HTTP server
PASSWORD_RESET_MIN_SECONDS = 0.0  # accounts/tests/test_account_limits.py sets it

TEST_RUN_ID = uuid.uuid4().hex[:8]
REDIS_KEY_PREFIX = f"parley-test-{TEST_RUN_ID}"
if REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = REDIS_KEY_PREFIX
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"{REDIS_KEY_PREFIX}:asgi"

_tmp = tempfile.mkdtemp(prefix="parley-test-media-")
MEDIA_ROOT = os.path.join(_tmp, "media")
STATIC_ROOT = os.path.join(_tmp, "static")
os.makedirs(STATIC_ROOT, exist_ok=True)
STORAGES["private"]["OPTIONS"]["location"] = os.path.join(_tmp, "private")
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

if not env("DATABASE_URL", default=""):
    DATABASES = {
        "default": {
            "ENGINE": "core.sqlite",
            "NAME": os.path.join(_tmp, "test.sqlite3"),
            "TEST": {"NAME": os.path.join(_tmp, "test-db.sqlite3")},
        }
    }
else:
    # A test database of this run's own: runs side by side (a developer's and CI's, or
    # several terminals) never drop or flush each other's database.
    DATABASES["default"]["TEST"] = {"NAME": f"test_parley_{TEST_RUN_ID}"}

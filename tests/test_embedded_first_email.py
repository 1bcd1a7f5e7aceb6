"""The embedded default sends its first email without kombu warning "No hostname was
supplied" (issue 20): eager tasks still acquire a producer from the memory:// broker."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from accounts.models import User
from notifications.services import notify
user = User.objects.create(email="first@example.com", first_name="Ada")
notify(user_id=user.pk, kind="superhost.gained", data={})
from notifications.models import EmailLog
assert EmailLog.objects.get().status == "sent"
print("SENT")
"""


def test_first_email_of_the_embedded_default_logs_no_kombu_warning(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        DJANGO_SECRET_KEY="x" * 50,
        EMAIL_URL="consolemail://",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "SENT" in done.stdout, done.stderr[-3000:]
    assert "No hostname was supplied" not in done.stderr
    assert "kombu" not in done.stderr

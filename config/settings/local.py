"""Embedded default for `make run`: works with nothing but Python installed.

Its secret key is its own: ``DJANGO_SECRET_KEY`` if set, otherwise a random key made on
the first run and kept in ``.secret_key`` beside the SQLite database (git-ignored), so
tokens and links signed by one run stay valid in the next and nobody who reads the
repository can forge them. Debug pages only with ``DJANGO_DEBUG=1`` and only while the
server listens on a loopback address (``PARLEY_BIND_HOST``, set by ``make run``).
"""

import ipaddress
import os
import secrets
import sys
from pathlib import Path

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, CLOUDINARY_URL, SQLITE_PATH, env


def local_secret_key(path: Path) -> str:
    """The key in ``path``, made (random, owner-only) if the file does not exist yet.

    Written to a temporary file and linked into place, so processes starting together
    (``migrate`` and the server) all read the same complete key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            tmp.unlink()
    key = path.read_text().strip()
    if len(key) < 50:
        raise RuntimeError(f"{path} holds no usable secret key: delete it to make a new one")
    return key


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or local_secret_key(
    Path(SQLITE_PATH).resolve().parent / ".secret_key"
)

# The address daphne listens on (the Makefile's HOST); a server reachable from other
# machines never shows debug pages, whatever DJANGO_DEBUG says.
BIND_HOST = env("PARLEY_BIND_HOST", default="127.0.0.1")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if DEBUG and not is_loopback(BIND_HOST):
    print(
        f"DJANGO_DEBUG ignored: the server listens on {BIND_HOST}, not a loopback address",
        file=sys.stderr,
    )
    DEBUG = False
_bind_name = f"[{BIND_HOST}]" if ":" in BIND_HOST else BIND_HOST
if BIND_HOST not in {"0.0.0.0", "::", ""} and _bind_name not in ALLOWED_HOSTS:  # noqa: S104
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, _bind_name]  # the address the README tells people to open

STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
WHITENOISE_USE_FINDERS = True
# Uploaded photos and avatars are served from MEDIA_ROOT (services mode uses the CDN).
SERVE_MEDIA = not CLOUDINARY_URL

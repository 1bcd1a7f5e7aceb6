"""Fetching an iCal feed from the internet, guarded against server-side request forgery.

A feed URL is the host's input and the fetch runs on our servers, so: only ``http`` and
``https`` (``webcal://`` and ``webcals://`` are stored as ``https://``), no credentials
in the URL, and no private, loopback, link-local or multicast address unless
``ICAL_ALLOW_PRIVATE_URLS``: the host name is resolved, every address checked, and the
connection pinned to a checked address so DNS cannot change between check and use.
Redirects (at most three) are checked again hop by hop. The download has a deadline
(``ICAL_FETCH_TIMEOUT``, 10 s, or the caller's) over the whole body, at which the socket
is shut down, and a size cap (``ICAL_MAX_FEED_BYTES``, 2 MiB).

Failures raise :class:`FeedError`; network failures and server errors worth retrying
raise :class:`FeedUnavailable`.
"""

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time as time_module
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator

MAX_REDIRECTS = 3
USER_AGENT = "Parley-Calendar-Sync/1.0"
RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504}
TOO_SLOW = "Could not download the feed: it did not answer in time."


def _max_bytes() -> int:
    return getattr(settings, "ICAL_MAX_FEED_BYTES", 2 * 1024 * 1024)


def _timeout() -> float:
    return float(getattr(settings, "ICAL_FETCH_TIMEOUT", 10))


def _allow_private() -> bool:
    return bool(getattr(settings, "ICAL_ALLOW_PRIVATE_URLS", False))


class FeedError(Exception):
    """The feed could not be used; recorded as ``last_error``."""

    retryable = False


class FeedUnavailable(FeedError):
    """A network failure or a server error: worth retrying later."""

    retryable = True


# --- addresses -----------------------------------------------------------------------------------


def normalize_feed_url(url: str) -> str:
    """``webcal://`` and ``webcals://`` (the calendar-subscription schemes) mean HTTPS."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("webcal", "webcals"):
        return "https://" + rest
    return url


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FeedUnavailable(f"Could not resolve {host}: {exc}") from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def url_problem(url: str) -> str | None:
    """Why ``url`` may not be used as a feed, or ``None``. Resolves the host name."""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except DjangoValidationError:
        return "Enter a valid http:// or https:// URL."
    parts = urlsplit(url)
    if parts.username or parts.password:
        return "Credentials in the URL are not supported."
    try:
        port = parts.port or 443
    except ValueError:
        return "Enter a valid port number."
    if _allow_private():
        return None
    try:
        addresses = _resolve(parts.hostname or "", port)
    except FeedUnavailable:
        return None  # may be a temporary DNS failure: every fetch checks again
    if not addresses or not all(_is_public(a) for a in addresses):
        return "The URL must point to a public internet address."
    return None


# --- the download --------------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand, so DNS cannot change between check and use."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    live_socket: socket.socket | None = None  # kept when a response takes over ``sock``

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.live_socket = self.sock


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def connect(self) -> None:
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)
        self.live_socket = self.sock


def _read_capped(response: http.client.HTTPResponse, deadline: float) -> bytes:
    limit = _max_bytes()
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FeedError(f"The feed is larger than {limit} bytes.")
    chunks, size = [], 0
    while True:
        chunk = response.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise FeedError(f"The feed is larger than {limit} bytes.")
        if time_module.monotonic() > deadline:
            raise FeedUnavailable(TOO_SLOW)
        chunks.append(chunk)


def _hang_up(conn: _PinnedHTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = conn.live_socket
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def fetch_feed(url: str, *, timeout: float | None = None) -> bytes:
    """GET ``url`` with a timeout, a size cap and at most three re-checked redirects.

    The timeout (``ICAL_FETCH_TIMEOUT`` unless given) bounds the whole download: at the
    deadline the socket is shut down, so a server that trickles bytes cannot hold it.
    """
    deadline = time_module.monotonic() + (_timeout() if timeout is None else timeout)
    for _hop in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FeedError("The feed URL must be http:// or https://.")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise FeedError("The feed URL has an invalid port.") from exc
        addresses = _resolve(parts.hostname, port)
        if not _allow_private():
            addresses = [a for a in addresses if _is_public(a)]
            if not addresses:
                raise FeedError("The feed URL points to a private address.")
        connection_class = (
            _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        )
        remaining = max(deadline - time_module.monotonic(), 0.1)
        conn = connection_class(parts.hostname, port, addresses[0], timeout=remaining)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        expired = threading.Event()
        timer = threading.Timer(remaining, _hang_up, args=(conn, expired))
        timer.daemon = True
        timer.start()
        try:
            conn.request(
                "GET",
                target,
                headers={"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"},
            )
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise FeedError(f"HTTP {response.status} without a Location.")
                url = urljoin(url, location)
                continue
            if response.status in RETRYABLE_STATUSES:
                raise FeedUnavailable(f"The feed server answered HTTP {response.status}.")
            if response.status != 200:
                raise FeedError(f"The feed server answered HTTP {response.status}.")
            body = _read_capped(response, deadline)
            if expired.is_set():  # cut off at the deadline: maybe only part of the body
                raise FeedUnavailable(TOO_SLOW)
            return body
        except (OSError, http.client.HTTPException) as exc:
            # The socket's own timeout may fire a moment before the timer that hangs up:
            # at the deadline, either way, the feed was too slow.
            if expired.is_set() or time_module.monotonic() >= deadline:
                raise FeedUnavailable(TOO_SLOW) from exc
            raise FeedUnavailable(f"Could not download the feed: {exc!r}") from exc
        finally:
            timer.cancel()
            conn.close()
    raise FeedError("Too many redirects.")

"""iCal calendars: export a property's taken dates, import blocks from external feeds.

Export: one all-day ``VEVENT`` per holding booking ("Reserved", no guest data) and
per block, behind the property's secret ``ical_token``. A block's note is private: it is
exported as "Not available" unless the host marked it public (``note_public``); an
imported block's text is never passed on. Every TEXT value is escaped (``vText``). The
answer carries an ``ETag`` (a hash of the body) and a ``Last-Modified`` (when that body
was first served), and a poll with ``If-None-Match`` / ``If-Modified-Since`` gets a 304.

Import: a host registers feed URLs (Airbnb, Booking.com, Google Calendar, ...);
``webcal://`` (and ``webcals://``) URLs are stored as ``https://``. Registering runs the
first sync within the request with a short deadline (``ICAL_FIRST_SYNC_TIMEOUT``, 3 s):
the answer says ``ok`` or the error, or ``pending`` when the feed did not answer in time
(the sync is then retried in the background, or by the hourly sweep).
``feed_sync`` fetches one feed (timeout, size cap, redirects re-checked, no private
addresses unless ``ICAL_ALLOW_PRIVATE_URLS``), parses it, and mirrors its events as
blocks tagged ``source=feed, external_uid=UID``: new events are created, changed
ones updated, vanished ones deleted. The network fetch runs outside any
transaction; the write locks the property row like every other calendar writer.

Choices:
- An event overlapping a holding booking is still recorded as a block. The
  external calendar is the truth for its channel; refusing it would only hide the
  double booking from the host. The booking keeps its dates (availability shows
  ``booked`` first) and nobody else can book them.
- All-day events block ``[DTSTART, DTEND)``. Timed events are converted to the
  property's time zone and block every night touched: from the night of the start
  date up to the night before the end date, plus the end date's night when the
  event runs past the property's check-out time. Events without an end block one
  night. Events entirely in the past are skipped; ranges stop two years ahead.
- Any fetch or parse failure records ``last_error`` and leaves the blocks as they
  were: a half-read feed must never delete blocks as "vanished".
- Recurring events are expanded over the import horizon, today to
  ``BOOKING_MAX_ADVANCE_DAYS`` (730) days ahead: RRULE occurrences plus RDATE dates,
  minus EXDATE dates and minus occurrences overridden by an event with the same UID and
  a RECURRENCE-ID (which counts on its own). Each occurrence becomes one block
  (``UID#<occurrence start>``), blocking the same nights an event at that start would.
  Occurrences are counted up to ``MAX_OCCURRENCES`` per event and a feed yields at most
  ``MAX_FEED_EVENTS`` blocks; past that the feed is refused as an error (nothing changes).
"""

import contextlib
import hashlib
import http.client
import ipaddress
import logging
import secrets
import socket
import ssl
import threading
import time as time_module
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from dateutil import rrule
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from icalendar import Calendar, Event, vText

from core.errors import InvalidFields
from properties.models import AvailabilityBlock, CalendarFeed, Property

logger = logging.getLogger(__name__)

PRODID = "-//Parley//Property calendar//EN"
EXPORT_PAST_DAYS = 30
MAX_FEEDS_PER_PROPERTY = 10
MAX_REDIRECTS = 3
USER_AGENT = "Parley-Calendar-Sync/1.0"
RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504}
MAX_OCCURRENCES = 2000  # per recurring event (a daily rule over the horizon is 731)
MAX_FEED_EVENTS = 5000  # blocks one feed may yield
TOO_SLOW = "Could not download the feed: it did not answer in time."
EXPORT_STATE_SECONDS = 60 * 60 * 24 * 30  # how long the export's Last-Modified is remembered


def _max_bytes() -> int:
    return getattr(settings, "ICAL_MAX_FEED_BYTES", 2 * 1024 * 1024)


def _timeout() -> float:
    return float(getattr(settings, "ICAL_FETCH_TIMEOUT", 10))


def first_sync_timeout() -> float:
    return float(getattr(settings, "ICAL_FIRST_SYNC_TIMEOUT", 3))


def _allow_private() -> bool:
    return bool(getattr(settings, "ICAL_ALLOW_PRIVATE_URLS", False))


# --- export --------------------------------------------------------------------------------------


def property_get_by_ical_token(*, property_id: int, token: str) -> Property:
    """The property if ``token`` is its current iCal token; 404 otherwise (no hint which)."""
    prop = Property.objects.filter(pk=property_id).first()
    if prop is None or not token or not secrets.compare_digest(prop.ical_token, token):
        raise Http404
    return prop


def _all_day_event(*, uid: str, summary: str, start: date, end: date, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("summary", vText(summary))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", stamp.astimezone(ZoneInfo("UTC")))
    event.add("transp", "OPAQUE")
    return event


def calendar_export(*, prop: Property, now: datetime | None = None) -> bytes:
    """The property's taken dates as iCalendar; events that ended over 30 days ago are left out.

    Imported blocks are exported as "Not available" (their text came from another
    channel and may name its guest); manual blocks too, unless the host marked the note
    public (``note_public``): a note like "Joao, direct booking, +351 ..." is the host's.
    """
    from bookings.models import Booking

    now = now or timezone.now()
    today = now.astimezone(ZoneInfo(prop.timezone or "UTC")).date()
    since = today - timedelta(days=EXPORT_PAST_DAYS)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", vText(prop.title or f"Property {prop.pk}"))
    bookings = (
        Booking.objects.filter(property=prop, check_out__gt=since)
        .holding(now)
        .only("pk", "check_in", "check_out", "updated_at")
        .order_by("check_in", "pk")
    )
    for booking in bookings:
        cal.add_component(
            _all_day_event(
                uid=f"parley-booking-{booking.pk}",
                summary="Reserved",
                start=booking.check_in,
                end=booking.check_out,
                stamp=booking.updated_at,
            )
        )
    for block in AvailabilityBlock.objects.filter(property=prop, end__gt=since).order_by(
        "start", "pk"
    ):
        public = block.note_public and not block.source_id and block.note.strip()
        summary = block.note.strip() if public else "Not available"
        cal.add_component(
            _all_day_event(
                uid=f"parley-block-{block.pk}",
                summary=summary,
                start=block.start,
                end=block.end,
                stamp=block.created_at,
            )
        )
    return cal.to_ical()


@dataclass(frozen=True)
class CalendarExport:
    body: bytes
    etag: str  # quoted, strong
    last_modified: datetime  # when this body was first served, to the second


def calendar_export_versioned(*, prop: Property, now: datetime | None = None) -> CalendarExport:
    """The export with its validators. The ``ETag`` is a hash of the body. ``Last-Modified``
    is the time this body was first served (remembered in the cache per property): every
    change of the body moves it at least one second past the previous one, so a poll with
    ``If-Modified-Since`` never misses a change made within the same second. A forgotten
    entry (eviction, restart) only makes it newer: one full answer more, never a stale 304.
    """
    now = now or timezone.now()
    body = calendar_export(prop=prop, now=now)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    key = f"ical-export:{prop.pk}"
    state = cache.get(key)
    if state and state[0] == etag:
        modified = datetime.fromtimestamp(state[1], tz=ZoneInfo("UTC"))
    else:
        seconds = int(now.timestamp()) + (0 if now.timestamp().is_integer() else 1)
        if state:
            seconds = max(seconds, state[1] + 1)
        cache.set(key, (etag, seconds), EXPORT_STATE_SECONDS)
        modified = datetime.fromtimestamp(seconds, tz=ZoneInfo("UTC"))
    return CalendarExport(body=body, etag=etag, last_modified=modified)


# --- feed registration ---------------------------------------------------------------------------


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


def _url_problem(url: str) -> str | None:
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


def _invalid_url(detail: str, code: str = "invalid_url") -> InvalidFields:
    return InvalidFields.single("url", detail, code)


def normalize_feed_url(url: str) -> str:
    """``webcal://`` and ``webcals://`` (the calendar-subscription schemes) mean HTTPS."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("webcal", "webcals"):
        return "https://" + rest
    return url


@dataclass
class FeedRegistration:
    feed: CalendarFeed
    sync: str  # ok | error | pending
    error: str = ""


def feed_create(*, prop: Property, url: str, name: str = "") -> CalendarFeed:
    """Register a feed (not synced here: see :func:`feed_register`)."""
    url = normalize_feed_url(url)
    problem = _url_problem(url)  # resolves DNS: outside the transaction
    if problem:
        raise _invalid_url(problem)
    return _feed_insert(prop=prop, url=url, name=name)


def feed_register(*, prop: Property, url: str, name: str = "") -> FeedRegistration:
    """Register a feed and run its first sync now, within ``ICAL_FIRST_SYNC_TIMEOUT``.

    ``ok``: the blocks are in. ``error``: the feed answered something unusable (kept,
    with ``last_error``; the hourly sync tries again). ``pending``: it did not answer in
    time or failed in a way worth retrying; in services mode a background sync is queued,
    in the embedded mode (eager tasks, which would run inside this request) the hourly
    sweep takes it.
    """
    feed = feed_create(prop=prop, url=url, name=name)
    result = feed_sync(feed_id=feed.pk, timeout=first_sync_timeout())
    feed = result.feed or feed
    if not result.error:
        return FeedRegistration(feed=feed, sync="ok")
    if not result.retryable:
        return FeedRegistration(feed=feed, sync="error", error=result.error)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        from properties.tasks import sync_calendar_feed

        try:
            sync_calendar_feed.apply_async((feed.pk,), countdown=60)
        except Exception:  # a broker hiccup: the hourly sweep picks the feed up anyway
            logger.warning("Could not queue the sync of feed %s", feed.pk, exc_info=True)
    return FeedRegistration(feed=feed, sync="pending", error=result.error)


@transaction.atomic
def _feed_insert(*, prop: Property, url: str, name: str) -> CalendarFeed:
    prop = Property.objects.select_for_update().get(pk=prop.pk)
    feeds = CalendarFeed.objects.filter(property=prop)
    if feeds.filter(url=url).exists():
        raise _invalid_url("This feed is already registered.", code="unique")
    if feeds.count() >= MAX_FEEDS_PER_PROPERTY:
        raise InvalidFields.single(
            None,
            f"A property can have at most {MAX_FEEDS_PER_PROPERTY} feeds.",
            "too_many_feeds",
        )
    return CalendarFeed.objects.create(property=prop, url=url, name=name)


@transaction.atomic
def feed_delete(*, feed: CalendarFeed) -> None:
    """Removes the feed and every block it imported."""
    Property.objects.select_for_update().get(pk=feed.property_id)
    AvailabilityBlock.objects.filter(source=feed).delete()
    feed.delete()


# --- fetching ------------------------------------------------------------------------------------


class FeedError(Exception):
    """The feed could not be used; recorded as ``last_error``."""

    retryable = False


class FeedUnavailable(FeedError):
    """A network failure or a server error: worth retrying later."""

    retryable = True


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
            if expired.is_set():
                raise FeedUnavailable(TOO_SLOW) from exc
            raise FeedUnavailable(f"Could not download the feed: {exc!r}") from exc
        finally:
            timer.cancel()
            conn.close()
    raise FeedError("Too many redirects.")


# --- parsing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    start: date
    end: date
    note: str


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)


def _span(event: Event) -> tuple[date, date | None]:
    """An event's DTSTART value and its end (DTEND, or DTSTART + DURATION, or None)."""
    dtstart, dtend, duration = event.get("DTSTART"), event.get("DTEND"), event.get("DURATION")
    if dtstart is None:
        raise FeedError("An event has no DTSTART.")
    start_value = dtstart.dt
    if not isinstance(start_value, date):
        raise FeedError(f"An event has an invalid DTSTART: {start_value!r}.")
    end_value = dtend.dt if dtend is not None else None
    if end_value is None and duration is not None:
        end_value = start_value + duration.dt
    if end_value is not None and not isinstance(end_value, date):
        raise FeedError(f"An event has an invalid DTEND: {end_value!r}.")
    return start_value, end_value


def _nights(
    start_value: date, end_value: date | None, tz: ZoneInfo, check_out_time: time
) -> tuple[date, date]:
    """The ``[start, end)`` nights an event from ``start_value`` to ``end_value`` blocks
    (see the module docstring)."""
    if not isinstance(start_value, datetime):  # all-day
        start = start_value
        if isinstance(end_value, datetime):
            end_value = _local(end_value, tz).date()
        end = end_value if end_value is not None else start + timedelta(days=1)
        return start, max(end, start + timedelta(days=1))

    local_start = _local(start_value, tz)
    if end_value is None:
        local_end = local_start
    elif isinstance(end_value, datetime):
        local_end = _local(end_value, tz)
    else:
        local_end = datetime.combine(end_value, time(0), tzinfo=tz)
    start = local_start.date()
    end = local_end.date()
    if local_end.time() > check_out_time:
        end += timedelta(days=1)
    return start, max(end, start + timedelta(days=1))


def _event_key(event: Event) -> str:
    uid = str(event.get("UID") or "").strip()
    if not uid:
        raw = b"|".join(
            event[name].to_ical() for name in ("DTSTART", "DTEND", "SUMMARY") if name in event
        )
        uid = "nouid-" + hashlib.sha256(raw).hexdigest()
    recurrence = event.get("RECURRENCE-ID")
    if recurrence is not None:
        uid = f"{uid}#{recurrence.to_ical().decode()}"
    return uid


def _bounded_key(key: str) -> str:
    return key if len(key) <= 255 else "sha256-" + hashlib.sha256(key.encode()).hexdigest()


def parse_feed(
    body: bytes, *, tz: ZoneInfo, today: date, check_out_time: time = time(11)
) -> list[FeedEvent]:
    """The blocks a feed asks for. Raises :class:`FeedError` if any part is unreadable."""
    try:
        cal = Calendar.from_ical(body)
    except ValueError as exc:
        raise FeedError(f"Not a valid iCalendar feed: {str(exc)[:200]}") from exc
    if cal.name != "VCALENDAR":
        raise FeedError("Not a valid iCalendar feed: no VCALENDAR.")
    horizon = today + timedelta(days=settings.BOOKING_MAX_ADVANCE_DAYS)
    events: dict[str, FeedEvent] = {}
    vevents = cal.walk("VEVENT")
    overridden: dict[str, set] = {}  # UID -> RECURRENCE-IDs replaced by their own event
    for event in vevents:
        recurrence = event.get("RECURRENCE-ID")
        if recurrence is not None and isinstance(recurrence.dt, date):
            all_day = not isinstance(recurrence.dt, datetime)
            overridden.setdefault(_uid(event), set()).add(
                _instant(recurrence.dt, all_day=all_day, tz=tz)
            )
    for event in vevents:
        if event.errors:
            prop_name, message = event.errors[0]
            raise FeedError(f"Not a valid iCalendar feed: {prop_name}: {message}")
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start_value, end_value = _span(event)
        key = _event_key(event)
        note = str(event.get("SUMMARY") or "").strip()[:200]
        occurrences = _occurrences(
            event, start_value, end_value, tz=tz, today=today, horizon=horizon,
            overridden=overridden.get(_uid(event), set()),
        )  # fmt: skip
        if occurrences is None:  # not recurring
            occurrences = [(key, start_value, end_value)]
        for occurrence_key, occurrence_start, occurrence_end in occurrences:
            start, end = _nights(occurrence_start, occurrence_end, tz, check_out_time)
            if end <= today or start >= horizon or occurrence_key in events:
                continue
            events[occurrence_key] = FeedEvent(
                uid=_bounded_key(occurrence_key), start=start, end=min(end, horizon), note=note
            )
            if len(events) > MAX_FEED_EVENTS:
                raise FeedError(f"The feed has more than {MAX_FEED_EVENTS} events ahead.")
    return list(events.values())


# --- recurrence ----------------------------------------------------------------------------------

_SUB_DAILY = {"SECONDLY", "MINUTELY", "HOURLY"}


def _uid(event: Event) -> str:
    return str(event.get("UID") or "").strip()


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _instant(value: date, *, all_day: bool, tz: ZoneInfo):
    """A comparable form of a DTSTART-like value: a date for all-day events, else aware UTC
    (floating times are the property's local time)."""
    if all_day:
        return value.date() if isinstance(value, datetime) else value
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    return _local(value, tz).astimezone(ZoneInfo("UTC"))


def _aligned(value: date, reference: datetime, tz: ZoneInfo) -> datetime:
    """``value`` as a datetime of the same kind as ``reference`` (naive or aware), as
    dateutil wants every value of one rule set to be."""
    if not isinstance(value, datetime):
        return datetime.combine(value, reference.timetz())
    if reference.tzinfo is None:
        return _local(value, tz).replace(tzinfo=None) if value.tzinfo else value
    return value.replace(tzinfo=reference.tzinfo) if value.tzinfo is None else value


def _dates_of(prop_values) -> list[date]:
    values = []
    for prop_value in _as_list(prop_values):
        for item in getattr(prop_value, "dts", []):
            value = item.dt
            if isinstance(value, tuple):  # a PERIOD: its start
                value = value[0]
            values.append(value)
    return values


def _occurrence_key(uid: str, value: datetime, *, all_day: bool) -> str:
    if all_day:
        return f"{uid}#{value:%Y%m%d}"
    if value.tzinfo is None:
        return f"{uid}#{value:%Y%m%dT%H%M%S}"
    return f"{uid}#{value.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}"


def _occurrences(
    event: Event,
    start_value: date,
    end_value: date | None,
    *,
    tz: ZoneInfo,
    today: date,
    horizon: date,
    overridden: set,
) -> list[tuple[str, date, date | None]] | None:
    """The occurrences of a recurring event that may fall inside ``[today, horizon)``, as
    ``(key, start, end)``; ``None`` if the event does not recur (no RRULE or RDATE)."""
    rules, rdates = _as_list(event.get("RRULE")), _dates_of(event.get("RDATE"))
    if event.get("RECURRENCE-ID") is not None or not (rules or rdates):
        return None
    uid = _uid(event) or _event_key(event)
    all_day = not isinstance(start_value, datetime)
    dtstart = datetime.combine(start_value, time(0)) if all_day else start_value
    duration = None if end_value is None else _aligned(end_value, dtstart, tz) - dtstart
    rule_set = rrule.rruleset()
    for rule in rules:
        if str(_as_list(rule.get("FREQ"))[0]).upper() in _SUB_DAILY:
            raise FeedError("Events repeating more often than daily are not supported.")
        until = _as_list(rule.get("UNTIL"))
        text = rule.to_ical().decode()
        if until:
            text = ";".join(p for p in text.split(";") if not p.upper().startswith("UNTIL="))
        try:
            parsed = rrule.rrulestr(text, dtstart=dtstart)
            if until:
                limit = until[0]
                if not isinstance(limit, datetime):  # a date: the whole day counts
                    limit = datetime.combine(limit, time(23, 59, 59))
                parsed = parsed.replace(until=_aligned(limit, dtstart, tz))
        except (ValueError, TypeError) as exc:
            raise FeedError(f"Not a valid iCalendar feed: RRULE: {exc}") from exc
        rule_set.rrule(parsed)
    for value in rdates:
        rule_set.rdate(_aligned(value, dtstart, tz))
    for value in _dates_of(event.get("EXDATE")):
        rule_set.exdate(_aligned(value, dtstart, tz))
    # Start a little before today (an occurrence that began earlier may still run) and stop
    # at the horizon; an event spanning more than the horizon is not a calendar entry.
    earliest = today - (duration or timedelta(0)) - timedelta(days=2)
    first = _aligned(earliest, dtstart, tz)
    last = _aligned(horizon, dtstart, tz)
    occurrences = []
    for count, value in enumerate(rule_set.xafter(first, inc=True)):
        if value >= last:
            break
        if count >= MAX_OCCURRENCES:
            raise FeedError(f"An event repeats more than {MAX_OCCURRENCES} times ahead.")
        if _instant(value, all_day=all_day, tz=tz) in overridden:
            continue  # an event with this RECURRENCE-ID replaces it
        start = value.date() if all_day else value
        end = None if duration is None else (value + duration)
        if all_day and end is not None:
            end = end.date()
        occurrences.append((_occurrence_key(uid, value, all_day=all_day), start, end))
    return occurrences


# --- syncing -------------------------------------------------------------------------------------


@dataclass
class FeedSyncResult:
    feed: CalendarFeed | None
    created: int = 0
    updated: int = 0
    deleted: int = 0
    error: str = ""
    retryable: bool = False


@transaction.atomic
def _feed_apply(*, feed_id: int, events: list[FeedEvent]) -> FeedSyncResult:
    feed = CalendarFeed.objects.filter(pk=feed_id).first()
    if feed is None:
        return FeedSyncResult(feed=None, error="The feed was deleted.")
    Property.objects.select_for_update().get(pk=feed.property_id)
    feed = CalendarFeed.objects.filter(pk=feed_id).first()  # may be gone once we hold the lock
    if feed is None:
        return FeedSyncResult(feed=None, error="The feed was deleted.")
    result = FeedSyncResult(feed=feed)
    existing = {
        block.external_uid: block for block in AvailabilityBlock.objects.filter(source=feed)
    }
    new_blocks = []
    for event in events:
        block = existing.pop(event.uid, None)
        if block is None:
            new_blocks.append(
                AvailabilityBlock(
                    property_id=feed.property_id,
                    source=feed,
                    external_uid=event.uid,
                    start=event.start,
                    end=event.end,
                    note=event.note,
                )
            )
        elif (block.start, block.end, block.note) != (event.start, event.end, event.note):
            block.start, block.end, block.note = event.start, event.end, event.note
            block.save(update_fields=["start", "end", "note"])
            result.updated += 1
    AvailabilityBlock.objects.bulk_create(new_blocks)
    result.created = len(new_blocks)
    if existing:
        AvailabilityBlock.objects.filter(pk__in=[b.pk for b in existing.values()]).delete()
    result.deleted = len(existing)
    feed.last_synced_at = timezone.now()
    feed.last_error = ""
    feed.save(update_fields=["last_synced_at", "last_error"])
    return result


def feed_sync(
    *, feed_id: int, now: datetime | None = None, timeout: float | None = None
) -> FeedSyncResult:
    """Fetch one feed and mirror its events as blocks; failures only set ``last_error``.

    ``timeout`` bounds the download (``ICAL_FETCH_TIMEOUT`` otherwise): the request paths
    (registering, "sync now") pass a short one."""
    feed = CalendarFeed.objects.select_related("property").filter(pk=feed_id).first()
    if feed is None:
        return FeedSyncResult(feed=None, error="The feed was deleted.")
    prop = feed.property
    tz = ZoneInfo(prop.timezone or "UTC")
    today = (now or timezone.now()).astimezone(tz).date()
    try:
        body = fetch_feed(feed.url, timeout=timeout)
        events = parse_feed(body, tz=tz, today=today, check_out_time=prop.check_out_time)
    except FeedError as exc:
        message = str(exc)[:1000]
        CalendarFeed.objects.filter(pk=feed_id).update(last_error=message)
        feed.refresh_from_db(fields=["last_error", "last_synced_at"])
        return FeedSyncResult(feed=feed, error=message, retryable=exc.retryable)
    return _feed_apply(feed_id=feed_id, events=events)

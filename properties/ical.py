"""iCal calendars: export a property's taken dates, import blocks from external feeds.

Export: one all-day ``VEVENT`` per holding booking ("Reserved", no guest data) and
per block, behind the property's secret ``ical_token``.

Import: a host registers feed URLs (Airbnb, Booking.com, Google Calendar, ...).
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
- Recurring events (RRULE) count for their first occurrence only.
"""

import hashlib
import http.client
import ipaddress
import secrets
import socket
import ssl
import time as time_module
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from icalendar import Calendar, Event
from rest_framework import serializers

from properties.models import AvailabilityBlock, CalendarFeed, Property

PRODID = "-//Parley//Property calendar//EN"
EXPORT_PAST_DAYS = 30
MAX_FEEDS_PER_PROPERTY = 10
MAX_REDIRECTS = 3
USER_AGENT = "Parley-Calendar-Sync/1.0"
RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504}


def _max_bytes() -> int:
    return getattr(settings, "ICAL_MAX_FEED_BYTES", 2 * 1024 * 1024)


def _timeout() -> float:
    return float(getattr(settings, "ICAL_FETCH_TIMEOUT", 10))


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
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", stamp.astimezone(ZoneInfo("UTC")))
    event.add("transp", "OPAQUE")
    return event


def calendar_export(*, prop: Property, now: datetime | None = None) -> bytes:
    """The property's taken dates as iCalendar; events that ended over 30 days ago are left out.

    Imported blocks are exported as "Not available" (their text came from another
    channel and may name its guest); manual blocks show the host's note.
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
    cal.add("x-wr-calname", prop.title or f"Property {prop.pk}")
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
        summary = "Not available" if block.source_id else (block.note or "Not available")
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


def _invalid_url(detail: str, code: str = "invalid_url"):
    return serializers.ValidationError({"url": [serializers.ErrorDetail(detail, code=code)]})


def feed_create(*, prop: Property, url: str, name: str = "") -> CalendarFeed:
    """Register a feed; it is synced once right after commit, then hourly."""
    problem = _url_problem(url)  # resolves DNS: outside the transaction
    if problem:
        raise _invalid_url(problem)
    return _feed_insert(prop=prop, url=url, name=name)


@transaction.atomic
def _feed_insert(*, prop: Property, url: str, name: str) -> CalendarFeed:
    prop = Property.objects.select_for_update().get(pk=prop.pk)
    feeds = CalendarFeed.objects.filter(property=prop)
    if feeds.filter(url=url).exists():
        raise _invalid_url("This feed is already registered.", code="unique")
    if feeds.count() >= MAX_FEEDS_PER_PROPERTY:
        raise serializers.ValidationError(
            f"A property can have at most {MAX_FEEDS_PER_PROPERTY} feeds.", code="too_many_feeds"
        )
    feed = CalendarFeed.objects.create(property=prop, url=url, name=name)

    def first_sync() -> None:
        from properties.tasks import sync_calendar_feed

        sync_calendar_feed.delay(feed.pk)

    # Robust: a broker hiccup must not fail a registration that already committed; the
    # hourly sweep picks the feed up anyway.
    transaction.on_commit(first_sync, robust=True)
    return feed


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

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def connect(self) -> None:
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


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
            raise FeedUnavailable("The feed took too long to download.")
        chunks.append(chunk)


def fetch_feed(url: str) -> bytes:
    """GET ``url`` with a timeout, a size cap and at most three re-checked redirects."""
    deadline = time_module.monotonic() + _timeout()
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
            return _read_capped(response, deadline)
        except (OSError, http.client.HTTPException) as exc:
            raise FeedUnavailable(f"Could not download the feed: {exc!r}") from exc
        finally:
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


def _nights(event: Event, tz: ZoneInfo, check_out_time: time) -> tuple[date, date]:
    """The ``[start, end)`` nights an event blocks (see the module docstring)."""
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
    if len(uid) > 255:
        uid = "sha256-" + hashlib.sha256(uid.encode()).hexdigest()
    return uid


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
    for event in cal.walk("VEVENT"):
        if event.errors:
            prop_name, message = event.errors[0]
            raise FeedError(f"Not a valid iCalendar feed: {prop_name}: {message}")
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start, end = _nights(event, tz, check_out_time)
        if end <= today or start >= horizon:
            continue
        key = _event_key(event)
        if key in events:
            continue
        note = str(event.get("SUMMARY") or "").strip()[:200]
        events[key] = FeedEvent(uid=key, start=start, end=min(end, horizon), note=note)
    return list(events.values())


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


def feed_sync(*, feed_id: int, now: datetime | None = None) -> FeedSyncResult:
    """Fetch one feed and mirror its events as blocks; failures only set ``last_error``."""
    feed = CalendarFeed.objects.select_related("property").filter(pk=feed_id).first()
    if feed is None:
        return FeedSyncResult(feed=None, error="The feed was deleted.")
    prop = feed.property
    tz = ZoneInfo(prop.timezone or "UTC")
    today = (now or timezone.now()).astimezone(tz).date()
    try:
        body = fetch_feed(feed.url)
        events = parse_feed(body, tz=tz, today=today, check_out_time=prop.check_out_time)
    except FeedError as exc:
        message = str(exc)[:1000]
        CalendarFeed.objects.filter(pk=feed_id).update(last_error=message)
        feed.refresh_from_db(fields=["last_error", "last_synced_at"])
        return FeedSyncResult(feed=feed, error=message, retryable=exc.retryable)
    return _feed_apply(feed_id=feed_id, events=events)

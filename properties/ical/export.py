"""The iCal export: a property's taken dates, for the host's other channels.

One all-day ``VEVENT`` per held range ("Reserved", no guest data: every date holder's,
:mod:`properties.holds`, i.e. the holding bookings) and per block, behind the property's
secret ``ical_token``. A block's note is private: it is exported as "Not available"
unless the host marked it public (``note_public``); an imported block's text is never
passed on. Every TEXT value is escaped (``vText``). The answer carries an ``ETag`` (a
hash of the body) and a ``Last-Modified`` (when that body was first served), and a poll
with ``If-None-Match`` / ``If-Modified-Since`` gets a 304.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.http import Http404
from django.utils import timezone
from icalendar import Calendar, Event, vText

from properties import holds
from properties.models import AvailabilityBlock, Property

PRODID = "-//Parley//Property calendar//EN"
EXPORT_PAST_DAYS = 30
EXPORT_STATE_SECONDS = 60 * 60 * 24 * 30  # how long the export's Last-Modified is remembered


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
    now = now or timezone.now()
    today = now.astimezone(ZoneInfo(prop.timezone or "UTC")).date()
    since = today - timedelta(days=EXPORT_PAST_DAYS)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", vText(prop.title or f"Property {prop.pk}"))
    for held in holds.held_ranges(property_id=prop.pk, start=since, now=now):
        cal.add_component(
            _all_day_event(
                uid=held.uid,
                summary="Reserved",
                start=held.start,
                end=held.end,
                stamp=held.changed_at,
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

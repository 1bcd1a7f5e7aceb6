"""Parsing an iCal feed into the nights it blocks at a property.

- All-day events block ``[DTSTART, DTEND)``. Timed events are converted to the
  property's time zone and block every night touched: from the night of the start
  date up to the night before the end date, plus the end date's night when the
  event runs past the property's check-out time. Events without an end block one
  night. Events entirely in the past are skipped; ranges stop two years ahead.
- Cancelled events are skipped. An event without a UID is keyed by a hash of its
  start, end and summary.
- Recurring events are expanded over the import horizon, today to
  ``BOOKING_MAX_ADVANCE_DAYS`` (730) days ahead: RRULE occurrences plus RDATE dates,
  minus EXDATE dates and minus occurrences overridden by an event with the same UID and
  a RECURRENCE-ID (which counts on its own). Each occurrence becomes one block
  (``UID#<occurrence start>``), blocking the same nights an event at that start would.
  Occurrences are counted up to ``MAX_OCCURRENCES`` per event and a feed yields at most
  ``MAX_FEED_EVENTS`` blocks; past that the feed is refused as an error.

Any unreadable part raises :class:`~properties.ical.fetch.FeedError`: a half-read feed
must never be applied.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule
from django.conf import settings
from icalendar import Calendar, Event

from properties.ical.fetch import FeedError

MAX_OCCURRENCES = 2000  # per recurring event (a daily rule over the horizon is 731)
MAX_FEED_EVENTS = 5000  # blocks one feed may yield


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

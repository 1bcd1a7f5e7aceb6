"""The ``.ics`` event attached to a confirmed stay's email (icalendar): check-in to
check-out at the property's times, in its time zone, with the address and a link."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import icalendar
from django.utils import timezone

from notifications.links import links


def stay_ics(data: dict) -> bytes | None:
    try:
        zone = ZoneInfo(data.get("timezone") or "UTC")
        check_in = date.fromisoformat(data["check_in"])
        check_out = date.fromisoformat(data["check_out"])
        arrive = time.fromisoformat(data.get("check_in_time") or "15:00")
        leave = time.fromisoformat(data.get("check_out_time") or "11:00")
    except (KeyError, TypeError, ValueError):
        return None
    link = links(data).get("booking", "")
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Parley//Stay//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"booking-{data.get('id')}@parley")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", datetime.combine(check_in, arrive, tzinfo=zone))
    event.add("dtend", datetime.combine(check_out, leave, tzinfo=zone))
    event.add("summary", f"Stay at {data.get('title') or 'your Parley booking'}")
    if data.get("address"):
        event.add("location", data["address"])
    if link:
        event.add("url", link)
    event.add("description", f"Parley booking #{data.get('id')}. {link}".strip())
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()

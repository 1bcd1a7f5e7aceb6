"""iCal export and import, with feeds served by a real local HTTP server.

"Today" is pinned to 2030-01-10 (Lisbon, the factory's time zone) so the fixture
feeds can use literal dates.
"""

import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from icalendar import Calendar
from rest_framework.test import APIClient

from bookings.models import Booking
from bookings.tests.factories import client_for
from properties import calendar_feeds as ical_feeds
from properties import tasks
from properties.ical import fetch as ical_fetch
from properties.ical import sync as ical_sync
from properties.models import AvailabilityBlock, CalendarFeed, Property
from properties.tests.factories import GuestFactory, HostFactory, PropertyFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)


def vcal(*events: str, timezones: str = "") -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Feeds//EN", "CALSCALE:GREGORIAN"]
    lines += timezones.splitlines()
    for event in events:
        lines += ["BEGIN:VEVENT", *event.strip().splitlines(), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def all_day(uid: str, start: str, end: str | None, summary: str) -> str:
    dtend = f"DTEND;VALUE=DATE:{end}\n" if end else ""
    return (
        f"DTSTAMP:20300101T000000Z\nUID:{uid}\nDTSTART;VALUE=DATE:{start}\n{dtend}SUMMARY:{summary}"
    )


AIRBNB = vcal(
    all_day("reserved-1@airbnb.com", "20300201", "20300205", "Reserved"),
    all_day("blocked-1@airbnb.com", "20300310", "20300312", "Airbnb (Not available)"),
    all_day("past-1@airbnb.com", "20291201", "20291205", "Reserved"),  # entirely past: skipped
    all_day("far-1@airbnb.com", "20311201", "20320301", "Reserved"),  # capped at 2032-01-10
    all_day("beyond-1@airbnb.com", "20320601", "20320605", "Reserved"),  # past the horizon
)

NEW_YORK_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:STANDARD
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
END:DAYLIGHT
END:VTIMEZONE"""

TIMED = vcal(
    # 20:00 in New York on 1 March is 01:00 on 2 March in Lisbon; it ends at 14:00 Lisbon on
    # 3 March, after the 11:00 check-out, so the night of the 3rd is blocked too.
    "UID:ny-1@example.com\nDTSTAMP:20300101T000000Z\nSUMMARY:Owner stay\n"
    "DTSTART;TZID=America/New_York:20300301T200000\nDTEND;TZID=America/New_York:20300303T090000",
    # UTC: 17:00 Lisbon (summer time) on 1 April to 11:00 on 3 April (check-out time exactly).
    "UID:utc-1@example.com\nDTSTAMP:20300101T000000Z\nSUMMARY:Maintenance\n"
    "DTSTART:20300401T160000Z\nDTEND:20300403T100000Z",
    # No DTEND: one night.
    "UID:open-1@example.com\nDTSTAMP:20300101T000000Z\nSUMMARY:Viewing\n"
    "DTSTART;TZID=Europe/Lisbon:20300501T100000",
    all_day("day-1@example.com", "20300601", None, "Closed"),
    timezones=NEW_YORK_VTIMEZONE,
)

CHANGING_V1 = vcal(
    all_day("moves@channel", "20300201", "20300205", "Reserved"),
    all_day("vanishes@channel", "20300210", "20300212", "Reserved"),
    all_day("stays@channel", "20300301", "20300303", "Reserved"),
)
CHANGING_V2 = vcal(
    all_day("moves@channel", "20300202", "20300207", "Reserved - changed"),
    all_day("stays@channel", "20300301", "20300303", "Reserved"),
    all_day("appears@channel", "20300401", "20300402", "Reserved"),
)

BROKEN_EVENT = vcal(all_day("bad@channel", "20309999", "20300205", "Reserved"))


# --- a real HTTP server ----------------------------------------------------------------------


class FeedHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.hits.append(self.path)
        route = self.server.routes.get(self.path)
        if route is None:
            route = (404, b"not found", {})
        status, body, headers = route
        if callable(body):
            body = body()
        try:
            self.send_response(status)
            for name, value in {"Content-Type": "text/calendar", **headers}.items():
                if value is not None:
                    self.send_header(name, value)
            if "Content-Length" not in headers and isinstance(body, bytes):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if isinstance(body, bytes):
                self.wfile.write(body)
            else:  # an iterable of (pause, chunk): a server that trickles its answer
                for pause, chunk in body:
                    time.sleep(pause)
                    self.wfile.write(chunk)
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading (size cap)

    def log_message(self, *args):
        pass


class FeedServer:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
        self.httpd.daemon_threads = True
        self.httpd.routes = {}
        self.httpd.hits = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def routes(self) -> dict:
        return self.httpd.routes

    @property
    def hits(self) -> list:
        return self.httpd.hits

    def serve(self, path: str, body, status: int = 200, **headers) -> str:
        self.routes[path] = (status, body, headers)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with FeedServer() as feed_server:
        yield feed_server


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(NOW, tick=True):
        yield NOW.date()


@pytest.fixture
def prop():
    return PropertyFactory(timezone="Europe/Lisbon")


def make_feed(prop, url, name="Airbnb") -> CalendarFeed:
    return CalendarFeed.objects.create(property=prop, url=url, name=name)


def feed_blocks(feed) -> dict[str, tuple[date, date, str]]:
    return {
        b.external_uid: (b.start, b.end, b.note)
        for b in AvailabilityBlock.objects.filter(source=feed)
    }


def booking(prop, check_in, check_out, status="confirmed", **fields) -> Booking:
    return Booking.objects.create(
        property=prop,
        guest=fields.pop("guest", None) or GuestFactory(),
        check_in=check_in,
        check_out=check_out,
        guests=2,
        stay_type="standard",
        total=Decimal("300.00"),
        currency="EUR",
        status=status,
        cancellation_policy="moderate",
        **fields,
    )


# --- import: mapping events to blocks ----------------------------------------------------------


def test_airbnb_feed_becomes_blocks_past_skipped_and_capped(prop, server):
    feed = make_feed(prop, server.serve("/airbnb.ics", AIRBNB))

    result = ical_sync.feed_sync(feed_id=feed.pk)

    assert result.error == "" and result.created == 3
    assert feed_blocks(feed) == {
        "reserved-1@airbnb.com": (date(2030, 2, 1), date(2030, 2, 5), "Reserved"),
        "blocked-1@airbnb.com": (date(2030, 3, 10), date(2030, 3, 12), "Airbnb (Not available)"),
        "far-1@airbnb.com": (date(2031, 12, 1), date(2032, 1, 10), "Reserved"),
    }
    assert set(
        AvailabilityBlock.objects.filter(source=feed).values_list("property", flat=True)
    ) == {prop.pk}
    feed.refresh_from_db()
    assert feed.last_error == "" and feed.last_synced_at is not None
    assert server.hits == ["/airbnb.ics"]


def test_a_second_sync_of_the_same_feed_changes_nothing(prop, server):
    feed = make_feed(prop, server.serve("/airbnb.ics", AIRBNB))
    ical_sync.feed_sync(feed_id=feed.pk)
    ids = set(AvailabilityBlock.objects.filter(source=feed).values_list("pk", flat=True))

    again = ical_sync.feed_sync(feed_id=feed.pk)

    assert (again.created, again.updated, again.deleted) == (0, 0, 0)
    assert set(AvailabilityBlock.objects.filter(source=feed).values_list("pk", flat=True)) == ids


def test_timed_events_are_converted_to_the_property_time_zone(prop, server):
    feed = make_feed(prop, server.serve("/timed.ics", TIMED))

    result = ical_sync.feed_sync(feed_id=feed.pk)

    assert result.error == ""
    assert feed_blocks(feed) == {
        "ny-1@example.com": (date(2030, 3, 2), date(2030, 3, 4), "Owner stay"),
        "utc-1@example.com": (date(2030, 4, 1), date(2030, 4, 3), "Maintenance"),
        "open-1@example.com": (date(2030, 5, 1), date(2030, 5, 2), "Viewing"),
        "day-1@example.com": (date(2030, 6, 1), date(2030, 6, 2), "Closed"),
    }


def test_the_same_instant_maps_to_the_local_dates_of_each_property(server):
    tokyo = PropertyFactory(timezone="Asia/Tokyo")  # 01:00 UTC on 2 March is 10:00 in Tokyo
    honolulu = PropertyFactory(timezone="Pacific/Honolulu")  # ... and 15:00 on 1 March here
    body = vcal(
        "UID:x@example.com\nDTSTAMP:20300101T000000Z\nSUMMARY:Busy\n"
        "DTSTART:20300302T010000Z\nDTEND:20300302T020000Z"
    )
    url = server.serve("/instant.ics", body)
    tokyo_feed, honolulu_feed = make_feed(tokyo, url), make_feed(honolulu, url)
    ical_sync.feed_sync(feed_id=tokyo_feed.pk)
    ical_sync.feed_sync(feed_id=honolulu_feed.pk)
    assert feed_blocks(tokyo_feed)["x@example.com"][:2] == (date(2030, 3, 2), date(2030, 3, 3))
    assert feed_blocks(honolulu_feed)["x@example.com"][:2] == (date(2030, 3, 1), date(2030, 3, 2))


def test_changed_events_are_updated_and_vanished_ones_removed(prop, server):
    url = server.serve("/channel.ics", CHANGING_V1)
    feed = make_feed(prop, url)
    other_feed = make_feed(prop, server.serve("/other.ics", AIRBNB), name="Other")
    manual = AvailabilityBlock.objects.create(
        property=prop, start=date(2030, 2, 10), end=date(2030, 2, 11), note="Painting"
    )
    ical_sync.feed_sync(feed_id=feed.pk)
    ical_sync.feed_sync(feed_id=other_feed.pk)
    before = {b.external_uid: b.pk for b in AvailabilityBlock.objects.filter(source=feed)}
    other_before = feed_blocks(other_feed)

    server.serve("/channel.ics", CHANGING_V2)
    result = ical_sync.feed_sync(feed_id=feed.pk)

    assert (result.created, result.updated, result.deleted) == (1, 1, 1)
    assert feed_blocks(feed) == {
        "moves@channel": (date(2030, 2, 2), date(2030, 2, 7), "Reserved - changed"),
        "stays@channel": (date(2030, 3, 1), date(2030, 3, 3), "Reserved"),
        "appears@channel": (date(2030, 4, 1), date(2030, 4, 2), "Reserved"),
    }
    after = {b.external_uid: b.pk for b in AvailabilityBlock.objects.filter(source=feed)}
    assert after["moves@channel"] == before["moves@channel"]  # updated in place
    assert after["stays@channel"] == before["stays@channel"]
    assert AvailabilityBlock.objects.filter(pk=manual.pk).exists()
    assert feed_blocks(other_feed) == other_before


def test_an_event_over_a_holding_booking_is_still_recorded(prop, server):
    held = booking(prop, date(2030, 2, 3), date(2030, 2, 6))
    feed = make_feed(prop, server.serve("/airbnb.ics", AIRBNB))

    ical_sync.feed_sync(feed_id=feed.pk)

    block = AvailabilityBlock.objects.get(source=feed, external_uid="reserved-1@airbnb.com")
    assert block.start < held.check_out and block.end > held.check_in
    held.refresh_from_db()
    assert held.status == "confirmed"  # the booking keeps its dates


# --- import: failures leave the blocks as they were --------------------------------------------


HUGE = b"BEGIN:VCALENDAR\r\n" + b"X-PADDING:" + b"x" * (3 * 1024 * 1024) + b"\r\nEND:VCALENDAR\r\n"


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (200, b"<html><body>Please log in</body></html>", {}, "Not a valid iCalendar feed"),
        (200, BROKEN_EVENT, {}, "Not a valid iCalendar feed: DTSTART"),
        (200, b"", {}, "Not a valid iCalendar feed"),
        (500, b"oops", {}, "HTTP 500"),
        (404, b"gone", {}, "HTTP 404"),
        (200, HUGE, {}, "larger than 2097152 bytes"),
        (200, HUGE, {"Content-Length": None}, "larger than 2097152 bytes"),  # no length: streamed
    ],
    ids=["html", "broken-event", "empty", "500", "404", "huge", "huge-unannounced"],
)
def test_a_bad_feed_records_the_error_and_keeps_the_blocks(
    prop, server, status, body, headers, expected
):
    feed = make_feed(prop, server.serve("/feed.ics", AIRBNB))
    ical_sync.feed_sync(feed_id=feed.pk)
    feed.refresh_from_db()
    synced_at, blocks = feed.last_synced_at, feed_blocks(feed)
    assert len(blocks) == 3

    server.serve("/feed.ics", body, status=status, **headers)
    result = ical_sync.feed_sync(feed_id=feed.pk)

    feed.refresh_from_db()
    assert expected in feed.last_error
    assert result.error == feed.last_error
    assert result.retryable is (status == 500)
    assert feed.last_synced_at == synced_at
    assert feed_blocks(feed) == blocks

    server.serve("/feed.ics", AIRBNB)  # the next good sync clears the error
    ical_sync.feed_sync(feed_id=feed.pk)
    feed.refresh_from_db()
    assert feed.last_error == ""


def test_a_slow_feed_times_out(prop, server, settings):
    settings.ICAL_FETCH_TIMEOUT = 0.5

    def slow():
        time.sleep(2)
        return AIRBNB

    feed = make_feed(prop, server.serve("/slow.ics", slow))
    started = time.monotonic()
    result = ical_sync.feed_sync(feed_id=feed.pk)

    assert time.monotonic() - started < 1.5
    assert result.retryable and "Could not download" in result.error
    assert not AvailabilityBlock.objects.filter(source=feed).exists()


def test_a_refused_connection_is_recorded(prop, server):
    closed = FeedServer()
    url = closed.url("/never.ics")
    closed.httpd.server_close()  # nothing listens on that port any more
    feed = make_feed(prop, url)

    result = ical_sync.feed_sync(feed_id=feed.pk)

    feed.refresh_from_db()
    assert result.retryable and "Could not download" in feed.last_error


def test_redirects_are_followed(prop, server):
    target = server.serve("/real.ics", AIRBNB)
    feed = make_feed(prop, server.serve("/old.ics", b"", status=302, Location=target))

    assert ical_sync.feed_sync(feed_id=feed.pk).error == ""

    assert server.hits == ["/old.ics", "/real.ics"]
    assert len(feed_blocks(feed)) == 3


def test_private_addresses_are_refused_at_fetch_time_unless_allowed(prop, server, settings):
    feed = make_feed(prop, server.serve("/airbnb.ics", AIRBNB))
    settings.ICAL_ALLOW_PRIVATE_URLS = False

    result = ical_sync.feed_sync(feed_id=feed.pk)

    assert "private address" in result.error and not result.retryable
    assert server.hits == []  # never connected
    assert not AvailabilityBlock.objects.filter(source=feed).exists()


def test_a_redirect_to_a_private_address_is_refused(prop, server, settings, monkeypatch):
    # The local server stands in for a public host; its redirect to a private address must
    # be checked again and refused before any connection to it.
    settings.ICAL_ALLOW_PRIVATE_URLS = False
    real_is_public = ical_fetch._is_public
    monkeypatch.setattr(ical_fetch, "_is_public", lambda a: a == "127.0.0.1" or real_is_public(a))
    url = server.serve("/hop.ics", b"", status=302, Location="http://10.255.255.1/feed.ics")
    feed = make_feed(prop, url)

    result = ical_sync.feed_sync(feed_id=feed.pk)

    assert "private address" in result.error
    assert server.hits == ["/hop.ics"]


# --- tasks ---------------------------------------------------------------------------------------


@pytest.fixture
def eager_retries():
    """Eager mode runs each retry at once, instead of re-queueing it, when not propagating."""
    conf = tasks.sync_calendar_feed.app.conf
    before = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = before


def test_sync_task_retries_server_errors_a_bounded_number_of_times(prop, server, eager_retries):
    feed = make_feed(prop, server.serve("/down.ics", b"down", status=503))

    outcome = tasks.sync_calendar_feed.delay(feed.pk).get()

    assert len(server.hits) == 1 + tasks.SYNC_MAX_RETRIES
    assert "HTTP 503" in outcome["error"]
    feed.refresh_from_db()
    assert "HTTP 503" in feed.last_error


def test_sync_task_does_not_retry_a_malformed_feed(prop, server):
    feed = make_feed(prop, server.serve("/bad.ics", b"not a calendar"))
    tasks.sync_calendar_feed.delay(feed.pk)
    assert len(server.hits) == 1


def test_sync_all_enqueues_every_feed_but_archived_listings(server):
    live, other = PropertyFactory(), PropertyFactory()
    archived = PropertyFactory(status=Property.Status.ARCHIVED)
    feeds = [
        make_feed(live, server.serve("/a.ics", AIRBNB)),
        make_feed(other, server.serve("/b.ics", CHANGING_V1)),
        make_feed(archived, server.serve("/c.ics", AIRBNB)),
    ]

    assert tasks.sync_all_calendar_feeds.delay().get() == 2

    assert sorted(server.hits) == ["/a.ics", "/b.ics"]
    assert len(feed_blocks(feeds[0])) == 3 and len(feed_blocks(feeds[1])) == 3
    assert feed_blocks(feeds[2]) == {}


def test_the_hourly_schedule_runs_the_import():
    from config.celery_app import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["import-ical-feeds"]
    assert entry["task"] == "properties.tasks.sync_all_calendar_feeds"
    assert tasks.sync_all_calendar_feeds.name == entry["task"]


# --- feed API ------------------------------------------------------------------------------------


def feeds_url(prop) -> str:
    return f"/api/v1/properties/{prop.pk}/feeds/"


def test_host_registers_syncs_lists_and_deletes_a_feed(prop, server):
    client = client_for(prop.host)
    manual = AvailabilityBlock.objects.create(
        property=prop, start=date(2030, 2, 20), end=date(2030, 2, 22), note="Family"
    )
    created = client.post(
        feeds_url(prop), {"url": server.serve("/airbnb.ics", AIRBNB), "name": "Airbnb"}
    )
    assert created.status_code == 201, created.json()
    feed = created.json()
    assert feed["name"] == "Airbnb" and feed["last_synced_at"]  # synced within the request
    assert feed["sync"] == {"status": "ok", "error": ""} and feed["block_count"] == 3

    synced = client.post(f"{feeds_url(prop)}{feed['id']}/sync/")
    assert synced.status_code == 200
    assert synced.json()["last_error"] == "" and synced.json()["last_synced_at"]
    assert synced.json()["block_count"] == 3

    blocks = client.get(f"/api/v1/properties/{prop.pk}/blocks/").json()
    assert sorted(b["source"] or 0 for b in blocks) == [0, feed["id"], feed["id"], feed["id"]]
    days = client.get(
        f"/api/v1/properties/{prop.pk}/availability/?start=2030-02-01&end=2030-02-06"
    ).json()
    assert [d["status"] for d in days] == ["blocked"] * 4 + ["available"]

    listed = client.get(feeds_url(prop))
    assert listed.status_code == 200
    assert [f["id"] for f in listed.json()] == [feed["id"]]

    deleted = client.delete(f"{feeds_url(prop)}{feed['id']}/")
    assert deleted.status_code == 204
    assert not CalendarFeed.objects.filter(pk=feed["id"]).exists()
    assert list(AvailabilityBlock.objects.filter(property=prop)) == [manual]


def test_sync_endpoint_reports_a_failing_feed(prop, server):
    feed = make_feed(prop, server.serve("/down.ics", b"x", status=500))
    response = client_for(prop.host).post(f"{feeds_url(prop)}{feed.pk}/sync/")
    assert response.status_code == 200
    assert "HTTP 500" in response.json()["last_error"]
    assert response.json()["last_synced_at"] is None
    assert server.hits == ["/down.ics"]  # on demand: one attempt, no retry loop


def test_registering_a_feed_syncs_it_within_the_request(
    prop, server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = client_for(prop.host).post(
            feeds_url(prop), {"url": server.serve("/airbnb.ics", AIRBNB)}
        )
    assert created.status_code == 201
    body = created.json()
    assert body["sync"] == {"status": "ok", "error": ""}
    assert body["last_synced_at"] and body["last_error"] == "" and body["block_count"] == 3
    assert len(feed_blocks(CalendarFeed.objects.get(pk=body["id"]))) == 3
    assert callbacks == []  # nothing left to run after the answer


def test_registering_a_failing_feed_says_why(prop, server):
    created = client_for(prop.host).post(
        feeds_url(prop), {"url": server.serve("/gone.ics", b"gone", status=404)}
    )
    assert created.status_code == 201  # registered: the hourly sync tries again
    body = created.json()
    assert body["sync"]["status"] == "error" and "HTTP 404" in body["sync"]["error"]
    assert "HTTP 404" in body["last_error"] and body["last_synced_at"] is None


def hanging(seconds=10):
    def answer():
        time.sleep(seconds)
        return AIRBNB

    return answer


def trickling(seconds=10):
    """Answers at once, then one byte every half second: each read succeeds in time."""
    return lambda: [(0.5, AIRBNB[i : i + 1]) for i in range(int(seconds * 2))]


@pytest.mark.parametrize("answer", [hanging, trickling], ids=["hanging", "trickling"])
def test_registering_a_feed_that_does_not_answer_in_time_is_202_pending(prop, server, answer):
    assert ical_sync.first_sync_timeout() == 3
    url = server.serve("/slow.ics", answer(), **({"Content-Length": None}))
    started = time.monotonic()

    created = client_for(prop.host).post(feeds_url(prop), {"url": url})

    assert time.monotonic() - started < 4.5  # the 3 s deadline, not the feed's 10 s
    assert created.status_code == 202, created.json()
    body = created.json()
    assert body["sync"] == {"status": "pending", "error": ical_fetch.TOO_SLOW}
    assert body["last_synced_at"] is None and body["block_count"] == 0
    assert CalendarFeed.objects.filter(pk=body["id"]).exists()


def test_sync_now_of_a_hanging_feed_stops_at_the_short_deadline(prop, server, settings):
    settings.ICAL_FIRST_SYNC_TIMEOUT = 1
    feed = make_feed(prop, server.serve("/slow.ics", hanging()))
    started = time.monotonic()
    response = client_for(prop.host).post(f"{feeds_url(prop)}{feed.pk}/sync/")
    assert time.monotonic() - started < 2.5
    assert response.status_code == 200
    assert response.json()["last_error"] == ical_fetch.TOO_SLOW


@pytest.mark.parametrize("scheme", ["webcal", "WEBCAL", "webcals"])
def test_webcal_urls_are_registered_as_https(prop, scheme, monkeypatch):
    fetched = []

    def fetch(url, *, timeout=None):
        fetched.append(url)
        return AIRBNB

    monkeypatch.setattr(ical_fetch, "fetch_feed", fetch)
    created = client_for(prop.host).post(
        feeds_url(prop), {"url": f"{scheme}://calendar.example.com/feed.ics?x=1"}
    )
    assert created.status_code == 201, created.json()
    assert created.json()["url"] == "https://calendar.example.com/feed.ics?x=1"
    assert fetched == ["https://calendar.example.com/feed.ics?x=1"]
    assert created.json()["sync"]["status"] == "ok"


def test_other_users_get_404_for_feeds(prop, server):
    feed = make_feed(prop, server.serve("/airbnb.ics", AIRBNB))
    for stranger in (HostFactory(), GuestFactory()):
        client = client_for(stranger)
        for response in (
            client.get(feeds_url(prop)),
            client.post(feeds_url(prop), {"url": server.url("/mine.ics")}),
            client.post(f"{feeds_url(prop)}{feed.pk}/sync/"),
            client.delete(f"{feeds_url(prop)}{feed.pk}/"),
        ):
            assert response.status_code == 404
            assert response.json()["errors"][0]["code"] == "not_found"
    assert CalendarFeed.objects.filter(property=prop).count() == 1
    assert server.hits == []
    # A feed id of another property is not reachable through the host's own property.
    own = PropertyFactory(host=HostFactory())
    response = client_for(own.host).delete(f"{feeds_url(own)}{feed.pk}/")
    assert response.status_code == 404
    assert APIClient().get(feeds_url(prop)).status_code == 401


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/calendar.ics",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "not a url",
        "http://",
        "http://user:secret@example.com/cal.ics",
        "http://example.com:99999/cal.ics",
        "http://exa mple.com/cal.ics",
        "",
    ],
)
def test_bad_feed_urls_are_400(prop, url):
    response = client_for(prop.host).post(feeds_url(prop), {"url": url})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [e["attr"] for e in body["errors"]] == ["url"]
    assert not CalendarFeed.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/cal.ics",
        "http://localhost:8000/cal.ics",
        "http://10.1.2.3/cal.ics",
        "http://192.168.0.10/cal.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/cal.ics",
        "http://[::ffff:127.0.0.1]/cal.ics",
        "webcal://127.0.0.1/cal.ics",
        "webcal://169.254.169.254/latest/meta-data/",
    ],
)
def test_private_feed_urls_are_400_when_not_allowed(prop, settings, url):
    settings.ICAL_ALLOW_PRIVATE_URLS = False
    response = client_for(prop.host).post(feeds_url(prop), {"url": url})
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["attr"] == "url"
    assert "public" in response.json()["errors"][0]["detail"]


def test_a_public_address_is_accepted_when_private_ones_are_not(prop, settings, monkeypatch):
    settings.ICAL_ALLOW_PRIVATE_URLS = False
    monkeypatch.setattr(ical_fetch, "fetch_feed", lambda url, *, timeout=None: AIRBNB)  # no network
    response = client_for(prop.host).post(feeds_url(prop), {"url": "https://93.184.215.14/c.ics"})
    assert response.status_code == 201, response.json()


def test_the_same_feed_twice_is_400(prop, server):
    client = client_for(prop.host)
    url = server.serve("/airbnb.ics", AIRBNB)
    assert client.post(feeds_url(prop), {"url": url}).status_code == 201
    again = client.post(feeds_url(prop), {"url": url})
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "unique"


# --- export --------------------------------------------------------------------------------------


def export(prop, token):
    query = "" if token is None else f"?token={token}"
    response = APIClient().get(f"/api/v1/properties/{prop.pk}/calendar.ics{query}")
    return response


def events_of(response) -> dict[str, dict]:
    cal = Calendar.from_ical(response.content)
    return {
        str(e["UID"]): {
            "summary": str(e["SUMMARY"]),
            "start": e["DTSTART"].dt,
            "end": e["DTEND"].dt,
            "value": e["DTSTART"].params.get("VALUE"),
        }
        for e in cal.walk("VEVENT")
    }


def test_export_lists_holding_bookings_and_blocks_without_guest_data(prop, server):
    guest = GuestFactory(first_name="Zelda", last_name="Quux", email="zelda@example.com")
    held = booking(prop, date(2030, 2, 1), date(2030, 2, 4), guest=guest)
    pending = booking(
        prop,
        date(2030, 2, 10),
        date(2030, 2, 12),
        status="pending_host",
        hold_expires_at=NOW + timedelta(hours=5),
    )
    booking(prop, date(2030, 3, 1), date(2030, 3, 3), status="cancelled")
    booking(
        prop,
        date(2030, 3, 5),
        date(2030, 3, 7),
        status="awaiting_payment",
        hold_expires_at=NOW - timedelta(minutes=1),  # lapsed: no longer holds
    )
    noted = AvailabilityBlock.objects.create(
        property=prop, start=date(2030, 4, 1), end=date(2030, 4, 3), note="Painting",
        note_public=True,
    )  # fmt: skip
    plain = AvailabilityBlock.objects.create(
        property=prop, start=date(2030, 4, 10), end=date(2030, 4, 11)
    )
    feed = make_feed(prop, server.serve("/airbnb.ics", AIRBNB))
    ical_sync.feed_sync(feed_id=feed.pk)
    imported = AvailabilityBlock.objects.get(source=feed, external_uid="blocked-1@airbnb.com")
    other = PropertyFactory()
    booking(other, date(2030, 2, 1), date(2030, 2, 4))

    response = export(prop, prop.ical_token)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = events_of(response)
    assert events[f"parley-booking-{held.pk}"] == {
        "summary": "Reserved",
        "start": date(2030, 2, 1),
        "end": date(2030, 2, 4),
        "value": "DATE",
    }
    assert events[f"parley-booking-{pending.pk}"]["start"] == date(2030, 2, 10)
    assert events[f"parley-block-{noted.pk}"]["summary"] == "Painting"
    assert events[f"parley-block-{plain.pk}"]["summary"] == "Not available"
    assert events[f"parley-block-{imported.pk}"] == {
        "summary": "Not available",  # the other channel's text is not passed on
        "start": date(2030, 3, 10),
        "end": date(2030, 3, 12),
        "value": "DATE",
    }
    assert len(events) == 2 + 2 + 3  # two holding bookings, two manual blocks, three imported
    for value in (b"Zelda", b"Quux", b"zelda@example.com", b"Airbnb"):
        assert value not in response.content
    assert export(prop, prop.ical_token).content == response.content  # stable UIDs and stamps


def test_export_parses_back_as_a_feed_of_the_same_nights(prop, server):
    booking(prop, date(2030, 2, 1), date(2030, 2, 4))
    AvailabilityBlock.objects.create(property=prop, start=date(2030, 4, 1), end=date(2030, 4, 3))
    body = export(prop, prop.ical_token).content
    other = PropertyFactory(timezone="Europe/Lisbon")
    feed = make_feed(other, server.serve("/parley.ics", body))

    ical_sync.feed_sync(feed_id=feed.pk)

    assert sorted(v[:2] for v in feed_blocks(feed).values()) == [
        (date(2030, 2, 1), date(2030, 2, 4)),
        (date(2030, 4, 1), date(2030, 4, 3)),
    ]


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_export_with_a_wrong_or_missing_token_is_404(prop, token):
    response = export(prop, token)
    assert response.status_code == 404
    body = response.json()
    assert body["type"] == "client_error"
    assert [(e["code"], e["attr"]) for e in body["errors"]] == [("not_found", None)]
    assert prop.ical_token not in response.content.decode()


def test_export_of_an_unknown_property_is_404(prop):
    response = APIClient().get(f"/api/v1/properties/{prop.pk + 1000}/calendar.ics?token=x")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_rotating_the_token_retires_the_old_one(prop):
    old = prop.ical_token
    assert export(prop, old).status_code == 200

    rotated = client_for(prop.host).post(f"/api/v1/properties/{prop.pk}/ical-token/")
    assert rotated.status_code == 200
    prop.refresh_from_db()
    assert prop.ical_token != old

    assert export(prop, old).status_code == 404
    assert export(prop, prop.ical_token).status_code == 200


def test_another_propertys_token_does_not_open_this_calendar(prop):
    other = PropertyFactory()
    assert export(prop, other.ical_token).status_code == 404


def test_a_property_has_at_most_ten_feeds(prop, server):
    for n in range(ical_feeds.MAX_FEEDS_PER_PROPERTY):
        make_feed(prop, server.url(f"/{n}.ics"))
    response = client_for(prop.host).post(feeds_url(prop), {"url": server.url("/11.ics")})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "too_many_feeds"
    assert CalendarFeed.objects.filter(property=prop).count() == ical_feeds.MAX_FEEDS_PER_PROPERTY


# --- issue 19: private notes, escaping, recurrence, validators --------------------------------


def test_a_manual_block_note_is_private_unless_the_host_marks_it_public(prop):
    client = client_for(prop.host)
    blocks = f"/api/v1/properties/{prop.pk}/blocks/"
    private = client.post(
        blocks,
        {"start": "2030-02-01", "end": "2030-02-04", "note": "Joao Silva direct +351 912 345 678"},
    )
    public = client.post(
        blocks,
        {"start": "2030-03-01", "end": "2030-03-02", "note": "Renovation", "note_public": True},
    )
    assert private.status_code == public.status_code == 201
    assert private.json()["note_public"] is False and public.json()["note_public"] is True

    response = export(prop, prop.ical_token)

    events = events_of(response)
    assert events[f"parley-block-{private.json()['id']}"]["summary"] == "Not available"
    assert events[f"parley-block-{public.json()['id']}"]["summary"] == "Renovation"
    for leaked in (b"Joao", b"Silva", b"351", b"912"):
        assert leaked not in response.content
    # The host still reads the note in the owner's block list.
    assert client.get(blocks).json()[0]["note"] == "Joao Silva direct +351 912 345 678"


def test_export_escapes_text_values(prop):
    prop.title = "Casa; Azul, T2\\Porto\nX-INJECTED:1"
    prop.save(update_fields=["title"])
    AvailabilityBlock.objects.create(
        property=prop, start=date(2030, 2, 1), end=date(2030, 2, 2),
        note="Closed; windows, doors", note_public=True,
    )  # fmt: skip

    response = export(prop, prop.ical_token)

    assert response.status_code == 200
    lines = response.content.decode().split("\r\n")
    assert "X-WR-CALNAME:Casa\\; Azul\\, T2\\\\Porto\\nX-INJECTED:1" in lines
    assert not any(line.startswith("X-INJECTED") for line in lines)
    assert "SUMMARY:Closed\\; windows\\, doors" in lines
    assert [e["summary"] for e in events_of(response).values()] == ["Closed; windows, doors"]


RECURRING = vcal(
    # Weekly, four times: 1, 8 (moved by an override to 9-11), 15 (EXDATE), 22 Feb; RDATE 1 Apr.
    "UID:weekly@channel\nDTSTAMP:20300101T000000Z\nSUMMARY:Reserved\n"
    "DTSTART;VALUE=DATE:20300201\nDTEND;VALUE=DATE:20300203\nRRULE:FREQ=WEEKLY;COUNT=4\n"
    "EXDATE;VALUE=DATE:20300215\nRDATE;VALUE=DATE:20300401",
    "UID:weekly@channel\nDTSTAMP:20300101T000000Z\nSUMMARY:Reserved (moved)\n"
    "RECURRENCE-ID;VALUE=DATE:20300208\nDTSTART;VALUE=DATE:20300209\nDTEND;VALUE=DATE:20300211",
    # Timed, in New York, every 2nd day until 6 March 00:00 UTC: 1 and 3 March (5 March
    # 20:00 NY is 01:00 UTC on the 6th, past UNTIL). 20:00 NY is 01:00 the next day in
    # Lisbon, to 09:00 NY (14:00 Lisbon, past check-out): the night of the 2nd (of the 4th).
    "UID:ny-weekly@example.com\nDTSTAMP:20300101T000000Z\nSUMMARY:Owner\n"
    "DTSTART;TZID=America/New_York:20300301T200000\n"
    "DTEND;TZID=America/New_York:20300302T090000\n"
    "RRULE:FREQ=DAILY;INTERVAL=2;UNTIL=20300306T000000Z",
    # Yearly from 2020: only the occurrences from today to the horizon (2032-01-10) count.
    all_day("yearly@channel", "20200701", "20200703", "Family") + "\nRRULE:FREQ=YEARLY",
    timezones=NEW_YORK_VTIMEZONE,
)


def test_recurring_events_block_every_occurrence_up_to_the_horizon(prop, server):
    feed = make_feed(prop, server.serve("/recurring.ics", RECURRING))

    result = ical_sync.feed_sync(feed_id=feed.pk)

    assert result.error == ""
    assert sorted(v[:2] for v in feed_blocks(feed).values()) == [
        (date(2030, 2, 1), date(2030, 2, 3)),
        (date(2030, 2, 9), date(2030, 2, 11)),  # the override of 8 Feb
        (date(2030, 2, 22), date(2030, 2, 24)),
        (date(2030, 3, 2), date(2030, 3, 3)),  # 1 March in New York
        (date(2030, 3, 4), date(2030, 3, 5)),  # 3 March; 5 March is past UNTIL
        (date(2030, 4, 1), date(2030, 4, 3)),  # RDATE
        (date(2030, 7, 1), date(2030, 7, 3)),
        (date(2031, 7, 1), date(2031, 7, 3)),
    ]
    days = client_for(prop.host).get(
        f"/api/v1/properties/{prop.pk}/availability/?start=2030-02-21&end=2030-02-25"
    )
    assert [d["status"] for d in days.json()] == ["available", "blocked", "blocked", "available"]
    again = ical_sync.feed_sync(feed_id=feed.pk)
    assert (again.created, again.updated, again.deleted) == (0, 0, 0)


def test_a_weekly_count_rule_blocks_all_four_weeks(prop, server):
    body = vcal(
        all_day("four@channel", "20300204", "20300206", "Reserved") + "\nRRULE:FREQ=WEEKLY;COUNT=4"
    )
    feed = make_feed(prop, server.serve("/four.ics", body))
    ical_sync.feed_sync(feed_id=feed.pk)
    assert sorted(v[0] for v in feed_blocks(feed).values()) == [
        date(2030, 2, 4), date(2030, 2, 11), date(2030, 2, 18), date(2030, 2, 25),
    ]  # fmt: skip


def test_a_rule_repeating_more_often_than_daily_is_refused_and_changes_nothing(prop, server):
    feed = make_feed(prop, server.serve("/feed.ics", AIRBNB))
    ical_sync.feed_sync(feed_id=feed.pk)
    before = feed_blocks(feed)
    server.serve(
        "/feed.ics",
        vcal(all_day("x@channel", "20300204", "20300205", "R") + "\nRRULE:FREQ=MINUTELY"),
    )
    result = ical_sync.feed_sync(feed_id=feed.pk)
    assert "more often than daily" in result.error
    assert feed_blocks(feed) == before


def test_export_has_validators_and_answers_304_until_it_changes(prop):
    booking(prop, date(2030, 2, 1), date(2030, 2, 4))
    url = f"/api/v1/properties/{prop.pk}/calendar.ics?token={prop.ical_token}"
    first = APIClient().get(url)
    assert first.status_code == 200
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and modified.endswith("GMT")

    same = APIClient().get(url, HTTP_IF_NONE_MATCH=etag)
    assert same.status_code == 304 and same.content == b""
    assert same["ETag"] == etag
    assert APIClient().get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert APIClient().get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200

    # A change within the same second still moves both validators.
    block = AvailabilityBlock.objects.create(
        property=prop, start=date(2030, 3, 1), end=date(2030, 3, 2)
    )
    changed = APIClient().get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert APIClient().get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 200
    assert changed["Last-Modified"] != modified
    # ... and so does a removal.
    block.delete()
    removed = APIClient().get(url, HTTP_IF_NONE_MATCH=changed["ETag"])
    assert removed.status_code == 200 and removed.content == first.content
    assert APIClient().get(url, HTTP_IF_MODIFIED_SINCE=changed["Last-Modified"]).status_code == 200

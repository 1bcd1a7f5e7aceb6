"""The negotiation room's delivery in headless Chromium against a real daphne (issue 16):

(a) opening a room of 200 events sends one read frame (the last seq) and trips no rate
    limit, on either side, and a reopening sends none (the server replays our read mark);
(b) a message typed while the server is stopped stays pending ("Sending…", the input
    kept) and is delivered exactly once when a new server comes up on the same port;
    an acknowledgement lost with its connection is answered again after the reconnect,
    with the same seq, and nothing is doubled;
(c) "Seen" is right after a reload (read marks are stored and replayed on connect);
(d) presence is per person: closing one of the host's two tabs does not show them away.
"""

import json
import re
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.tests.factories import bookable_property, verified_guest
from negotiation import services as negotiation_services
from negotiation.models import ChatMessage, Event
from tests.e2e.conftest import (
    HAVE_CHROMIUM,
    REQUIRED,
    SKIP_REASON,
    _server_env,
    browser,
    login,
    new_page,
    usable_password,
)
from tests.live_server import free_port, running_server

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _negotiation(*, messages: int = 0):
    """An open negotiation (guest offered 280 with a hello) and ``messages`` more chat
    messages, alternately from the host and the guest; (negotiation, host, guest)."""
    prop = bookable_property(nightly="100.00", photos=3, title="Dune cottage")
    host = usable_password(prop.host)
    guest = usable_password(verified_guest())
    today = timezone.now().date()
    negotiation = negotiation_services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=today + timedelta(days=30),
        check_out=today + timedelta(days=33), guests=2, stay_type="standard",
        amount=Decimal("280.00"), message="Hello!",
    ).negotiation  # fmt: skip
    for i in range(messages):
        negotiation_services.negotiation_message(
            negotiation_id=negotiation.pk, user=host if i % 2 == 0 else guest, body=f"Line {i}"
        )
    negotiation.refresh_from_db()
    return negotiation, host, guest


class Frames:
    """The frames a page's negotiation sockets sent and received (parsed JSON)."""

    def __init__(self, page):
        self.sent: list[dict] = []
        self.received: list[dict] = []
        page.on("websocket", self._socket)

    def _socket(self, ws):
        if "/ws/negotiations/" not in ws.url:
            return
        ws.on("framesent", lambda payload: self.sent.append(json.loads(payload)))
        ws.on("framereceived", lambda payload: self.received.append(json.loads(payload)))

    def reads(self) -> list[dict]:
        return [f for f in self.sent if f.get("type") == "read"]

    def errors(self) -> list[dict]:
        return [f for f in self.received if f.get("type") == "error"]


def _open_room(page, nid: int) -> None:
    page.goto(f"/#/n/{nid}")
    page.locator('[data-testid="room-conn"][data-state="open"]').wait_for()


def _wait_thread(page, last_seq: int) -> None:
    page.locator(f'.thread [data-seq="{last_seq}"]').wait_for()


def _seqs(page) -> list[int]:
    return [int(s) for s in page.locator(".thread [data-seq]").evaluate_all(
        "els => els.map(e => e.dataset.seq)"
    )]  # fmt: skip


def _bubbles(page, text: str) -> int:
    """Items showing ``text``: in the thread and among the pending ones."""
    return page.locator(".thread .item .body", has_text=text).count()


def _no_console_errors(errors: list[str]) -> None:
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []


def test_a_room_of_200_events_sends_one_read_frame_and_trips_no_limit(live_server_url, shots):
    negotiation, host, guest = _negotiation(messages=197)
    last = negotiation.last_seq
    assert last >= 200
    errors: list[str] = []

    with browser() as chromium:
        guest_page = new_page(chromium, live_server_url, errors=errors, viewport=PHONE)
        host_page = new_page(chromium, live_server_url, errors=errors)
        guest_frames, host_frames = Frames(guest_page), Frames(host_page)
        login(guest_page, guest.email)
        login(host_page, host.email)
        _open_room(guest_page, negotiation.pk)
        _open_room(host_page, negotiation.pk)
        for page in (guest_page, host_page):
            _wait_thread(page, last)
            assert _seqs(page) == list(range(1, last + 1))
        guest_page.wait_for_timeout(2500)  # any coalesced read frame is out by now

        for frames in (guest_frames, host_frames):
            assert [f["seq"] for f in frames.reads()] == [last]
            assert frames.errors() == []
        for page in (guest_page, host_page):
            assert page.get_by_test_id("room-error").is_hidden()
            assert page.get_by_text("Too many frames").count() == 0
        guest_page.screenshot(path=str(shots / "20-long-room-phone.png"))

        # Reopening: the server replays our read mark, so nothing needs saying; the host's
        # last message (its read) shows "Seen" on the guest's side and vice versa.
        guest_page.reload()
        guest_page.locator('[data-testid="room-conn"][data-state="open"]').wait_for()
        _wait_thread(guest_page, last)
        guest_page.wait_for_timeout(2500)
        assert [f["seq"] for f in guest_frames.reads()] == [last]  # still only the first one
        assert guest_frames.errors() == []
        guest_page.locator(".thread .item.mine .receipt", has_text="Seen").last.wait_for()
        _no_console_errors(errors)


@contextmanager
def _restartable_server(django_db_blocker, tmp_path):
    """A daphne of our own, which the test can stop and start again on the same port with
    the same environment (the module's server keeps serving the other tests)."""
    if not HAVE_CHROMIUM:
        if REQUIRED:
            pytest.fail(SKIP_REASON)
        pytest.skip(SKIP_REASON)
    with django_db_blocker.unblock():
        env = _server_env(tmp_path)
    port = free_port()

    class Server:
        stack: ExitStack | None = None
        runs = 0

        def start(self) -> str:
            self.runs += 1
            self.stack = ExitStack()
            log = tmp_path / f"server-{self.runs}.log"
            return self.stack.enter_context(running_server(env, port=port, log_path=log))

        def stop(self) -> None:
            if self.stack:
                self.stack.close()
                self.stack = None

    server = Server()
    try:
        yield server
    finally:
        server.stop()


def test_b_a_message_typed_while_the_server_is_down_arrives_once(
    django_db_blocker, tmp_path, shots
):
    negotiation, host, guest = _negotiation()
    start = negotiation.last_seq
    text = "Are you still there?"
    errors: list[str] = []

    with _restartable_server(django_db_blocker, tmp_path) as server, browser() as chromium:
        base = server.start()
        host_page = new_page(chromium, base, errors=errors)
        guest_page = new_page(chromium, base, errors=errors, viewport=PHONE)
        login(host_page, host.email)
        login(guest_page, guest.email)
        _open_room(host_page, negotiation.pk)
        _open_room(guest_page, negotiation.pk)
        guest_page.get_by_text("Host is online").wait_for()
        seen = guest_page.locator(f'.thread [data-receipt="{start}"]', has_text="Seen")
        seen.wait_for()  # the host has read the guest's offer

        server.stop()
        guest_page.locator('[data-testid="room-conn"][data-state="reconnecting"]').wait_for()
        box = guest_page.get_by_label("Message", exact=True)
        box.fill(text)
        guest_page.get_by_role("button", name="Send").click()
        pending = guest_page.locator(".outbox .item.pending", has_text=text)
        pending.get_by_text(re.compile("sending", re.I)).wait_for()
        assert box.input_value() == text  # kept until acknowledged
        guest_page.get_by_role("button", name="Send").click()  # pressed again: still one
        assert guest_page.locator(".outbox .item").count() == 1
        guest_page.wait_for_timeout(1500)  # reconnect attempts fail meanwhile
        guest_page.screenshot(path=str(shots / "21-pending-while-server-down-phone.png"))

        server.start()  # same port, same environment, same database
        guest_page.locator('.thread [data-event="message.created"]', has_text=text).wait_for(
            timeout=30_000
        )
        host_page.locator('.thread [data-event="message.created"]', has_text=text).wait_for(
            timeout=30_000
        )
        guest_page.locator(".outbox .item").first.wait_for(state="detached")
        assert box.input_value() == ""  # cleared by the ack
        guest_page.wait_for_timeout(1000)  # no late duplicate
        for page in (guest_page, host_page):
            assert _bubbles(page, text) == 1
            assert _seqs(page) == list(range(1, start + 2))
        guest_page.screenshot(path=str(shots / "22-delivered-once-phone.png"))
        _no_console_errors(errors)

    assert ChatMessage.objects.filter(negotiation=negotiation, body=text).count() == 1
    assert (
        Event.objects.filter(
            negotiation=negotiation, type="message.created", data__body=text
        ).count()
        == 1
    )


def test_b_an_ack_lost_with_its_connection_is_answered_again_after_the_reconnect(
    live_server_url, shots
):
    negotiation, host, guest = _negotiation()
    start = negotiation.last_seq
    text = "Did this arrive?"
    errors: list[str] = []
    seen = {"dropped": None, "acks": []}

    def route(ws):
        server = ws.connect_to_server()

        def from_server(message):
            frame = json.loads(message)
            if frame.get("type") == "ack":
                seen["acks"].append(frame)
                if seen["dropped"] is None:
                    seen["dropped"] = frame  # the ack is lost with its connection
                    ws.close(code=4000, reason="gone")
                    return
            ws.send(message)

        server.on_message(from_server)

    with browser() as chromium:
        guest_page = new_page(chromium, live_server_url, errors=errors, viewport=PHONE)
        host_page = new_page(chromium, live_server_url, errors=errors)
        login(guest_page, guest.email)
        login(host_page, host.email)
        guest_page.route_web_socket(re.compile(r"/ws/negotiations/"), route)
        _open_room(guest_page, negotiation.pk)
        _open_room(host_page, negotiation.pk)
        guest_page.get_by_label("Message", exact=True).fill(text)
        guest_page.get_by_role("button", name="Send").click()
        guest_page.locator('.thread [data-event="message.created"]', has_text=text).wait_for()
        guest_page.locator(".outbox .item").first.wait_for(state="detached")
        host_page.locator('.thread [data-event="message.created"]', has_text=text).wait_for()
        guest_page.wait_for_timeout(1000)
        for page in (guest_page, host_page):
            assert _bubbles(page, text) == 1
            assert _seqs(page) == list(range(1, start + 2))
        assert guest_page.get_by_label("Message", exact=True).input_value() == ""
        _no_console_errors(errors)

    # The resend on the new connection was answered with the first ack: same id, same seq.
    first = seen["dropped"]
    assert first is not None and first["seq"] == start + 1
    assert [a for a in seen["acks"] if a["client_id"] == first["client_id"]][1:] == [first]
    assert ChatMessage.objects.filter(negotiation=negotiation, body=text).count() == 1


def test_c_seen_marks_survive_a_reload(live_server_url, shots):
    negotiation, host, guest = _negotiation()
    last = negotiation.last_seq  # the guest's offer (and hello before it)
    errors: list[str] = []

    with browser() as chromium:
        guest_page = new_page(chromium, live_server_url, errors=errors, viewport=PHONE)
        host_page = new_page(chromium, live_server_url, errors=errors)
        login(guest_page, guest.email)
        login(host_page, host.email)
        _open_room(guest_page, negotiation.pk)
        _wait_thread(guest_page, last)
        seen = guest_page.locator(f'.thread [data-receipt="{last}"]', has_text="Seen")
        guest_page.wait_for_timeout(500)
        assert seen.count() == 0  # the host has not looked yet

        _open_room(host_page, negotiation.pk)  # the host reads: one read frame, last seq
        seen.wait_for()
        host_page.close()
        guest_page.get_by_text("Host is away").wait_for()

        guest_page.reload()
        guest_page.locator('[data-testid="room-conn"][data-state="open"]').wait_for()
        seen.wait_for()  # from the stored read mark, with nobody reading anything new
        guest_page.get_by_text("Host is away").wait_for()
        guest_page.screenshot(path=str(shots / "23-seen-after-reload-phone.png"))
        _no_console_errors(errors)


def test_d_presence_is_per_person_across_tabs(live_server_url, shots):
    negotiation, host, guest = _negotiation()
    errors: list[str] = []

    with browser() as chromium:
        guest_page = new_page(chromium, live_server_url, errors=errors)
        host_page = new_page(chromium, live_server_url, errors=errors)
        login(guest_page, guest.email)
        login(host_page, host.email)
        host_tab2 = host_page.context.new_page()  # same cookies: the same person
        _open_room(guest_page, negotiation.pk)
        _open_room(host_page, negotiation.pk)
        _open_room(host_tab2, negotiation.pk)
        presence = guest_page.get_by_test_id("presence")
        guest_page.get_by_text("Host is online").wait_for()

        host_tab2.close()  # the host still has the room open in the other tab
        guest_page.wait_for_timeout(2000)
        assert presence.inner_text() == "Host is online"
        assert presence.get_attribute("data-state") == "online"
        guest_page.screenshot(path=str(shots / "24-presence-one-tab-closed.png"))

        host_page.close()  # the last one
        guest_page.get_by_text("Host is away").wait_for()
        _no_console_errors(errors)


def test_e_refusals_transient_ones_retried_then_offered_to_retry_others_said_in_words(
    live_server_url, shots
):
    negotiation, host, guest = _negotiation()
    negotiation_services.negotiation_offer(
        negotiation_id=negotiation.pk, user=host, amount=Decimal("340.00")
    )
    negotiation.refresh_from_db()
    start = negotiation.last_seq
    text = "Is late check-out possible?"
    errors: list[str] = []
    busy = {"on": True, "refused": 0}

    def route(ws):
        server = ws.connect_to_server()

        def from_page(message):
            frame = json.loads(message)
            if busy["on"] and frame.get("type") == "message":
                busy["refused"] += 1  # as the server says when it cannot write right now
                ws.send(json.dumps({
                    "type": "error", "code": "service_unavailable",
                    "detail": "The service is busy.", "client_id": frame["client_id"],
                }))  # fmt: skip
                return
            server.send(message)

        ws.on_message(from_page)

    with browser() as chromium:
        page = new_page(chromium, live_server_url, errors=errors, viewport=PHONE)
        login(page, guest.email)
        page.route_web_socket(re.compile(r"/ws/negotiations/"), route)
        _open_room(page, negotiation.pk)
        _wait_thread(page, start)

        # A refusal that is the user's: the offer card says so in words; the amount stays.
        page.get_by_label(re.compile("Your counter-offer")).fill("270")
        page.get_by_role("button", name="Counter").click()
        refused = page.locator('.outbox .item.failed[data-kind="offer"]')
        refused.wait_for()
        assert refused.inner_text().count("Not sent") == 1
        assert page.get_by_test_id("room-error").is_visible()
        assert page.get_by_label(re.compile("Your counter-offer")).input_value() == "270"

        # A transient one: resent by itself with backoff, then "Not sent" with Retry.
        page.get_by_label("Message", exact=True).fill(text)
        page.get_by_role("button", name="Send").click()
        pending = page.locator('.outbox .item[data-kind="message"]')
        pending.get_by_text(re.compile("sending", re.I)).wait_for()
        failed = page.locator('.outbox .item.failed[data-kind="message"]')
        failed.wait_for(timeout=15_000)
        assert busy["refused"] == 5  # the first try and four automatic ones
        assert "Not sent" in failed.inner_text()
        assert page.get_by_label("Message", exact=True).input_value() == text
        refused.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "25-not-sent-phone.png"))

        busy["on"] = False
        failed.get_by_role("button", name="Retry").click()
        page.locator('.thread [data-event="message.created"]', has_text=text).wait_for()
        assert page.get_by_label("Message", exact=True).input_value() == ""

        # The refused offer gives way to the next one, which goes through.
        page.get_by_label(re.compile("Your counter-offer")).fill("310")
        page.get_by_role("button", name="Counter").click()
        page.locator('.offer-card.current[data-amount="310.00"]').wait_for()
        page.locator(".outbox .item").first.wait_for(state="detached")
        assert _bubbles(page, text) == 1
        assert _seqs(page) == list(range(1, start + 3))
        page.screenshot(path=str(shots / "26-after-retry-phone.png"))
        _no_console_errors(errors)

    assert ChatMessage.objects.filter(negotiation=negotiation, body=text).count() == 1
